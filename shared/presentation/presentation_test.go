package presentation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/presentation"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/vpverify"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

const (
	issuerURL   = "https://issuer.example"
	redirect    = "https://wallet.example/cb"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	employeeVCT = issuerURL + "/vct/employee"
)

// responseKeys is one OpenID4VP response encryption key in memory (requestkeys.Ring stands here on AWS).
type responseKeys struct {
	priv *ecdsa.PrivateKey
	pub  jwk.Key
}

func newResponseKeys(t *testing.T) *responseKeys {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := jwk.FromRaw(&priv.PublicKey)
	_ = pub.Set(jwk.KeyIDKey, "vpr-1-test")
	_ = pub.Set(jwk.AlgorithmKey, "ECDH-ES")
	_ = pub.Set(jwk.KeyUsageKey, "enc")
	return &responseKeys{priv: priv, pub: pub}
}

func (r *responseKeys) Current(context.Context) (jwk.Key, error) { return r.pub, nil }
func (r *responseKeys) PrivateKey(_ context.Context, kid string) (*ecdsa.PrivateKey, error) {
	if kid != "vpr-1-test" {
		return nil, fmt.Errorf("kid: %w", oid4vci.ErrUnknownRequestKey)
	}
	return r.priv, nil
}

type ownStatus map[int]statuslist.Status

func (o ownStatus) StatusOf(_ context.Context, _ string, idx int) (statuslist.Status, error) {
	return o[idx], nil
}

type noFetch struct{}

func (noFetch) IssuerKeys(context.Context, string) (jwk.Set, error) {
	return nil, errors.New("HTTP 404")
}
func (noFetch) StatusListToken(context.Context, string) (string, error) {
	return "", errors.New("HTTP 404")
}

type nodeliver struct{}

func (nodeliver) DeliverOffer(context.Context, string, string) exchange.OfferDelivery {
	return exchange.OfferDelivery{}
}

// chainSigner is the issuer's key certified for issuer.example (x509_san_dns).
type chainSigner struct {
	*keys.LocalSigner
	chain [][]byte
}

func (c chainSigner) CertificateChain() [][]byte { return c.chain }

// fixture is the issuer (admin and wallet use cases over one memory store, the presentation step registered) and a
// holder with an employee credential this issuer issued earlier.
type fixture struct {
	t       *testing.T
	clock   *domaintest.Clock
	store   *memstore.Store
	events  *domaintest.Events
	admin   *admin.Service
	wallet  *wallet.Service
	keys    *responseKeys
	signer  keys.Signer
	holder  *ecdsa.PrivateKey
	cred    string
	status  ownStatus
	defID   string
	pdID    string
	signed  bool
	encrypt bool
}

func newFixture(t *testing.T, signed, encrypt bool, query string) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: domaintest.NewClock(time.Now().Truncate(time.Second)), events: &domaintest.Events{},
		status: ownStatus{}, signed: signed, encrypt: encrypt}
	f.store = memstore.New(memstore.WithClock(f.clock.Now), memstore.WithChanges(f.events.Record))
	local, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	f.signer = local
	if signed {
		f.signer = chainSigner{LocalSigner: local, chain: [][]byte{leafFor(t, local, "issuer.example")}}
	}
	opts := []exchange.Option{exchange.WithClock(f.clock.Now)}
	if f.admin, err = admin.New(admin.Config{IssuerURL: issuerURL}, admin.Deps{Store: f.store, Deliverer: nodeliver{}}, opts...); err != nil {
		t.Fatal(err)
	}
	v, err := vpverify.New(vpverify.Options{IssuerURL: issuerURL, OwnKeys: keys.PublicJWKS(local), OwnStatus: f.status,
		Fetcher: noFetch{}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	deps := presentation.Deps{Store: f.store, Signer: f.signer, Verifier: v, Now: f.clock.Now}
	if encrypt {
		f.keys = newResponseKeys(t)
		deps.Keys = f.keys
	}
	step, err := presentation.New(presentation.Config{ResponseURI: oid4vci.DefaultEndpoints(issuerURL).DirectPost}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if f.wallet, err = wallet.New(wallet.Config{IssuerURL: issuerURL}, wallet.Deps{Store: f.store, Signer: local,
		HolderAuthenticators: []wallet.HolderAuthenticator{step}}, opts...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	def, err := f.admin.DefineCredential(ctx, definition.Spec{Label: "Certificate of registration", VCT: "Registration",
		ExpirationInDays: 30, Claims: []definition.Claim{{Path: []any{"company"}}}})
	if err != nil {
		t.Fatal(err)
	}
	f.defID = def.ID
	pd, err := f.admin.DefinePresentation(ctx, presentationdef.Spec{Label: "Employee", DCQLQuery: json.RawMessage(query)})
	if err != nil {
		t.Fatal(err)
	}
	f.pdID = pd.ID
	if f.holder, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	hk, _ := jwk.FromRaw(&f.holder.PublicKey)
	claims := map[string]any{"given_name": "Erika", "employer": "ACME"}
	issued, err := sdjwt.IssueVC(ctx, local, sdjwt.VC{Issuer: issuerURL, Type: employeeVCT, IssuedAt: f.clock.Now().Add(-time.Hour),
		Expiry: f.clock.Now().Add(24 * time.Hour), HolderKey: hk, Claims: claims, Policy: sdjwt.AllTopLevel(claims),
		Status: &sdjwt.StatusReference{Index: 7, URI: issuerURL + "/status-lists/0"}})
	if err != nil {
		t.Fatal(err)
	}
	f.cred = issued.SDJWT
	return f
}

func leafFor(t *testing.T, s *keys.LocalSigner, host string) []byte {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, s.CryptoSigner(context.Background()).Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

const employeeQuery = `{"credentials": [{"id": "employee", "format": "dc+sd-jwt",
  "meta": {"vct_values": ["https://issuer.example/vct/employee"]},
  "claims": [{"path": ["employer"], "values": ["ACME"]}]}]}`

// issue makes a dynamic credential request and returns its record and offer id.
func (f *fixture) issue(transactionData string) (exchange.Record, string) {
	f.t.Helper()
	req := admin.IssueRequest{IssuanceMode: "Deferred", CredentialDefinitionID: f.defID, PresentationDefinitionID: f.pdID}
	if transactionData != "" {
		req.TransactionData = json.RawMessage(transactionData)
	}
	rec, err := f.admin.IssueCredential(context.Background(), req)
	if err != nil {
		f.t.Fatal(err)
	}
	u, _ := url.Parse(rec.CredentialOffer)
	ref := u.Query().Get("credential_offer_uri")
	return rec, ref[strings.LastIndex(ref, "/")+1:]
}

// request is the OpenID4VP request the authorization endpoint sent the wallet.
type request struct {
	clientID, nonce, state, responseURI, responseMode string
	transactionData                                   []string
	encKey                                            jwk.Key
	dcql                                              bool
}

// authorize pushes and authorizes with the offer's issuer_state and reads the presentation request.
func (f *fixture) authorize(offerID string) *request {
	f.t.Helper()
	ctx := context.Background()
	offer, err := f.wallet.FetchOffer(ctx, offerID)
	if err != nil {
		f.t.Fatal(err)
	}
	if offer.Grants.PreAuthorizedCode != nil || offer.Grants.AuthorizationCode == nil {
		f.t.Fatalf("a dynamic credential request's offer must carry only the authorization code grant: %+v", offer.Grants)
	}
	form := url.Values{"response_type": {"code"}, "client_id": {"wallet"}, "redirect_uri": {redirect},
		"code_challenge": {oid4vci.PKCEChallenge(verifier)}, "code_challenge_method": {"S256"},
		"scope": {f.defID}, "state": {"wallet-state"}, "issuer_state": {offer.Grants.AuthorizationCode.IssuerState}}
	par, err := oid4vci.ParsePushedAuthorizationRequest(form.Encode(), "application/x-www-form-urlencoded", issuerURL)
	if err != nil {
		f.t.Fatal(err)
	}
	pushed, err := f.wallet.PushAuthorizationRequest(ctx, par, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	step, err := f.wallet.Authorize(ctx, &oid4vci.AuthorizationEndpointRequest{ClientID: "wallet", RequestURI: pushed.RequestURI})
	if err != nil {
		f.t.Fatal(err)
	}
	u, _ := url.Parse(step.RedirectURL)
	q := u.Query()
	params := map[string]any{}
	if f.signed {
		if q.Get("client_id") != "x509_san_dns:issuer.example" || q.Get("request") == "" || len(q) != 2 {
			f.t.Fatalf("signed request by value expected: %v", q)
		}
		msg, err := jws.Parse([]byte(q.Get("request")))
		if err != nil {
			f.t.Fatal(err)
		}
		h := msg.Signatures()[0].ProtectedHeaders()
		if h.Type() != "oauth-authz-req+jwt" || h.X509CertChain() == nil || h.X509CertChain().Len() != 1 {
			f.t.Fatalf("request object header %v", h)
		}
		payload, err := jws.Verify([]byte(q.Get("request")), jws.WithKey(jwa.ES256, f.signer.(chainSigner).PublicJWK()))
		if err != nil {
			f.t.Fatal(err)
		}
		_ = json.Unmarshal(payload, &params)
	} else {
		if !strings.HasPrefix(q.Get("client_id"), "redirect_uri:") || q.Get("request") != "" {
			f.t.Fatalf("unsigned request expected: %v", q)
		}
		for k := range q {
			params[k] = q.Get(k)
			var v any
			if json.Unmarshal([]byte(q.Get(k)), &v) == nil {
				if _, isObj := v.(map[string]any); isObj {
					params[k] = v
				}
				if _, isArr := v.([]any); isArr {
					params[k] = v
				}
			}
		}
	}
	r := &request{clientID: fmt.Sprint(params["client_id"]), nonce: fmt.Sprint(params["nonce"]), state: fmt.Sprint(params["state"]),
		responseURI: fmt.Sprint(params["response_uri"]), responseMode: fmt.Sprint(params["response_mode"])}
	_, r.dcql = params["dcql_query"].(map[string]any)
	if tds, ok := params["transaction_data"].([]any); ok {
		for _, td := range tds {
			r.transactionData = append(r.transactionData, td.(string))
		}
	}
	if meta, ok := params["client_metadata"].(map[string]any); ok {
		if set, ok := meta["jwks"].(map[string]any); ok {
			b, _ := json.Marshal(set["keys"].([]any)[0])
			r.encKey, _ = jwk.ParseKey(b)
		}
	}
	if r.responseURI != issuerURL+"/direct_post" || r.nonce == "" || r.state == "" || params["response_type"] != "vp_token" {
		f.t.Fatalf("request parameters %v", params)
	}
	return r
}

// present answers r with the holder's credential, its KB-JWT changed by kb (aud, nonce, extra claims).
func (f *fixture) present(r *request, aud, nonce string, extra map[string]any) (*wallet.AuthorizationStep, error) {
	f.t.Helper()
	p, err := sdjwt.Present(f.cred, func(sdjwt.Disclosure) bool { return true },
		&sdjwt.KeyBindingInput{Key: f.holder, Audience: aud, Nonce: nonce, IssuedAt: f.clock.Now(), Extra: extra})
	if err != nil {
		f.t.Fatal(err)
	}
	token, _ := json.Marshal(map[string][]string{"employee": {p}})
	return f.post(r.state, string(token), r)
}

// post sends vp_token for state as the request's response mode asks.
func (f *fixture) post(state, vpToken string, r *request) (*wallet.AuthorizationStep, error) {
	f.t.Helper()
	ctx := context.Background()
	var resp *oid4vci.HolderResponse
	if r.responseMode == "direct_post.jwt" {
		payload, _ := json.Marshal(map[string]any{"state": state, "vp_token": json.RawMessage(vpToken)})
		hdr := jwe.NewHeaders()
		_ = hdr.Set(jwe.KeyIDKey, r.encKey.KeyID())
		enc, err := jwe.Encrypt(payload, jwe.WithKey(jwa.ECDH_ES, r.encKey, jwe.WithPerRecipientHeaders(hdr)),
			jwe.WithContentEncryption(jwa.A128GCM))
		if err != nil {
			f.t.Fatal(err)
		}
		var ok bool
		resp, ok, err = presentation.OpenResponse(ctx, url.Values{"response": {string(enc)}}, f.keys)
		if err != nil || !ok {
			f.t.Fatalf("open response: %v %v", ok, err)
		}
	} else {
		var err error
		resp, err = oid4vci.ParseHolderResponse(url.Values{"state": {state}, "vp_token": {vpToken}}.Encode(), "application/x-www-form-urlencoded", openid4vp.MaxPostBytes)
		if err != nil {
			f.t.Fatal(err)
		}
	}
	return f.wallet.RespondToHolderRequest(ctx, resp)
}

func codeOf(t *testing.T, step *wallet.AuthorizationStep) (code, errCode, desc string) {
	t.Helper()
	if !step.InBody {
		t.Fatal("the answer to an OpenID4VP response must go in the body (redirect_uri), not in a 302")
	}
	u, err := url.Parse(step.RedirectURL)
	if err != nil || !strings.HasPrefix(step.RedirectURL, redirect+"?") {
		t.Fatalf("redirect %q", step.RedirectURL)
	}
	q := u.Query()
	if q.Get("iss") != issuerURL || q.Get("state") != "wallet-state" {
		t.Fatalf("redirect %q lacks iss or the wallet's state", step.RedirectURL)
	}
	return q.Get("code"), q.Get("error"), q.Get("error_description")
}

// TestDynamicCredentialRequest: an offer with a presentation definition carries only the authorization code
// grant; the authorization endpoint asks the wallet for an OpenID4VP presentation (signed request object by value
// with x509_san_dns when the issuer's key is certified for its host, else the redirect_uri prefix unsigned;
// direct_post.jwt when response keys exist); a verified presentation issues the code and the record and the event
// show what was presented.
func TestDynamicCredentialRequest(t *testing.T) {
	for _, c := range []struct {
		name            string
		signed, encrypt bool
	}{{"x509_san_dns, direct_post.jwt", true, true}, {"redirect_uri, direct_post", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.signed, c.encrypt, employeeQuery)
			rec, offerID := f.issue(`{"type": "registration_fee", "amount": "25.00 EUR"}`)
			if rec.CodeHash != "" || rec.IsPreAuthorised || rec.IssuerStateHash == "" || rec.PresentationDefinitionID != f.pdID ||
				len(rec.Pointers) != 0 || rec.Presentation == nil || string(rec.Presentation.TransactionData) != `{"type":"registration_fee","amount":"25.00 EUR"}` {
				t.Fatalf("issued record %+v", rec)
			}
			// The organisation may delete the presentation definition: the exchange keeps its copy.
			if err := f.admin.DeletePresentationDefinition(context.Background(), f.pdID); err != nil {
				t.Fatal(err)
			}
			r := f.authorize(offerID)
			if c.encrypt != (r.responseMode == "direct_post.jwt") || !r.dcql || len(r.transactionData) != 1 {
				t.Fatalf("request %+v", r)
			}
			td := r.transactionData[0]
			hashes := map[string]any{"transaction_data_hashes": []string{openid4vpHash(td)}}
			step, err := f.present(r, r.clientID, r.nonce, hashes)
			if err != nil {
				t.Fatal(err)
			}
			code, e, d := codeOf(t, step)
			if code == "" {
				t.Fatalf("no code: %s %s", e, d)
			}
			got, _ := f.store.GetExchange(context.Background(), rec.CredentialExchangeID)
			claims, _ := got.Holder["presentedClaims"].(map[string]any)
			list, _ := claims["employee"].([]any)
			if got.PresentationDefinitionID != f.pdID || got.PresentationExchangeID != presentation.ExchangeID(r.state) ||
				len(list) != 1 || list[0].(map[string]any)["employer"] != "ACME" || got.Holder["authenticatedWith"] != "openid4vp" ||
				got.AuthorizationCode == nil || got.Status != exchange.StatusOfferReceived {
				t.Fatalf("record after the presentation: %+v holder %v", got, got.Holder)
			}
			var verified *exchange.Event
			for _, e := range f.events.All() {
				if e.DetailType == exchange.EventPresentationVerified {
					verified = &e
				}
			}
			if verified == nil || verified.Detail.Holder["presentedCredentials"] == nil || verified.Detail.PresentationExchangeID == "" {
				t.Fatalf("no presentation_verified event naming the presentation: %v", f.events.DetailTypes())
			}
			if verified.Detail.Holder["presentedClaims"] != nil {
				t.Fatal("the presentation_verified event carries the presented claims (personal data)")
			}
			// Replayed response: the session was answered.
			if _, err := f.present(r, r.clientID, r.nonce, hashes); err == nil || !strings.Contains(err.Error(), "unknown, expired or already answered") {
				t.Fatalf("replayed response: %v", err)
			}
		})
	}
}

func openid4vpHash(td string) string {
	sum := sha256Sum([]byte(td))
	return base64.RawURLEncoding.EncodeToString(sum)
}

// TestRefusedPresentations: each refusal is access_denied to the wallet's redirect_uri with the reason, the
// record's presentationFailure says why (and credential.presentation_failed is published), no code is issued, and
// the session is over.
func TestRefusedPresentations(t *testing.T) {
	cases := []struct {
		name   string
		query  string
		td     string
		answer func(f *fixture, r *request) (*wallet.AuthorizationStep, error)
		reason string
	}{
		{name: "wrong nonce", query: employeeQuery, answer: func(f *fixture, r *request) (*wallet.AuthorizationStep, error) {
			return f.present(r, r.clientID, "not-the-nonce", nil)
		}, reason: "nonce does not match"},
		{name: "wrong audience", query: employeeQuery, answer: func(f *fixture, r *request) (*wallet.AuthorizationStep, error) {
			return f.present(r, "x509_san_dns:verifier.example", r.nonce, nil)
		}, reason: "aud does not match"},
		{name: "missing transaction_data_hashes", query: employeeQuery, td: `{"type": "fee"}`, answer: func(f *fixture, r *request) (*wallet.AuthorizationStep, error) {
			return f.present(r, r.clientID, r.nonce, nil)
		}, reason: "transaction data is not confirmed"},
		{name: "wrong transaction_data_hashes", query: employeeQuery, td: `{"type": "fee"}`, answer: func(f *fixture, r *request) (*wallet.AuthorizationStep, error) {
			return f.present(r, r.clientID, r.nonce, map[string]any{"transaction_data_hashes": []string{openid4vpHash("other")}})
		}, reason: "transaction data is not confirmed"},
		{name: "revoked credential", query: employeeQuery, answer: func(f *fixture, r *request) (*wallet.AuthorizationStep, error) {
			f.status[7] = statuslist.Invalid
			return f.present(r, r.clientID, r.nonce, nil)
		}, reason: "revoked"},
		{name: "claims not matching", query: strings.Replace(employeeQuery, `"values": ["ACME"]`, `"values": ["Umbrella"]`, 1),
			answer: func(f *fixture, r *request) (*wallet.AuthorizationStep, error) {
				return f.present(r, r.clientID, r.nonce, nil)
			}, reason: "expected values"},
		{name: "wallet declines", query: employeeQuery, answer: func(f *fixture, r *request) (*wallet.AuthorizationStep, error) {
			resp, _ := oid4vci.ParseHolderResponse(url.Values{"state": {r.state}, "error": {"access_denied"}}.Encode(), "application/x-www-form-urlencoded", openid4vp.MaxPostBytes)
			return f.wallet.RespondToHolderRequest(context.Background(), resp)
		}, reason: "declined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, false, false, c.query)
			rec, offerID := f.issue(c.td)
			r := f.authorize(offerID)
			step, err := c.answer(f, r)
			if err != nil {
				t.Fatal(err)
			}
			code, e, d := codeOf(t, step)
			if code != "" || e != "access_denied" || !strings.Contains(d, c.reason) {
				t.Fatalf("answer code %q error %q %q, want access_denied with %q", code, e, d, c.reason)
			}
			got, _ := f.store.GetExchange(context.Background(), rec.CredentialExchangeID)
			if got.PresentationFailure == nil || !strings.Contains(got.PresentationFailure.Reason, c.reason) ||
				got.AuthorizationCode != nil || got.PresentationExchangeID != "" || strings.Contains(got.PresentationFailure.Reason, "Erika") {
				t.Fatalf("record %+v failure %+v", got, got.PresentationFailure)
			}
			if types := f.events.DetailTypes(); !slices.Contains(types, exchange.EventPresentationFailed) {
				t.Fatalf("events %v", types)
			}
			if _, err := f.present(r, r.clientID, r.nonce, nil); err == nil {
				t.Fatal("the session survived a refused answer")
			}
		})
	}
}

// TestResponseForAnotherExchange: a presentation made for one exchange's request, posted with another exchange's
// state, is refused (its KB-JWT carries the other request's nonce).
func TestResponseForAnotherExchange(t *testing.T) {
	f := newFixture(t, false, false, employeeQuery)
	_, offerA := f.issue("")
	recB, offerB := f.issue("")
	a := f.authorize(offerA)
	b := f.authorize(offerB)
	p, err := sdjwt.Present(f.cred, func(sdjwt.Disclosure) bool { return true },
		&sdjwt.KeyBindingInput{Key: f.holder, Audience: a.clientID, Nonce: a.nonce, IssuedAt: f.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	token, _ := json.Marshal(map[string][]string{"employee": {p}})
	step, err := f.post(b.state, string(token), b)
	if err != nil {
		t.Fatal(err)
	}
	if code, e, d := codeOf(t, step); code != "" || e != "access_denied" || !strings.Contains(d, "nonce") {
		t.Fatalf("answer %q %q %q", code, e, d)
	}
	got, _ := f.store.GetExchange(context.Background(), recB.CredentialExchangeID)
	if got.AuthorizationCode != nil {
		t.Fatal("a code was issued for the other exchange")
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// TestWalletInitiatedWithPresentation: a definition that allows wallet-initiated issuance and names a
// presentation definition makes the wallet present first; the verified presentation creates the Deferred exchange,
// whose record and credential.offer_received event carry the presented claims for the organisation to complete it.
func TestWalletInitiatedWithPresentation(t *testing.T) {
	f := newFixture(t, true, true, employeeQuery)
	ctx := context.Background()
	def, err := f.admin.DefineCredential(ctx, definition.Spec{Label: "Registration", VCT: "WalletRegistration",
		ExpirationInDays: 30, AuthorizationPolicy: definition.AuthorizationPolicy{WalletInitiated: true, PresentationDefinitionID: f.pdID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.DefineCredential(ctx, definition.Spec{Label: "x", VCT: "X", ExpirationInDays: 1,
		AuthorizationPolicy: definition.AuthorizationPolicy{WalletInitiated: true, PresentationDefinitionID: "nope"}}); err == nil ||
		!strings.HasPrefix(err.Error(), "presentationDefinitionId: ") {
		t.Fatalf("unknown presentation definition: %v", err)
	}
	form := url.Values{"response_type": {"code"}, "client_id": {"wallet"}, "redirect_uri": {redirect},
		"code_challenge": {oid4vci.PKCEChallenge(verifier)}, "code_challenge_method": {"S256"}, "scope": {def.ID},
		"state": {"wallet-state"}}
	par, err := oid4vci.ParsePushedAuthorizationRequest(form.Encode(), "application/x-www-form-urlencoded", issuerURL)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := f.wallet.PushAuthorizationRequest(ctx, par, nil)
	if err != nil {
		t.Fatal(err)
	}
	step, err := f.wallet.Authorize(ctx, &oid4vci.AuthorizationEndpointRequest{ClientID: "wallet", RequestURI: pushed.RequestURI})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(step.RedirectURL)
	payload, err := jws.Verify([]byte(u.Query().Get("request")), jws.WithKey(jwa.ES256, f.signer.(chainSigner).PublicJWK()))
	if err != nil {
		t.Fatal(err)
	}
	var params map[string]any
	_ = json.Unmarshal(payload, &params)
	meta := params["client_metadata"].(map[string]any)
	b, _ := json.Marshal(meta["jwks"].(map[string]any)["keys"].([]any)[0])
	encKey, _ := jwk.ParseKey(b)
	r := &request{clientID: params["client_id"].(string), nonce: params["nonce"].(string), state: params["state"].(string),
		responseMode: params["response_mode"].(string), encKey: encKey}
	step, err = f.present(r, r.clientID, r.nonce, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, e, d := codeOf(t, step); code == "" {
		t.Fatalf("no code: %s %s", e, d)
	}
	var created *exchange.Event
	for _, e := range f.events.All() {
		if e.DetailType == "credential.offer_received" {
			created = &e
		}
	}
	if created == nil || created.Detail.IssuanceMode != exchange.ModeDeferred || created.Detail.PresentationDefinitionID != f.pdID ||
		created.Detail.Holder["presentedCredentials"] == nil || created.Detail.Holder["presentedClaims"] != nil {
		t.Fatalf("the new exchange's event does not name the presentation, or carries its claims: %+v", created)
	}
	if got, err := f.store.GetExchange(context.Background(), created.Detail.CredentialExchangeID); err != nil ||
		got.Holder["presentedClaims"] == nil {
		t.Fatalf("the new exchange's record lacks the presented claims: %v", err)
	}
}
