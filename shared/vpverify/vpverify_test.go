package vpverify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/vpverify"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

const (
	ownURL      = "https://issuer.example"
	secondURL   = "https://second.example"
	untrusted   = "https://untrusted.example"
	anchoredURL = "https://anchored.example"
	clientID    = "x509_san_dns:issuer.example"
	nonce       = "n-0S6_WzA2Mj-fresh-nonce"
	employeeVCT = "https://issuer.example/vct/employee"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// fetcher serves the second issuer's keys and status lists from memory.
type fetcher struct {
	keys   map[string]jwk.Set
	tokens map[string]string
}

func (f *fetcher) IssuerKeys(_ context.Context, iss string) (jwk.Set, error) {
	if s, ok := f.keys[iss]; ok {
		return s, nil
	}
	return nil, errors.New("HTTP 404")
}

func (f *fetcher) StatusListToken(_ context.Context, uri string) (string, error) {
	if t, ok := f.tokens[uri]; ok {
		return t, nil
	}
	return "", errors.New("HTTP 404")
}

// ownStatus is this issuer's status lists.
type ownStatus map[string]statuslist.Status

func (o ownStatus) StatusOf(_ context.Context, uri string, idx int) (statuslist.Status, error) {
	return o[fmt.Sprintf("%s#%d", uri, idx)], nil
}

// chainSigner is a local key with a certificate chain (keys.ChainSigner), so its JWS carry x5c.
type chainSigner struct {
	*keys.LocalSigner
	chain [][]byte
}

func (c chainSigner) CertificateChain() [][]byte { return c.chain }

type world struct {
	t       testing.TB
	own     *keys.LocalSigner
	second  *keys.LocalSigner
	other   *keys.LocalSigner
	anchor  chainSigner
	foreign chainSigner // certified for another host by the same root
	holder  *ecdsa.PrivateKey
	holdJWK jwk.Key
	status  ownStatus
	fetch   *fetcher
	v       *vpverify.Verifier
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, status: ownStatus{}, fetch: &fetcher{keys: map[string]jwk.Set{}, tokens: map[string]string{}}}
	var err error
	for _, k := range []**keys.LocalSigner{&w.own, &w.second, &w.other} {
		if *k, err = keys.NewLocal(); err != nil {
			t.Fatal(err)
		}
	}
	w.fetch.keys[secondURL] = keys.PublicJWKS(w.second)
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test issuer root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(host string, serial int64) chainSigner {
		s, err := keys.NewLocal()
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: host},
			DNSNames: []string{host}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, root, s.CryptoSigner(context.Background()).Public(), rootKey)
		if err != nil {
			t.Fatal(err)
		}
		return chainSigner{LocalSigner: s, chain: [][]byte{der}}
	}
	w.anchor = leaf("anchored.example", 2)
	w.foreign = leaf("elsewhere.example", 3)
	anchors := wallettrust.New(wallettrust.CredentialIssuers)
	pemRoot := "-----BEGIN CERTIFICATE-----\n" + b64lines(rootDER) + "-----END CERTIFICATE-----\n"
	if err := anchors.Add("roots.pem", []byte(pemRoot)); err != nil {
		t.Fatal(err)
	}
	if w.holder, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if w.holdJWK, err = jwk.FromRaw(&w.holder.PublicKey); err != nil {
		t.Fatal(err)
	}
	w.v, err = vpverify.New(vpverify.Options{IssuerURL: ownURL, OwnKeys: keys.PublicJWKS(w.own), OwnStatus: w.status,
		Anchors: anchors, Fetcher: w.fetch, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func b64lines(der []byte) string {
	var b strings.Builder
	enc := []byte(base64Std(der))
	for len(enc) > 64 {
		b.Write(enc[:64])
		b.WriteByte('\n')
		enc = enc[64:]
	}
	b.Write(enc)
	b.WriteByte('\n')
	return b.String()
}

// credential issues an SD-JWT VC of iss signed by s, every claim disclosable, with a status entry at idx of the
// issuer's list 0.
func (w *world) credential(s sdjwt.Signer, iss, vct string, claims map[string]any, idx int, change func(*sdjwt.VC)) string {
	w.t.Helper()
	vc := sdjwt.VC{Issuer: iss, Type: vct, IssuedAt: now.Add(-time.Hour), Expiry: now.Add(24 * time.Hour),
		HolderKey: w.holdJWK, Claims: claims, Policy: sdjwt.AllTopLevel(claims),
		Status: &sdjwt.StatusReference{Index: int64(idx), URI: iss + "/status-lists/0"}}
	if change != nil {
		change(&vc)
	}
	out, err := sdjwt.IssueVC(context.Background(), s, vc)
	if err != nil {
		w.t.Fatal(err)
	}
	return out.SDJWT
}

// present adds a KB-JWT for aud and nonce with extra claims.
func (w *world) present(cred, aud, n string, extra map[string]any) string {
	w.t.Helper()
	p, err := sdjwt.Present(cred, func(sdjwt.Disclosure) bool { return true },
		&sdjwt.KeyBindingInput{Key: w.holder, Audience: aud, Nonce: n, IssuedAt: now, Extra: extra})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// statusToken signs a status list token of iss with entry idx set to st.
func (w *world) statusToken(s statuslist.Signer, iss string, idx int, st statuslist.Status) string {
	w.t.Helper()
	list, err := statuslist.New(2, 64)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := list.Set(idx, st); err != nil {
		w.t.Fatal(err)
	}
	tok, err := statuslist.IssueToken(context.Background(), s, list, statuslist.TokenOptions{URI: iss + "/status-lists/0",
		Issuer: iss, IssuedAt: now.Add(-time.Minute), Validity: time.Hour, TTL: time.Minute})
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

func dcqlSpec(t testing.TB, query string, trusted ...string) presentationdef.Spec {
	t.Helper()
	s := presentationdef.Spec{Label: "x", DCQLQuery: json.RawMessage(query), TrustedIssuers: trusted}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	return s
}

func vpToken(entries map[string][]string) string {
	b, _ := json.Marshal(entries)
	return string(b)
}

const employeeQuery = `{"credentials": [{"id": "employee", "format": "dc+sd-jwt",
  "meta": {"vct_values": ["https://issuer.example/vct/employee", "https://second.example/vct/employee",
                          "https://untrusted.example/vct/employee", "https://anchored.example/vct/employee"]},
  "claims": [{"path": ["given_name"]}, {"path": ["employer"], "values": ["ACME"]}]}]}`

func TestVerifyDCQL(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	claims := func() map[string]any { return map[string]any{"given_name": "Erika", "employer": "ACME"} }
	exp := vpverify.Expectation{Definition: dcqlSpec(t, employeeQuery, secondURL), ClientID: clientID, Nonce: nonce}
	own := w.credential(w.own, ownURL, employeeVCT, claims(), 1, nil)
	second := w.credential(w.second, secondURL, secondURL+"/vct/employee", claims(), 2, nil)
	w.fetch.tokens[secondURL+"/status-lists/0"] = w.statusToken(w.second, secondURL, 5, statuslist.Invalid)
	revokedSecond := w.credential(w.second, secondURL, secondURL+"/vct/employee", claims(), 5, nil)
	anchored := w.credential(w.anchor, anchoredURL, anchoredURL+"/vct/employee", claims(), 0,
		func(vc *sdjwt.VC) { vc.Status = nil })
	w.status[ownURL+"/status-lists/0#3"] = statuslist.Invalid
	w.status[ownURL+"/status-lists/0#4"] = statuslist.Suspended

	cases := []struct {
		name   string
		token  string
		exp    func(*vpverify.Expectation)
		reason string
	}{
		{name: "this issuer's credential", token: vpToken(map[string][]string{"employee": {w.present(own, clientID, nonce, nil)}})},
		{name: "a trusted issuer's credential (jwt-vc-issuer keys, status list fetched)", token: vpToken(map[string][]string{"employee": {w.present(second, clientID, nonce, nil)}})},
		{name: "an issuer under ISSUER_TRUST_ANCHORS (x5c)", token: vpToken(map[string][]string{"employee": {w.present(anchored, clientID, nonce, nil)}})},
		{name: "wrong nonce", token: vpToken(map[string][]string{"employee": {w.present(own, clientID, "another-nonce", nil)}}), reason: "nonce does not match"},
		{name: "wrong audience", token: vpToken(map[string][]string{"employee": {w.present(own, "x509_san_dns:verifier.example", nonce, nil)}}), reason: "aud does not match"},
		{name: "no key binding", token: vpToken(map[string][]string{"employee": {own}}), reason: "no key binding JWT"},
		{name: "untrusted issuer", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.other, untrusted, untrusted+"/vct/employee", claims(), 1, nil), clientID, nonce, nil)}}), reason: "not trusted"},
		{name: "trusted issuer's name, another key", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.other, secondURL, secondURL+"/vct/employee", claims(), 1, nil), clientID, nonce, nil)}}), reason: "does not verify"},
		{name: "this issuer's name, another key", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.other, ownURL, employeeVCT, claims(), 1, nil), clientID, nonce, nil)}}), reason: "does not verify"},
		{name: "second issuer not in this definition's trustedIssuers", token: vpToken(map[string][]string{"employee": {w.present(second, clientID, nonce, nil)}}),
			exp: func(e *vpverify.Expectation) { e.Definition = dcqlSpec(t, employeeQuery) }, reason: "not trusted"},
		{name: "x5c leaf for another host", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.foreign, anchoredURL, anchoredURL+"/vct/employee", claims(), 0, func(vc *sdjwt.VC) { vc.Status = nil }), clientID, nonce, nil)}}), reason: "does not name the issuer"},
		{name: "revoked (this issuer)", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.own, ownURL, employeeVCT, claims(), 3, nil), clientID, nonce, nil)}}), reason: "revoked"},
		{name: "suspended (this issuer)", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.own, ownURL, employeeVCT, claims(), 4, nil), clientID, nonce, nil)}}), reason: "suspended"},
		{name: "revoked (trusted issuer's status list)", token: vpToken(map[string][]string{"employee": {w.present(revokedSecond, clientID, nonce, nil)}}), reason: "revoked"},
		{name: "expired", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.own, ownURL, employeeVCT, claims(), 1, func(vc *sdjwt.VC) { vc.IssuedAt, vc.Expiry = now.Add(-3*time.Hour), now.Add(-time.Hour) }), clientID, nonce, nil)}}), reason: "expired"},
		{name: "claim missing", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.own, ownURL, employeeVCT, map[string]any{"given_name": "Erika"}, 1, nil), clientID, nonce, nil)}}), reason: `["employer"] is not disclosed`},
		{name: "claim value not expected", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.own, ownURL, employeeVCT, map[string]any{"given_name": "Erika", "employer": "Umbrella"}, 1, nil), clientID, nonce, nil)}}), reason: "expected values"},
		{name: "another vct", token: vpToken(map[string][]string{"employee": {w.present(w.credential(w.own, ownURL, ownURL+"/vct/other", claims(), 1, nil), clientID, nonce, nil)}}), reason: "vct_values"},
		{name: "undisclosed claim", token: vpToken(map[string][]string{"employee": {mustPresent(t, own, w.holder, func(d sdjwt.Disclosure) bool { return d.Name != "employer" })}}), reason: "is not disclosed"},
		{name: "transaction data hashes without transaction data", token: vpToken(map[string][]string{"employee": {w.present(own, clientID, nonce, map[string]any{"transaction_data_hashes": []string{"abc"}})}}), reason: "for no transaction data"},
		{name: "a query id the query does not have", token: vpToken(map[string][]string{"employee": {w.present(own, clientID, nonce, nil)}, "other": {w.present(own, clientID, nonce, nil)}}), reason: "does not have"},
		{name: "vp_token of the drafts", token: w.present(own, clientID, nonce, nil), reason: "JSON object keyed by the DCQL credential query ids"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := exp
			if c.exp != nil {
				c.exp(&e)
			}
			res, err := w.v.Verify(ctx, e, &openid4vp.Response{State: "s", VPToken: c.token})
			if c.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				got := res.Credentials[0]
				if got.QueryID != "employee" || got.Claims["employer"] != "ACME" || got.KeyThumbprint == "" || got.Claims["cnf"] != nil {
					t.Fatalf("result %+v", got)
				}
				return
			}
			var ve *vpverify.Error
			if !errors.As(err, &ve) || !strings.Contains(ve.Reason, c.reason) {
				t.Fatalf("err = %v, want a refusal with %q", err, c.reason)
			}
			if strings.Contains(ve.Reason, "Erika") || strings.Contains(ve.Reason, "Umbrella") {
				t.Fatalf("the reason quotes a claim value: %s", ve.Reason)
			}
		})
	}
}

func mustPresent(t *testing.T, cred string, holder *ecdsa.PrivateKey, include func(sdjwt.Disclosure) bool) string {
	t.Helper()
	p, err := sdjwt.Present(cred, include, &sdjwt.KeyBindingInput{Key: holder, Audience: clientID, Nonce: nonce, IssuedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyTransactionData(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	td, err := openid4vp.EncodeTransactionData(json.RawMessage(`{"type": "registration_fee", "amount": "25.00 EUR"}`), []string{"employee"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := openid4vp.EncodeTransactionData(json.RawMessage(`{"type": "registration_fee", "amount": "99.00 EUR"}`), []string{"employee"})
	exp := vpverify.Expectation{Definition: dcqlSpec(t, employeeQuery), ClientID: clientID, Nonce: nonce, TransactionData: []string{td}}
	own := w.credential(w.own, ownURL, employeeVCT, map[string]any{"given_name": "Erika", "employer": "ACME"}, 1, nil)
	for _, c := range []struct {
		name   string
		extra  map[string]any
		reason string
	}{
		{"confirmed", map[string]any{"transaction_data_hashes": []string{openid4vp.TransactionDataHash(td)}}, ""},
		{"confirmed with the alg", map[string]any{"transaction_data_hashes": []string{openid4vp.TransactionDataHash(td)}, "transaction_data_hashes_alg": "sha-256"}, ""},
		{"missing", nil, "not confirmed"},
		{"wrong hash", map[string]any{"transaction_data_hashes": []string{openid4vp.TransactionDataHash(other)}}, "not confirmed"},
		{"an extra hash", map[string]any{"transaction_data_hashes": []string{openid4vp.TransactionDataHash(td), openid4vp.TransactionDataHash(other)}}, "for no transaction data"},
		{"another alg", map[string]any{"transaction_data_hashes": []string{openid4vp.TransactionDataHash(td)}, "transaction_data_hashes_alg": "sha-512"}, "must be sha-256"},
		{"not an array", map[string]any{"transaction_data_hashes": openid4vp.TransactionDataHash(td)}, "non-empty array"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.v.Verify(ctx, exp, &openid4vp.Response{State: "s",
				VPToken: vpToken(map[string][]string{"employee": {w.present(own, clientID, nonce, c.extra)}})})
			if c.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("err = %v, want %q", err, c.reason)
			}
		})
	}
}

func peSpec(t testing.TB) presentationdef.Spec {
	t.Helper()
	spec := presentationdef.Spec{Label: "x", PresentationDefinition: json.RawMessage(`{"id": "employment", "input_descriptors": [{"id": "employee",
	  "constraints": {"fields": [{"path": ["$.vct"], "filter": {"type": "string", "const": "https://issuer.example/vct/employee"}}, {"path": ["$.employer"]}]}}]}`)}
	if err := spec.Normalize(); err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestVerifyPresentationExchange(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	exp := vpverify.Expectation{Definition: peSpec(t), ClientID: clientID, Nonce: nonce}
	p := w.present(w.credential(w.own, ownURL, employeeVCT, map[string]any{"employer": "ACME"}, 1, nil), clientID, nonce, nil)
	sub := `{"id": "s", "definition_id": "employment", "descriptor_map": [{"id": "employee", "format": "vc+sd-jwt", "path": "$"}]}`
	res, err := w.v.Verify(ctx, exp, &openid4vp.Response{State: "s", VPToken: p, PresentationSubmission: sub})
	if err != nil || res.Credentials[0].QueryID != "employee" {
		t.Fatalf("refused: %v %+v", err, res)
	}
	if _, err := w.v.Verify(ctx, exp, &openid4vp.Response{State: "s", VPToken: p}); err == nil || !strings.Contains(err.Error(), "presentation_submission is required") {
		t.Fatalf("without submission: %v", err)
	}
	arr, _ := json.Marshal([]string{p})
	arrSub := strings.Replace(sub, `"path": "$"`, `"path": "$[0]"`, 1)
	if _, err := w.v.Verify(ctx, exp, &openid4vp.Response{State: "s", VPToken: string(arr), PresentationSubmission: arrSub}); err != nil {
		t.Fatalf("array vp_token: %v", err)
	}
	wrongNonce := w.present(w.credential(w.own, ownURL, employeeVCT, map[string]any{"employer": "ACME"}, 1, nil), clientID, "other", nil)
	if _, err := w.v.Verify(ctx, exp, &openid4vp.Response{State: "s", VPToken: wrongNonce, PresentationSubmission: sub}); err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("wrong nonce: %v", err)
	}
	if _, err := w.v.Verify(ctx, exp, &openid4vp.Response{State: "s", Error: "access_denied"}); err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("wallet error: %v", err)
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// failingStatus is this issuer's status lists when the store fails or the entry is not one of them.
type failingStatus struct{ err error }

func (f failingStatus) StatusOf(context.Context, string, int) (statuslist.Status, error) {
	return 0, f.err
}

// TestOwnStatusReadFailure: when this issuer's own status list cannot be read (the store fails), the presentation
// is not refused: Verify fails with an error of its own, so the wallet gets a server error and may post again (a
// refusal ends its session with access_denied), and the store's words (operation, request id, table) never reach
// the wallet or the record as a refusal reason. A status reference that names no entry of this issuer's lists is a
// refusal, in words of its own.
func TestOwnStatusReadFailure(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	exp := vpverify.Expectation{Definition: dcqlSpec(t, employeeQuery), ClientID: clientID, Nonce: nonce}
	token := vpToken(map[string][]string{"employee": {w.present(w.credential(w.own, ownURL, employeeVCT,
		map[string]any{"given_name": "Erika", "employer": "ACME"}, 1, nil), clientID, nonce, nil)}})
	verifier := func(st vpverify.OwnStatus) *vpverify.Verifier {
		v, err := vpverify.New(vpverify.Options{IssuerURL: ownURL, OwnKeys: keys.PublicJWKS(w.own), OwnStatus: st,
			Fetcher: w.fetch, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	storeErr := errors.New("status of a credential: operation error DynamoDB: GetItem, RequestID: R3QU35T, table sdjwt-issuer-prod")
	_, err := verifier(failingStatus{storeErr}).Verify(ctx, exp, &openid4vp.Response{State: "s", VPToken: token})
	var ve *vpverify.Error
	if err == nil || errors.As(err, &ve) || !errors.Is(err, storeErr) {
		t.Fatalf("store failure: err = %v, want an error that is not a refusal", err)
	}
	for _, notOurs := range []error{fmt.Errorf("status of a credential: %w", statuslist.ErrInvalidListID),
		fmt.Errorf("status of a credential: get status at 9 of 8: %w", statuslist.ErrIndexOutOfRange)} {
		_, err := verifier(failingStatus{notOurs}).Verify(ctx, exp, &openid4vp.Response{State: "s", VPToken: token})
		if !errors.As(err, &ve) || !strings.Contains(ve.Reason, "names no entry of this issuer's status lists") ||
			strings.Contains(ve.Reason, "get status at") {
			t.Errorf("%v: err = %v, want a refusal in words of its own", notOurs, err)
		}
	}
}
