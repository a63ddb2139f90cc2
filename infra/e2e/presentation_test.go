package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

const (
	vpRedirect = "https://wallet.example/cb"
	vpVerifier = "presentation-e2e-pkce-verifier-0123456789abcdefgh"
	vpClientID = "vp-e2e-wallet"
	// anchoredIssuer is a second, test-only credential issuer trusted through ISSUER_TRUST_ANCHORS (a JWKS file
	// naming it); untrustedIssuer is trusted by nobody.
	anchoredIssuer  = "https://anchored-issuer.example"
	untrustedIssuer = "https://untrusted-issuer.example"
)

// otherIssuer is a credential issuer other than the one under test, signing with a local key.
type otherIssuer struct {
	url    string
	signer *keys.LocalSigner
}

func newOtherIssuer(t *testing.T, url string) *otherIssuer {
	t.Helper()
	s, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	return &otherIssuer{url: url, signer: s}
}

// credential issues an employee SD-JWT VC for the holder (every claim selectively disclosable, no status).
func (o *otherIssuer) credential(t *testing.T, h holder, employer string) string {
	t.Helper()
	claims := map[string]any{"given_name": "Erika", "employer": employer}
	now := time.Now()
	issued, err := sdjwt.IssueVC(context.Background(), o.signer, sdjwt.VC{Issuer: o.url, Type: o.url + "/vct/employee",
		IssuedAt: now.Add(-time.Hour), Expiry: now.Add(24 * time.Hour), HolderKey: h.pub, Claims: claims,
		Policy: sdjwt.AllTopLevel(claims)})
	if err != nil {
		t.Fatal(err)
	}
	return issued.SDJWT
}

// withIssuerTrust writes a JWKS file naming iss with its key and sets ISSUER_TRUST_ANCHORS to it.
func withIssuerTrust(t *testing.T, o *otherIssuer) func(*config.Config, aws.Config) {
	return func(cfg *config.Config, _ aws.Config) {
		t.Helper()
		set := map[string]any{"issuer": o.url, "keys": []any{o.signer.PublicJWK()}}
		b, err := json.Marshal(set)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "anchored-issuer.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.IssuerTrustAnchors = []string{path}
	}
}

// vpFixture is the issuer under test, with OpenID4VP response encryption (request encryption keys) and
// ISSUER_TRUST_ANCHORS naming the anchored issuer; a holder with an employee credential this issuer issued
// earlier; the registration definition a dynamic credential request issues; and a DCQL presentation definition
// asking for an employee credential of ACME, from this issuer, the anchored one, the listed one (a trustedIssuers
// entry, whose JWT VC issuer metadata a local server serves) or the untrusted one.
type vpFixture struct {
	t                   *testing.T
	is                  *issuer
	anchored, untrusted *otherIssuer
	listed              *otherIssuer
	holder              holder
	own                 string
	ownVCT              string
	employeeDef         string
	registrationDef     string
	walletInitiatedDef  string
	pdID                string
	// root is the root of the issuer's certificate chain (nil without one).
	root *issuercert.CA
}

func newVPFixture(t *testing.T, revocable bool, configure ...func(*config.Config, aws.Config)) *vpFixture {
	t.Helper()
	f := &vpFixture{t: t, anchored: newOtherIssuer(t, anchoredIssuer), untrusted: newOtherIssuer(t, untrustedIssuer)}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	f.listed = newOtherIssuer(t, srv.URL)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwt-vc-issuer" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "jwks": keys.PublicJWKS(f.listed.signer)})
	})
	f.is = startIssuerLogging(t, io.Discard, append([]func(*config.Config, aws.Config){withRequestEncryption(t, false),
		withIssuerTrust(t, f.anchored)}, configure...)...)
	f.employeeDef = f.definition("Employee", revocable, "employer", "given_name")
	f.registrationDef = f.definition("Registration", false, "company")
	f.ownVCT = "Employee" // a vct that is no URL is issued as written (checked below)
	f.pdID = f.presentationDefinition("ACME", nil)
	// Every definition exists before the metadata is first read (each container caches it for 30 s).
	wi := f.is.admin(http.MethodPost, "/credential-definition", map[string]any{"label": "Registration on request",
		"credentialFormat": "dc+sd-jwt", "vct": "Registration", "expirationInDays": 30, "walletInitiated": true,
		"presentationDefinitionId": f.pdID, "claims": []any{map[string]any{"path": []any{"company"}}}})
	if wi.status != http.StatusCreated && wi.status != http.StatusOK {
		t.Fatalf("create wallet-initiated definition: %d %s", wi.status, wi.raw)
	}
	f.walletInitiatedDef = wi.json["credentialDefinition"].(map[string]any)["credentialDefinitionId"].(string)
	f.holder = newHolder(t)
	_, link := f.is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": f.employeeDef,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika", "employer": "ACME"}}})
	f.own = f.credentialFor(link, f.employeeDef)
	v, err := sdjwt.Verify(f.own, sdjwt.WithIssuerKeySet(jwksOf(t, f.is)))
	if err != nil || v.Claims["vct"] != f.ownVCT {
		t.Fatalf("the holder's employee credential: %v, vct %v", err, v.Claims["vct"])
	}
	return f
}

// onLocalhost names the issuer http://localhost:<port>, a host a certificate can name as DNS SAN.
func onLocalhost(cfg *config.Config, _ aws.Config) {
	cfg.IssuerURL = strings.Replace(cfg.IssuerURL, "://127.0.0.1:", "://localhost:", 1)
}

// verifyRequestObject checks a request object passed by value: typ oauth-authz-req+jwt, ES256, signed by the key
// of its x5c leaf, whose chain (without the root) leads to root; it returns the claims and the protected header.
func verifyRequestObject(t *testing.T, jwt string, root *issuercert.CA) (claims, header map[string]any) {
	t.Helper()
	if root == nil {
		t.Fatal("a signed request object from an issuer without a certificate chain")
	}
	msg, err := jws.Parse([]byte(jwt))
	if err != nil || len(msg.Signatures()) != 1 {
		t.Fatalf("request object: %v", err)
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	chain := hdr.X509CertChain()
	if hdr.Type() != "oauth-authz-req+jwt" || hdr.Algorithm() != jwa.ES256 || chain == nil || chain.Len() < 1 {
		t.Fatalf("request object header typ %q alg %q x5c %v", hdr.Type(), hdr.Algorithm(), chain)
	}
	leaf := verifiedX5C(t, chain, root)
	payload, err := jws.Verify([]byte(jwt), jws.WithKey(jwa.ES256, leaf.PublicKey))
	if err != nil {
		t.Fatalf("request object signature: %v", err)
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(hdr)
	_ = json.Unmarshal(raw, &header)
	return claims, header
}

// verifiedX5C is the leaf of an x5c header whose chain (without the root) leads to root; anything else fails t.
func verifiedX5C(t *testing.T, chain *cert.Chain, root *issuercert.CA) *x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	for i := 0; i < chain.Len(); i++ {
		b, _ := chain.Get(i)
		der, err := base64.StdEncoding.DecodeString(string(b))
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.Cert)
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("x5c does not chain to the root: %v", err)
	}
	return certs[0]
}

func (f *vpFixture) definition(vct string, revocable bool, claims ...string) string {
	f.t.Helper()
	var cs []any
	for _, c := range claims {
		cs = append(cs, map[string]any{"path": []any{c}, "limitDisclosure": true})
	}
	r := f.is.admin(http.MethodPost, "/credential-definition", map[string]any{"label": vct, "credentialFormat": "dc+sd-jwt",
		"vct": vct, "expirationInDays": 30, "supportRevocation": revocable, "claims": cs})
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		f.t.Fatalf("create definition: %d %s", r.status, r.raw)
	}
	return r.json["credentialDefinition"].(map[string]any)["credentialDefinitionId"].(string)
}

// presentationDefinition creates a DCQL presentation definition asking for an employee credential whose employer
// is employer, trusting the listed issuer (and extra trustedIssuers).
func (f *vpFixture) presentationDefinition(employer string, extra []string) string {
	f.t.Helper()
	query := map[string]any{"credentials": []any{map[string]any{"id": "employee", "format": "dc+sd-jwt",
		"meta": map[string]any{"vct_values": []string{f.ownVCT, anchoredIssuer + "/vct/employee",
			f.listed.url + "/vct/employee", untrustedIssuer + "/vct/employee"}},
		"claims": []any{map[string]any{"path": []any{"employer"}, "values": []any{employer}}}}}}
	r := f.is.admin(http.MethodPost, "/presentation-definition", map[string]any{"label": "Employee of " + employer,
		"dcqlQuery": query, "trustedIssuers": append([]string{f.listed.url}, extra...)})
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		f.t.Fatalf("create presentation definition: %d %s", r.status, r.raw)
	}
	return r.json["presentationDefinition"].(map[string]any)["presentationDefinitionId"].(string)
}

// credentialFor runs the pre-authorized code flow of link for the fixture's holder and returns the SD-JWT VC.
func (f *vpFixture) credentialFor(link, defID string) string {
	f.t.Helper()
	access := f.is.accessToken(link)
	cred := f.is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{f.holder.proof(f.t, f.is.url, f.is.cNonce())}}})
	if cred.status != http.StatusOK {
		f.t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	return cred.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
}

// offer issues a dynamic credential request (InTime) asking for pdID, with transaction data when td is not nil,
// and returns the exchange id, the offer link and its issuer_state.
func (f *vpFixture) offer(pdID string, td any) (exID, link, issuerState string) {
	f.t.Helper()
	body := map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": f.registrationDef,
		"presentationDefinitionId": pdID, "credential": map[string]any{"credentialSubject": map[string]any{"company": "ACME Holding"}}}
	if td != nil {
		body["transactionData"] = td
	}
	exID, link = f.is.issue(body)
	offer := f.is.do(http.MethodGet, offerURI(f.t, link), nil)
	grants, _ := offer.json["grants"].(map[string]any)
	ac, _ := grants["authorization_code"].(map[string]any)
	issuerState, _ = ac["issuer_state"].(string)
	if issuerState == "" || len(grants) != 1 {
		f.t.Fatalf("a dynamic credential request offers only the authorization code grant: %s", offer.raw)
	}
	return exID, link, issuerState
}

// vpSession is an OpenID4VP request the authorization endpoint sent the wallet, as a Go wallet reads it.
type vpSession struct {
	f     *vpFixture
	query url.Values
	// params are the request's parameters (from the query, or from the verified request object), requestHeader
	// the request object's protected header.
	params          map[string]any
	requestHeader   map[string]any
	clientID        string
	nonce, state    string
	responseURI     string
	responseMode    string
	encKey          jwk.Key
	transactionData []string
}

// begin pushes the authorization request for issuerState and follows the authorization endpoint's redirect to
// the OpenID4VP request.
func (f *vpFixture) begin(issuerState string) *vpSession {
	f.t.Helper()
	return f.beginFor(issuerState, f.registrationDef)
}

// beginFor is begin for the configuration scope; without issuerState the request is wallet-initiated.
func (f *vpFixture) beginFor(issuerState, scope string) *vpSession {
	f.t.Helper()
	sum := sha256.Sum256([]byte(vpVerifier))
	form := url.Values{"response_type": {"code"}, "client_id": {vpClientID}, "redirect_uri": {vpRedirect},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"scope": {scope}, "state": {"wallet-state"}}
	if issuerState != "" {
		form.Set("issuer_state", issuerState)
	}
	par := f.is.postForm("/par", form)
	if par.status != http.StatusCreated {
		f.t.Fatalf("PAR: %d %s", par.status, par.raw)
	}
	r := f.is.do(http.MethodGet, "/authorize?"+url.Values{"client_id": {vpClientID}, "request_uri": {par.str("request_uri")}}.Encode(), nil)
	if r.status != http.StatusFound {
		f.t.Fatalf("authorize: %d %s", r.status, r.raw)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), vpRedirect+"?") {
		f.t.Fatalf("authorize redirects to %q", r.header.Get("Location"))
	}
	q := u.Query()
	s := &vpSession{f: f, query: q, params: map[string]any{}}
	if jwt := q.Get("request"); jwt != "" {
		s.params, s.requestHeader = verifyRequestObject(f.t, jwt, f.root)
		if q.Get("client_id") != s.params["client_id"] || len(q) != 2 {
			f.t.Fatalf("a request by value carries client_id (the request object's) and request alone: %v", q)
		}
	} else {
		for k := range q {
			var v any = q.Get(k)
			if k == "client_metadata" || k == "dcql_query" || k == "transaction_data" || k == "presentation_definition" {
				if err := json.Unmarshal([]byte(q.Get(k)), &v); err != nil {
					f.t.Fatalf("%s %q: %v", k, q.Get(k), err)
				}
			}
			s.params[k] = v
		}
	}
	str := func(k string) string { v, _ := s.params[k].(string); return v }
	s.clientID, s.nonce, s.state, s.responseURI, s.responseMode = str("client_id"), str("nonce"), str("state"),
		str("response_uri"), str("response_mode")
	meta, _ := s.params["client_metadata"].(map[string]any)
	if s.responseMode == "direct_post.jwt" {
		raw, _ := json.Marshal(meta["jwks"])
		set, err := jwk.Parse(raw)
		if err != nil || set.Len() != 1 {
			f.t.Fatalf("client_metadata.jwks %s: %v", raw, err)
		}
		s.encKey, _ = set.Key(0)
	}
	tds, _ := s.params["transaction_data"].([]any)
	for _, td := range tds {
		s.transactionData = append(s.transactionData, td.(string))
	}
	return s
}

// present posts a presentation of cred (every disclosure) with a KB-JWT by key for aud and nonce (extra KB-JWT
// claims: transaction_data_hashes) as the request's response mode asks.
func (s *vpSession) present(cred string, key *ecdsa.PrivateKey, aud, nonce string, extra map[string]any) *response {
	s.f.t.Helper()
	p, err := sdjwt.Present(cred, func(sdjwt.Disclosure) bool { return true },
		&sdjwt.KeyBindingInput{Key: key, Audience: aud, Nonce: nonce, IssuedAt: time.Now(), Extra: extra})
	if err != nil {
		s.f.t.Fatal(err)
	}
	token, _ := json.Marshal(map[string][]string{"employee": {p}})
	return s.post(s.state, string(token))
}

// hashes are the KB-JWT claims confirming the request's transaction data.
func (s *vpSession) hashes() map[string]any {
	var hs []string
	for _, td := range s.transactionData {
		sum := sha256.Sum256([]byte(td))
		hs = append(hs, base64.RawURLEncoding.EncodeToString(sum[:]))
	}
	return map[string]any{"transaction_data_hashes": hs}
}

// post sends vp_token for state: encrypted to client_metadata.jwks (direct_post.jwt) or in the clear.
func (s *vpSession) post(state, vpToken string) *response {
	s.f.t.Helper()
	if s.responseMode != "direct_post.jwt" {
		return s.f.is.postForm(strings.TrimPrefix(s.responseURI, s.f.is.url), url.Values{"state": {state}, "vp_token": {vpToken}})
	}
	payload, _ := json.Marshal(map[string]any{"state": state, "vp_token": json.RawMessage(vpToken)})
	return s.f.is.postForm(strings.TrimPrefix(s.responseURI, s.f.is.url), url.Values{"response": {s.encrypt(payload)}})
}

func (s *vpSession) encrypt(payload []byte) string {
	s.f.t.Helper()
	hdr := jwe.NewHeaders()
	_ = hdr.Set(jwe.KeyIDKey, s.encKey.KeyID())
	enc, err := jwe.Encrypt(payload, jwe.WithKey(jwa.ECDH_ES, s.encKey, jwe.WithPerRecipientHeaders(hdr)),
		jwe.WithContentEncryption(jwa.A128GCM))
	if err != nil {
		s.f.t.Fatal(err)
	}
	return string(enc)
}

// answer is the query of the redirect_uri the response_uri answered with (200, JSON, OpenID4VP 1.0 section 8.2).
func (s *vpSession) answer(r *response) url.Values {
	s.f.t.Helper()
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		s.f.t.Fatalf("response_uri answered %d %s %v, want 200 with redirect_uri", r.status, r.raw, r.header)
	}
	u, err := url.Parse(r.str("redirect_uri"))
	if err != nil || !strings.HasPrefix(u.String(), vpRedirect+"?") {
		s.f.t.Fatalf("redirect_uri %q", r.str("redirect_uri"))
	}
	q := u.Query()
	if q.Get("iss") != s.f.is.url || q.Get("state") != "wallet-state" {
		s.f.t.Fatalf("authorization response %v lacks iss or the wallet's state", q)
	}
	return q
}

// refused checks that the response_uri answered r with access_denied saying reason, no code, and that the
// exchange exID records the refusal (presentationFailure saying reason, never the presented value secret) and
// nothing presented, its offer still open.
func (s *vpSession) refused(r *response, exID, reason, secret string) {
	t := s.f.t
	t.Helper()
	q := s.answer(r)
	if q.Get("code") != "" || q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), reason) {
		t.Fatalf("answer %v, want access_denied saying %q", q, reason)
	}
	rec := s.f.is.history(exID)
	failure, _ := rec["presentationFailure"].(map[string]any)
	if got, _ := failure["reason"].(string); !strings.Contains(got, reason) || strings.Contains(got, secret) ||
		rec["presentationExchangeId"] != "" || rec["status"] != "offer_sent" && rec["status"] != "offer_received" {
		t.Fatalf("record %v", rec)
	}
}

// redeem exchanges the code for a token and asks for the registration credential.
func (f *vpFixture) redeem(code string) string {
	f.t.Helper()
	tok := f.is.postForm("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {vpVerifier}, "redirect_uri": {vpRedirect}, "client_id": {vpClientID}})
	if tok.status != http.StatusOK {
		f.t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	cred := f.is.postJSON("/credential", tok.str("access_token"), map[string]any{"credential_configuration_id": f.registrationDef,
		"proofs": map[string]any{"jwt": []string{f.holder.proof(f.t, f.is.url, f.is.cNonce())}}})
	if cred.status != http.StatusOK {
		f.t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	return cred.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
}

// TestDynamicCredentialRequestOverHTTP: the organisation creates a presentation definition and an offer with it
// (with transaction data); the offer carries only the authorization code grant; the authorization endpoint sends
// the wallet an OpenID4VP request (redirect_uri client identifier, direct_post.jwt to the response key in
// client_metadata, dcql_query, transaction_data); the holder presents each kind of trusted credential - this
// issuer's own, the anchored issuer's (ISSUER_TRUST_ANCHORS) and the listed issuer's (trustedIssuers, its keys
// fetched from its JWT VC issuer metadata) - and gets the code, the token and the credential; the record shows what
// was presented and how it was trusted.
func TestDynamicCredentialRequestOverHTTP(t *testing.T) {
	f := newVPFixture(t, false)
	for _, c := range []struct {
		name, trustedBy string
		cred            func() string
	}{
		{"this issuer", "this issuer", func() string { return f.own }},
		{"ISSUER_TRUST_ANCHORS", "ISSUER_TRUST_ANCHORS", func() string { return f.anchored.credential(t, f.holder, "ACME") }},
		{"trustedIssuers", "trustedIssuers", func() string { return f.listed.credential(t, f.holder, "ACME") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			exID, _, issuerState := f.offer(f.pdID, map[string]any{"type": "registration_fee", "amount": "25.00 EUR"})
			if rec := f.is.history(exID); rec["isPreAuthorised"] != false || rec["presentationDefinitionId"] != f.pdID {
				t.Fatalf("issued record %v", rec)
			}
			s := f.begin(issuerState)
			if s.clientID != "redirect_uri:"+f.is.url+"/direct_post" || s.responseMode != "direct_post.jwt" ||
				s.params["response_type"] != "vp_token" || s.params["dcql_query"] == nil || len(s.transactionData) != 1 ||
				len(s.nonce) < 32 || s.query.Get("request") != "" {
				t.Fatalf("OpenID4VP request %v", s.query)
			}
			q := s.answer(s.present(c.cred(), f.holder.priv, s.clientID, s.nonce, s.hashes()))
			if q.Get("code") == "" {
				t.Fatalf("no code: %v", q)
			}
			cred := f.redeem(q.Get("code"))
			if v, err := sdjwt.Verify(cred, sdjwt.WithIssuerKeySet(jwksOf(t, f.is))); err != nil || v.Claims["company"] != "ACME Holding" {
				t.Fatalf("issued credential: %v %v", err, v)
			}
			rec := f.is.history(exID)
			holder, _ := rec["holder"].(map[string]any)
			claims, _ := holder["presentedClaims"].(map[string]any)
			list, _ := claims["employee"].([]any)
			creds, _ := holder["presentedCredentials"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["employer"] != "ACME" || len(creds) != 1 ||
				creds[0].(map[string]any)["trustedBy"] != c.trustedBy || rec["presentationExchangeId"] == "" ||
				rec["presentationDefinitionId"] != f.pdID || rec["status"] != "credential_issued" {
				t.Fatalf("record %v", rec)
			}
		})
	}
}

// TestDynamicCredentialRequestSignedOverHTTP: when the issuer's signing key is certified for its host
// (ISSUER_CERT_CHAIN, a leaf naming localhost as DNS SAN), the OpenID4VP request is a request object signed by
// that key, with x5c, passed by value under the client identifier x509_san_dns:localhost (aud
// https://self-issued.me/v2); a presentation whose KB-JWT names that client_id goes through.
func TestDynamicCredentialRequestSignedOverHTTP(t *testing.T) {
	var root *issuercert.CA
	f := newVPFixture(t, false, onLocalhost, withChain(t, &root, nil))
	f.root = root
	_, _, issuerState := f.offer(f.pdID, map[string]any{"type": "registration_fee", "amount": "25.00 EUR"})
	s := f.begin(issuerState)
	if s.clientID != "x509_san_dns:localhost" || s.params["aud"] != "https://self-issued.me/v2" ||
		s.params["iss"] != nil && s.params["iss"] != s.clientID || s.responseURI != f.is.url+"/direct_post" ||
		s.responseMode != "direct_post.jwt" || s.params["dcql_query"] == nil || len(s.transactionData) != 1 {
		t.Fatalf("signed OpenID4VP request %v", s.params)
	}
	// A key binding for the redirect_uri client identifier is for another verifier.
	q := s.answer(s.present(f.own, f.holder.priv, "redirect_uri:"+f.is.url+"/direct_post", s.nonce, s.hashes()))
	if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "aud does not match") {
		t.Fatalf("answer %v", q)
	}
	_, _, issuerState = f.offer(f.pdID, map[string]any{"type": "registration_fee", "amount": "25.00 EUR"})
	s = f.begin(issuerState)
	q = s.answer(s.present(f.own, f.holder.priv, s.clientID, s.nonce, s.hashes()))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	if cred := f.redeem(q.Get("code")); cred == "" {
		t.Fatal("no credential")
	}
}

// TestDynamicCredentialRequestRefusalsOverHTTP: each refusal reaches the wallet as access_denied in the
// response_uri's answer, records presentationFailure with the reason and issues no code; the session is over
// (the same response again finds no session: 400). Wrong nonce, wrong audience, missing and wrong
// transaction_data_hashes, a revoked credential, an untrusted issuer, claims not matching, a presentation in the
// clear where encryption is offered, a response for another exchange; and what the endpoint itself refuses: a
// replayed response, an unknown state, a JWE to an unknown key, a body with a parameter twice.
func TestDynamicCredentialRequestRefusalsOverHTTP(t *testing.T) {
	f := newVPFixture(t, true)
	umbrella := f.presentationDefinition("Umbrella", nil)
	td := map[string]any{"type": "registration_fee", "amount": "25.00 EUR"}
	cases := []struct {
		name   string
		pd     string
		td     any
		answer func(s *vpSession) *response
		reason string
	}{
		{"wrong nonce", f.pdID, nil, func(s *vpSession) *response {
			return s.present(f.own, f.holder.priv, s.clientID, "not-the-nonce", nil)
		}, "nonce does not match"},
		{"wrong audience", f.pdID, nil, func(s *vpSession) *response {
			return s.present(f.own, f.holder.priv, "x509_san_dns:verifier.example", s.nonce, nil)
		}, "aud does not match"},
		{"missing transaction_data_hashes", f.pdID, td, func(s *vpSession) *response {
			return s.present(f.own, f.holder.priv, s.clientID, s.nonce, nil)
		}, "transaction data is not confirmed"},
		{"wrong transaction_data_hashes", f.pdID, td, func(s *vpSession) *response {
			return s.present(f.own, f.holder.priv, s.clientID, s.nonce, map[string]any{"transaction_data_hashes": []string{"AAAA"}})
		}, "transaction data is not confirmed"},
		{"untrusted issuer", f.pdID, nil, func(s *vpSession) *response {
			return s.present(f.untrusted.credential(t, f.holder, "ACME"), f.holder.priv, s.clientID, s.nonce, nil)
		}, "not trusted"},
		{"claims not matching", umbrella, nil, func(s *vpSession) *response {
			return s.present(f.own, f.holder.priv, s.clientID, s.nonce, nil)
		}, "expected values"},
		{"clear response where encryption is offered", f.pdID, nil, func(s *vpSession) *response {
			s.responseMode = "direct_post"
			return s.present(f.own, f.holder.priv, s.clientID, s.nonce, nil)
		}, "must be sent encrypted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exID, _, issuerState := f.offer(c.pd, c.td)
			s := f.begin(issuerState)
			s.refused(c.answer(s), exID, c.reason, "Erika")
			again := s.present(f.own, f.holder.priv, s.clientID, s.nonce, s.hashes())
			if again.status != http.StatusBadRequest || again.str("error") != "invalid_request" {
				t.Fatalf("the session survived a refused answer: %d %s", again.status, again.raw)
			}
		})
	}

	t.Run("revoked credential", func(t *testing.T) {
		revokedEx, link := f.is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": f.employeeDef,
			"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika", "employer": "ACME"}}})
		cred := f.credentialFor(link, f.employeeDef)
		r := f.is.admin(http.MethodPut, "/credential/history/"+revokedEx+"/revocation-status", map[string]any{"revocationStatus": "Revoked"})
		if r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		exID, _, issuerState := f.offer(f.pdID, nil)
		s := f.begin(issuerState)
		q := s.answer(s.present(cred, f.holder.priv, s.clientID, s.nonce, nil))
		if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "revoked") {
			t.Fatalf("answer %v", q)
		}
		if failure, _ := f.is.history(exID)["presentationFailure"].(map[string]any); failure == nil {
			t.Fatal("no presentationFailure")
		}
	})

	t.Run("response for another exchange", func(t *testing.T) {
		exA, _, stateA := f.offer(f.pdID, nil)
		exB, _, stateB := f.offer(f.pdID, nil)
		a, b := f.begin(stateA), f.begin(stateB)
		// The presentation made for A's request, posted with B's state.
		p, err := sdjwt.Present(f.own, func(sdjwt.Disclosure) bool { return true },
			&sdjwt.KeyBindingInput{Key: f.holder.priv, Audience: a.clientID, Nonce: a.nonce, IssuedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		token, _ := json.Marshal(map[string][]string{"employee": {p}})
		q := b.answer(b.post(b.state, string(token)))
		if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "nonce does not match") {
			t.Fatalf("answer %v", q)
		}
		if f.is.history(exB)["presentationFailure"] == nil || f.is.history(exA)["presentationFailure"] != nil {
			t.Fatal("the refusal must be recorded on B only")
		}
		// A's own answer still goes through.
		if q := a.answer(a.post(a.state, string(token))); q.Get("code") == "" {
			t.Fatalf("A's answer %v", q)
		}
	})

	t.Run("replayed response", func(t *testing.T) {
		_, _, issuerState := f.offer(f.pdID, nil)
		s := f.begin(issuerState)
		p, err := sdjwt.Present(f.own, func(sdjwt.Disclosure) bool { return true },
			&sdjwt.KeyBindingInput{Key: f.holder.priv, Audience: s.clientID, Nonce: s.nonce, IssuedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		token, _ := json.Marshal(map[string][]string{"employee": {p}})
		payload, _ := json.Marshal(map[string]any{"state": s.state, "vp_token": json.RawMessage(token)})
		body := url.Values{"response": {s.encrypt(payload)}}
		if q := s.answer(f.is.postForm("/direct_post", body)); q.Get("code") == "" {
			t.Fatalf("first answer %v", q)
		}
		again := f.is.postForm("/direct_post", body)
		if again.status != http.StatusBadRequest || !strings.Contains(again.str("error_description"), "already answered") {
			t.Fatalf("replay: %d %s", again.status, again.raw)
		}
	})

	t.Run("endpoint refusals", func(t *testing.T) {
		_, _, issuerState := f.offer(f.pdID, nil)
		s := f.begin(issuerState)
		for _, c := range []struct {
			name string
			body string
			want string
		}{
			{"unknown state", url.Values{"state": {"no-such-state"}, "vp_token": {`{"employee":["x"]}`}}.Encode(), "names no authorization"},
			{"JWE to an unknown key", url.Values{"response": {otherKeyJWE(t)}}.Encode(), "kid names no key"},
			{"parameter twice", "response=a&response=b", "more than once"},
			{"response beside state", url.Values{"response": {s.encrypt([]byte(`{}`))}, "state": {s.state}}.Encode(), "only the response parameter"},
		} {
			r := f.is.do(http.MethodPost, "/direct_post", strings.NewReader(c.body), "Content-Type", "application/x-www-form-urlencoded")
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || !strings.Contains(r.str("error_description"), c.want) {
				t.Errorf("%s: %d %s", c.name, r.status, r.raw)
			}
		}
		// The session is untouched by those: the holder's answer still goes through.
		if q := s.answer(s.present(f.own, f.holder.priv, s.clientID, s.nonce, nil)); q.Get("code") == "" {
			t.Fatalf("answer after the refused posts: %v", q)
		}
	})
}

// otherKeyJWE is a direct_post.jwt response encrypted to a key the issuer never made.
func otherKeyJWE(t *testing.T) string {
	t.Helper()
	k := newHolder(t)
	pub, _ := jwk.FromRaw(k.priv.Public())
	_ = pub.Set(jwk.KeyIDKey, "vpr-1-unknown")
	hdr := jwe.NewHeaders()
	_ = hdr.Set(jwe.KeyIDKey, "vpr-1-unknown")
	enc, err := jwe.Encrypt([]byte(`{"state":"x"}`), jwe.WithKey(jwa.ECDH_ES, pub, jwe.WithPerRecipientHeaders(hdr)),
		jwe.WithContentEncryption(jwa.A128GCM))
	if err != nil {
		t.Fatal(err)
	}
	return string(enc)
}
