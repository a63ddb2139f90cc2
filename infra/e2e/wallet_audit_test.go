package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// grantOf returns the pre-authorized code grant of an offer answer.
func grantOf(t *testing.T, offer *response) map[string]any {
	t.Helper()
	grants, _ := offer.json["grants"].(map[string]any)
	g, _ := grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	if g == nil {
		t.Fatalf("offer without a pre-authorized code grant: %d %s", offer.status, offer.raw)
	}
	return g
}

// TestMetadataListsAConfigurationOfferedAfterItWasCached: a wallet that redeems an offer for a definition created
// after the container cached its metadata (the organisation creates a definition and issues at once) finds the
// offered configuration in the metadata it fetches next, for definitions and for offers without one.
func TestMetadataListsAConfigurationOfferedAfterItWasCached(t *testing.T) {
	is := startIssuer(t)
	is.definition()
	if r := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil); r.status != http.StatusOK {
		t.Fatalf("metadata %d %s", r.status, r.raw) // now cached in the container
	}
	fresh := is.admin(http.MethodPost, "/credential-definition", map[string]any{
		"label": "Employee ID", "credentialFormat": "dc+sd-jwt", "vct": "EmployeeID", "expirationInDays": 365,
		"claims": []any{map[string]any{"path": []any{"given_name"}, "limitDisclosure": true}}})
	if fresh.status != http.StatusOK && fresh.status != http.StatusCreated {
		t.Fatalf("create definition: %d %s", fresh.status, fresh.raw)
	}
	freshID, _ := fresh.json["credentialDefinition"].(map[string]any)["credentialDefinitionId"].(string)
	tests := []struct {
		name  string
		issue map[string]any
	}{
		{name: "definition created after the metadata was cached", issue: map[string]any{"issuanceMode": "InTime",
			"credentialDefinitionId": freshID, "credential": map[string]any{"credentialSubject": erika}}},
		{name: "offer without a definition", issue: map[string]any{"issuanceMode": "InTime",
			"credential": map[string]any{"type": []any{"VerifiableCredential", "BadgeCredential"},
				"credentialSubject": map[string]any{"given_name": "Erika"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, link := is.issue(tc.issue)
			offer := is.do(http.MethodGet, offerURI(t, link), nil)
			ids, _ := offer.json["credential_configuration_ids"].([]any)
			if offer.status != http.StatusOK || len(ids) != 1 {
				t.Fatalf("offer %d %s", offer.status, offer.raw)
			}
			md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
			configs, _ := md.json["credential_configurations_supported"].(map[string]any)
			if _, ok := configs[ids[0].(string)]; !ok {
				t.Fatalf("the metadata lacks the offered configuration %v: %s", ids[0], md.raw)
			}
		})
	}
}

// TestOfferOfADeletedDefinitionDoesNotRebuildTheMetadata: the offer of a definition deleted after it was made
// stays redeemable, and its configuration is not in the metadata. Fetching such an offer dropped the container's
// cached metadata every time (forgetStaleMetadata), so anybody holding the link made the issuer rebuild and re-sign
// the document (a KMS Sign and the definition queries) with every other anonymous request (docs/security.md 14e).
// A document rebuilt after such a drop is kept: its ETag (the signature is new at every signing) stays.
func TestOfferOfADeletedDefinitionDoesNotRebuildTheMetadata(t *testing.T) {
	is := startIssuer(t)
	def := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": def,
		"credential": map[string]any{"credentialSubject": erika}})
	if r := is.admin(http.MethodDelete, "/credential-definition/"+def, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete definition: %d %s", r.status, r.raw)
	}
	metadata := func() string {
		t.Helper()
		md := is.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
		if md.status != http.StatusOK || md.str("signed_metadata") == "" {
			t.Fatalf("metadata %d %s", md.status, md.raw)
		}
		return md.header.Get("ETag")
	}
	fetchOffer := func() {
		t.Helper()
		if offer := is.do(http.MethodGet, offerURI(t, link), nil); offer.status != http.StatusOK {
			t.Fatalf("offer %d %s", offer.status, offer.raw)
		}
	}
	metadata()
	fetchOffer() // the cached document lacks the configuration: dropped once, as for a new definition
	etag := metadata()
	for i := 0; i < 3; i++ {
		fetchOffer()
		if got := metadata(); got != etag {
			t.Fatalf("fetch %d of the offer made the metadata be rebuilt and signed again", i+2)
		}
	}
}

// signedProof builds a key proof JWT by hand, so that a test can get any member wrong: header and claims as
// given, signed ES256 with priv (a dummy signature when alg is none).
func signedProof(t *testing.T, priv *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	if header["alg"] == "none" {
		return input + ".AAAA" // unsigned, with a signature segment so that the alg itself is what fails
	}
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// publicJWK is the public JWK members of h.
func (h holder) publicJWK(t *testing.T) map[string]any {
	t.Helper()
	b, err := json.Marshal(h.pub)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// privateJWK is h's key with its private member d.
func (h holder) privateJWK(t *testing.T) map[string]any {
	t.Helper()
	m := h.publicJWK(t)
	m["d"] = base64.RawURLEncoding.EncodeToString(mustBytes(t, h.priv))
	return m
}

// redeem fetches the offer of link and redeems its code with the form parameters kv (tx_code, user_pin...).
func (is *issuer) redeem(t *testing.T, link string, kv ...string) *response {
	t.Helper()
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code, _ := grantOf(t, offer)["pre-authorized_code"].(string)
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return is.postForm("/token", form)
}

// TestWalletTokenErrorPaths: over HTTP, every refusal of the token endpoint, with the record left as it was by
// those that change nothing, and the tx_code cap killing the code and denying the exchange.
func TestWalletTokenErrorPaths(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	subject := map[string]any{"credentialSubject": erika}
	grant := "urn:ietf:params:oauth:grant-type:pre-authorized_code"

	t.Run("unexpected tx_code", func(t *testing.T) {
		exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID, "credential": subject})
		offer := is.do(http.MethodGet, offerURI(t, link), nil)
		code, _ := grantOf(t, offer)["pre-authorized_code"].(string)
		before := is.history(exID)
		for _, param := range []string{"tx_code", "user_pin"} {
			r := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {code}, param: {"4821"}})
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || !strings.Contains(r.str("error_description"), "tx_code") {
				t.Fatalf("%s: got %d %s, want 400 invalid_request naming tx_code", param, r.status, r.raw)
			}
		}
		if after := is.history(exID); !reflect.DeepEqual(before, after) {
			t.Errorf("record changed by refused requests:\n%v\n%v", before, after)
		}
		if r := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {code}}); r.status != http.StatusOK {
			t.Errorf("the code died of refused requests: %d %s", r.status, r.raw)
		}
	})

	t.Run("draft-12 user_pin", func(t *testing.T) {
		exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": "4821", "credentialDefinitionId": defID, "credential": subject})
		if r := is.redeem(t, link, "user_pin", "0000"); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Fatalf("wrong user_pin: %d %s", r.status, r.raw)
		}
		offer := is.do(http.MethodGet, offerURI(t, link), nil)
		code, _ := grantOf(t, offer)["pre-authorized_code"].(string)
		r := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {code}, "user_pin": {"4821"}})
		if r.status != http.StatusOK || r.str("access_token") == "" || r.str("c_nonce") == "" {
			t.Fatalf("right user_pin: %d %s", r.status, r.raw)
		}
		if s := is.history(exID)["status"]; s != "offer_received" {
			t.Errorf("status %v", s)
		}
	})

	t.Run("wrong tx_code cap", func(t *testing.T) {
		exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": "4821", "credentialDefinitionId": defID, "credential": subject})
		offer := is.do(http.MethodGet, offerURI(t, link), nil)
		code, _ := grantOf(t, offer)["pre-authorized_code"].(string)
		wrong := url.Values{"grant_type": {grant}, "pre-authorized_code": {code}, "tx_code": {"0000"}}
		var last *response
		for i := 0; i < 20; i++ {
			last = is.postForm("/token", wrong)
			if last.status != http.StatusBadRequest || last.str("error") != "invalid_grant" {
				t.Fatalf("wrong tx_code %d: %d %s", i+1, last.status, last.raw)
			}
			if strings.Contains(last.str("error_description"), "last attempt") {
				break
			}
		}
		if !strings.Contains(last.str("error_description"), "last attempt") {
			t.Fatalf("no cap after 20 wrong tx_codes: %s", last.raw)
		}
		rec := is.history(exID)
		if rec["status"] != "issuance_denied" || !strings.Contains(rec["issuanceDeniedReason"].(string), "tx_code") {
			t.Errorf("record after the cap: status %v reason %v", rec["status"], rec["issuanceDeniedReason"])
		}
		right := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {code}, "tx_code": {"4821"}})
		if right.status != http.StatusBadRequest || right.str("error") != "invalid_grant" {
			t.Errorf("right tx_code after the cap: %d %s", right.status, right.raw)
		}
		if gone := is.do(http.MethodGet, offerURI(t, link), nil); gone.status != http.StatusNotFound {
			t.Errorf("offer of a dead code: %d %s", gone.status, gone.raw)
		}
		if strings.Contains(string(last.raw), code) || strings.Contains(string(last.raw), "0000") {
			t.Errorf("error answer repeats a secret: %s", last.raw)
		}
	})

	t.Run("used code", func(t *testing.T) {
		_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID, "credential": subject})
		offer := is.do(http.MethodGet, offerURI(t, link), nil)
		code, _ := grantOf(t, offer)["pre-authorized_code"].(string)
		form := url.Values{"grant_type": {grant}, "pre-authorized_code": {code}}
		if first := is.postForm("/token", form); first.status != http.StatusOK {
			t.Fatalf("first redemption %d %s", first.status, first.raw)
		}
		if again := is.postForm("/token", form); again.status != http.StatusBadRequest || again.str("error") != "invalid_grant" {
			t.Errorf("second redemption %d %s", again.status, again.raw)
		}
	})
}

// TestWalletCredentialErrorPaths: over HTTP, every way a credential request can be refused, each answered with
// the spec's error code and an error_description naming what failed; none of them changes the record or uses up
// the c_nonce, so the wallet's corrected request then succeeds, and the record shows cnf, proof, proofType, jti and
// credentialToken of that request.
func TestWalletCredentialErrorPaths(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	tok := is.redeem(t, link)
	if tok.status != http.StatusOK {
		t.Fatalf("token %d %s", tok.status, tok.raw)
	}
	access := tok.str("access_token")
	nonce := is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	h := newHolder(t)
	now := time.Now().Unix()
	hdr := func(mod func(map[string]any)) map[string]any {
		m := map[string]any{"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": h.publicJWK(t)}
		if mod != nil {
			mod(m)
		}
		return m
	}
	claims := func(mod func(map[string]any)) map[string]any {
		m := map[string]any{"aud": is.url, "iat": now, "nonce": nonce}
		if mod != nil {
			mod(m)
		}
		return m
	}
	proofs := func(p ...string) map[string]any {
		return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"jwt": p}}
	}
	good := signedProof(t, h.priv, hdr(nil), claims(nil))
	tooMany := make([]string, 0, 11)
	for i := 0; i < 11; i++ {
		tooMany = append(tooMany, good)
	}
	tests := []struct {
		name     string
		body     map[string]any
		wantCode string
		wantDesc string
	}{
		{name: "no typ", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { delete(m, "typ") }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "typ"},
		{name: "wrong typ", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { m["typ"] = "JWT" }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "typ"},
		{name: "alg none", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { m["alg"] = "none" }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "none"},
		{name: "alg HS256", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { m["alg"] = "HS256" }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "symmetric"},
		{name: "unsupported alg", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { m["alg"] = "ES384" }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "ES256"},
		{name: "jwk and kid", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { m["kid"] = "k1" }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "exactly one"},
		{name: "kid only", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { delete(m, "jwk"); m["kid"] = "k1" }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "jwk"},
		{name: "no key", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { delete(m, "jwk") }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "jwk"},
		{name: "private key in jwk", body: proofs(signedProof(t, h.priv, hdr(func(m map[string]any) { m["jwk"] = h.privateJWK(t) }), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "private"},
		{name: "signed by another key", body: proofs(signedProof(t, newHolder(t).priv, hdr(nil), claims(nil))),
			wantCode: "invalid_proof", wantDesc: "signature"},
		{name: "no aud", body: proofs(signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { delete(m, "aud") }))),
			wantCode: "invalid_proof", wantDesc: "aud"},
		{name: "aud with a trailing slash", body: proofs(signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { m["aud"] = is.url + "/" }))),
			wantCode: "invalid_proof", wantDesc: "aud"},
		{name: "no iat", body: proofs(signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { delete(m, "iat") }))),
			wantCode: "invalid_proof", wantDesc: "iat"},
		{name: "iat an hour old", body: proofs(signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { m["iat"] = now - 3600 }))),
			wantCode: "invalid_proof", wantDesc: "iat"},
		{name: "iat an hour ahead", body: proofs(signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { m["iat"] = now + 3600 }))),
			wantCode: "invalid_proof", wantDesc: "iat"},
		{name: "no nonce", body: proofs(signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { delete(m, "nonce") }))),
			wantCode: "invalid_proof", wantDesc: "nonce"},
		{name: "unknown nonce", body: proofs(signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { m["nonce"] = "not-a-nonce" }))),
			wantCode: "invalid_nonce", wantDesc: "nonce"},
		{name: "second proof broken", body: proofs(good, "a.b.c"), wantCode: "invalid_proof", wantDesc: "proof 2"},
		{name: "more proofs than batch_size", body: proofs(tooMany...), wantCode: "invalid_proof", wantDesc: "batch_size"},
		{name: "draft-15 singular proof of another type", body: map[string]any{"credential_configuration_id": defID,
			"proof": map[string]any{"proof_type": "ldp_vp", "ldp_vp": map[string]any{}}}, wantCode: "invalid_proof", wantDesc: "jwt"},
		{name: "draft-15 singular proof over an unknown nonce", body: map[string]any{"credential_configuration_id": defID,
			"proof": map[string]any{"proof_type": "jwt", "jwt": signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { m["nonce"] = "not-a-nonce" }))}},
			wantCode: "invalid_nonce", wantDesc: "nonce"},
		{name: "unsupported proof type", body: map[string]any{"credential_configuration_id": defID,
			"proofs": map[string]any{"ldp_vp": []any{map[string]any{}}}}, wantCode: "invalid_proof", wantDesc: "jwt"},
		{name: "neither configuration nor identifier", body: map[string]any{"proofs": map[string]any{"jwt": []string{good}}},
			wantCode: "invalid_credential_request", wantDesc: "credential_configuration_id"},
		{name: "response encryption", body: map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"jwt": []string{good}},
			"credential_response_encryption": map[string]any{"alg": "ECDH-ES", "enc": "A128GCM"}}, wantCode: "invalid_encryption_parameters", wantDesc: "encryption"},
		{name: "unknown configuration", body: map[string]any{"credential_configuration_id": "other", "proofs": map[string]any{"jwt": []string{good}}},
			wantCode: "unknown_credential_configuration", wantDesc: "credential_configuration_id"},
		{name: "unknown identifier", body: map[string]any{"credential_identifier": "other", "proofs": map[string]any{"jwt": []string{good}}},
			wantCode: "unknown_credential_identifier", wantDesc: "credential_identifier"},
	}
	before := is.history(exID)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := is.postJSON("/credential", access, tc.body)
			if r.status != http.StatusBadRequest || r.str("error") != tc.wantCode {
				t.Fatalf("got %d %s, want 400 %s", r.status, r.raw, tc.wantCode)
			}
			if !strings.Contains(r.str("error_description"), tc.wantDesc) {
				t.Errorf("error_description %q does not mention %q", r.str("error_description"), tc.wantDesc)
			}
			if strings.Contains(string(r.raw), nonce) || strings.Contains(string(r.raw), access) {
				t.Errorf("error answer repeats a secret: %s", r.raw)
			}
		})
	}
	if after := is.history(exID); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused credential requests changed the record:\n%v\n%v", before, after)
	}

	// the corrected request, with the c_nonce none of the refused ones used up
	proof := signedProof(t, h.priv, hdr(nil), claims(func(m map[string]any) { m["jti"] = "proof-jti-1" }))
	cred := is.postJSON("/credential", access, proofs(proof))
	if cred.status != http.StatusOK || cred.str("notification_id") == "" {
		t.Fatalf("corrected request %d %s", cred.status, cred.raw)
	}
	issued, _ := cred.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
	rec := is.history(exID)
	cnf, _ := rec["cnf"].(map[string]any)["jwk"].(map[string]any)
	want := h.publicJWK(t)
	if rec["status"] != "credential_issued" || rec["proofType"] != "jwt" || rec["jti"] != "proof-jti-1" ||
		rec["proof"] != proof || rec["credentialToken"] != issued {
		t.Errorf("record status %v proofType %v jti %v proof==sent %v credentialToken==issued %v", rec["status"],
			rec["proofType"], rec["jti"], rec["proof"] == proof, rec["credentialToken"] == issued)
	}
	for _, m := range []string{"kty", "crv", "x", "y"} {
		if cnf[m] != want[m] {
			t.Errorf("record cnf.jwk.%s = %v, want %v", m, cnf[m], want[m])
		}
	}
	// a second request with the same key (the answer was lost) gets the recorded credential, not a new one;
	// with another key it is refused
	again := is.postJSON("/credential", access, proofs(signedProof(t, h.priv, hdr(nil),
		claims(func(m map[string]any) { m["nonce"] = is.do(http.MethodPost, "/nonce", nil).str("c_nonce") }))))
	if again.status != http.StatusOK {
		t.Fatalf("second credential request with the same key %d %s", again.status, again.raw)
	}
	if got, _ := again.json["credentials"].([]any)[0].(map[string]any)["credential"].(string); got != issued {
		t.Errorf("second credential request with the same key got another credential than the recorded one")
	}
	other := newHolder(t)
	denied := is.postJSON("/credential", access, proofs(other.proof(t, is.url, is.do(http.MethodPost, "/nonce", nil).str("c_nonce"))))
	if denied.status != http.StatusBadRequest || denied.str("error") != "credential_request_denied" {
		t.Errorf("credential request with another key %d %s", denied.status, denied.raw)
	}
}

// TestWalletDraft13Errors: a draft-13 wallet's refused proof is answered in the draft's terms: invalid_proof with a
// fresh c_nonce (drafts had no nonce endpoint), which the wallet's next proof then uses successfully.
func TestWalletDraft13Errors(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	tok := is.redeem(t, link)
	h := newHolder(t)
	bad := is.postJSON("/credential", tok.str("access_token"), map[string]any{"format": "vc+sd-jwt", "vct": "PortableDocumentA1",
		"proof": map[string]any{"proof_type": "jwt", "jwt": h.proof(t, is.url, "stale-nonce")}})
	if bad.status != http.StatusBadRequest || bad.str("error") != "invalid_proof" || bad.str("c_nonce") == "" || bad.str("error_description") == "" {
		t.Fatalf("draft-13 bad nonce: %d %s", bad.status, bad.raw)
	}
	ok := is.postJSON("/credential", tok.str("access_token"), map[string]any{"format": "vc+sd-jwt", "vct": "PortableDocumentA1",
		"proof": map[string]any{"proof_type": "jwt", "jwt": h.proof(t, is.url, bad.str("c_nonce"))}})
	if ok.status != http.StatusOK || ok.str("credential") == "" {
		t.Fatalf("draft-13 retry with the error's c_nonce: %d %s", ok.status, ok.raw)
	}
}

// TestWalletNotificationEvents: credential_failure keeps the status, credential_deleted moves it, each is 204 and
// idempotent, and an event the status machine refuses is invalid_notification_request.
func TestWalletNotificationEvents(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	tok := is.redeem(t, link)
	access := tok.str("access_token")
	h := newHolder(t)
	cred := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.do(http.MethodPost, "/nonce", nil).str("c_nonce"))}}})
	nid := cred.str("notification_id")
	if cred.status != http.StatusOK || nid == "" {
		t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	steps := []struct {
		event      string
		wantStatus int
		wantError  string
		wantRecord string
	}{
		{event: "credential_failure", wantStatus: 204, wantRecord: "credential_issued"},
		{event: "credential_failure", wantStatus: 204, wantRecord: "credential_issued"},
		{event: "credential_deleted", wantStatus: 204, wantRecord: "credential_deleted"},
		{event: "credential_deleted", wantStatus: 204, wantRecord: "credential_deleted"},
		{event: "credential_accepted", wantStatus: 400, wantError: "invalid_notification_request", wantRecord: "credential_deleted"},
	}
	for i, st := range steps {
		r := is.postJSON("/notification", access, map[string]any{"notification_id": nid, "event": st.event,
			"event_description": "storage full"})
		if r.status != st.wantStatus || r.str("error") != st.wantError {
			t.Fatalf("step %d %s: %d %s", i, st.event, r.status, r.raw)
		}
		if st.wantStatus == 204 && len(r.raw) != 0 {
			t.Errorf("step %d: 204 with a body %s", i, r.raw)
		}
		h := is.history(exID)
		if s := h["status"]; s != st.wantRecord {
			t.Errorf("step %d %s: status %v, want %s", i, st.event, s, st.wantRecord)
		}
		// The organisation sees why the wallet failed (the status does not say it).
		if d := h["credentialFailureDescription"]; d != "storage full" {
			t.Errorf("step %d %s: credentialFailureDescription %q, want the wallet's description", i, st.event, d)
		}
	}
}

// TestWalletFlowLogsNoSecrets plays the whole wallet flow, its refusals included, with every log line of the
// functions and the gateway captured (status events too: without a bus they are logged), and checks that no
// claim value, offer id, code, PIN, token, nonce, notification or transaction id, proof or holder key is in them.
func TestWalletFlowLogsNoSecrets(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	is := startIssuerLogging(t, logs)
	defID := is.definition()
	claims := map[string]any{"given_name": "Zerlinde-7f3a", "family_name": "Quastenflosser-91c2",
		"address": map[string]any{"street_address": "Nebelgasse 4711b"}}
	secrets := map[string]string{"PIN": "8264051", "given_name": "Zerlinde-7f3a", "family_name": "Quastenflosser-91c2",
		"street_address": "Nebelgasse 4711b"}
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": secrets["PIN"], "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": claims}})
	secrets["offer uri"] = offerURI(t, link)
	secrets["offer id"] = secrets["offer uri"][strings.LastIndex(secrets["offer uri"], "/")+1:]
	offer := is.do(http.MethodGet, secrets["offer uri"], nil)
	secrets["code"], _ = grantOf(t, offer)["pre-authorized_code"].(string)
	grant := "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	if r := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {secrets["code"]}, "tx_code": {"1357902"}}); r.status != 400 {
		t.Fatalf("wrong tx_code %d %s", r.status, r.raw)
	}
	tok := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {secrets["code"]}, "tx_code": {secrets["PIN"]}})
	secrets["access token"], secrets["token c_nonce"] = tok.str("access_token"), tok.str("c_nonce")
	secrets["c_nonce"] = is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	h := newHolder(t)
	secrets["holder key x"], _ = h.publicJWK(t)["x"].(string)
	bad := h.proof(t, "https://other.example", secrets["c_nonce"])
	if r := is.postJSON("/credential", secrets["access token"], map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{bad}}}); r.status != 400 {
		t.Fatalf("bad proof %d %s", r.status, r.raw)
	}
	proof := h.proof(t, is.url, secrets["c_nonce"])
	secrets["proof signature"] = proof[strings.LastIndex(proof, ".")+1:]
	cred := is.postJSON("/credential", secrets["access token"], map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{proof}}})
	if cred.status != http.StatusOK {
		t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	secrets["notification id"] = cred.str("notification_id")
	c, _ := cred.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
	secrets["credential signature"] = strings.Split(strings.SplitN(c, "~", 2)[0], ".")[2]
	if r := is.postJSON("/notification", secrets["access token"], map[string]any{"notification_id": secrets["notification id"],
		"event": "credential_failure", "event_description": "could not store"}); r.status != http.StatusNoContent {
		t.Fatalf("notification %d %s", r.status, r.raw)
	}
	if r := is.postJSON("/notification", secrets["access token"], map[string]any{"notification_id": secrets["notification id"],
		"event": "credential_accepted"}); r.status != http.StatusNoContent {
		t.Fatalf("notification %d %s", r.status, r.raw)
	}

	// deferred: the transaction id
	_, dlink := is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
	dtok := is.redeem(t, dlink)
	secrets["deferred access token"] = dtok.str("access_token")
	dcred := is.postJSON("/credential", dtok.str("access_token"), map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.do(http.MethodPost, "/nonce", nil).str("c_nonce"))}}})
	secrets["transaction id"] = dcred.str("transaction_id")
	if r := is.postJSON("/deferred-credential", dtok.str("access_token"), map[string]any{"transaction_id": secrets["transaction id"]}); r.status != http.StatusAccepted {
		t.Fatalf("deferred %d %s", r.status, r.raw)
	}

	out := logs.String()
	if !strings.Contains(out, `"route"`) {
		t.Fatalf("no request log lines captured: %q", out)
	}
	for name, secret := range secrets {
		if secret == "" {
			t.Fatalf("%s not captured", name)
		}
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain the %s", name)
		}
	}
}

// TestWalletSecretsStoredOnlyAsHashes runs the wallet flow and reads the whole table back: the pre-authorized
// code, the PIN, access tokens, c_nonces, the notification id and the transaction id appear in no item, while the
// pointer keys or record hashes derived from them (SHA-256) do.
func TestWalletSecretsStoredOnlyAsHashes(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	pin := "pin-8264-qz"
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": pin, "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code, _ := grantOf(t, offer)["pre-authorized_code"].(string)
	grant := "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	if r := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {code}, "tx_code": {"pin-0000-xx"}}); r.status != 400 {
		t.Fatalf("wrong tx_code %d %s", r.status, r.raw)
	}
	tok := is.postForm("/token", url.Values{"grant_type": {grant}, "pre-authorized_code": {code}, "tx_code": {pin}})
	h := newHolder(t)
	cred := is.postJSON("/credential", tok.str("access_token"), map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.do(http.MethodPost, "/nonce", nil).str("c_nonce"))}}})
	if cred.status != http.StatusOK {
		t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	_, dlink := is.issue(map[string]any{"issuanceMode": "Deferred", "credentialDefinitionId": defID})
	dtok := is.redeem(t, dlink)
	dcred := is.postJSON("/credential", dtok.str("access_token"), map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.do(http.MethodPost, "/nonce", nil).str("c_nonce"))}}})
	unused := is.do(http.MethodPost, "/nonce", nil).str("c_nonce")

	secrets := []struct {
		name, value string
		pointer     string // the pointer kind whose key must exist, "" when the pointer is consumed by now
		hashed      bool   // the secret's SHA-256 is kept in its exchange record
	}{
		{name: "pre-authorized code", value: code},
		{name: "PIN", value: pin},
		{name: "access token", value: tok.str("access_token"), hashed: true},
		{name: "deferred access token", value: dtok.str("access_token"), hashed: true},
		// c_nonces are stateless: nothing is stored for one until it is used (docs/security.md).
		{name: "token c_nonce", value: tok.str("c_nonce")},
		{name: "unused c_nonce", value: unused},
		{name: "notification id", value: cred.str("notification_id"), hashed: true},
		{name: "transaction id", value: dcred.str("transaction_id"), pointer: exchange.PointerTransaction},
	}
	db := dynamodb.NewFromConfig(is.aws)
	var dump strings.Builder
	pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(is.table)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var items []map[string]any
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(items)
		if err != nil {
			t.Fatal(err)
		}
		dump.Write(b)
	}
	stored := dump.String()
	for _, s := range secrets {
		if s.value == "" {
			t.Fatalf("%s not captured", s.name)
		}
		if strings.Contains(stored, s.value) {
			t.Errorf("the table holds the %s in the clear", s.name)
		}
		if s.pointer != "" && !strings.Contains(stored, exchange.PointerKey(s.pointer, s.value)) {
			t.Errorf("no pointer %s#<sha256> for the %s", s.pointer, s.name)
		}
		if s.hashed && !strings.Contains(stored, exchange.HashSecret(s.value)) {
			t.Errorf("no SHA-256 of the %s in its record", s.name)
		}
	}
}

// awsCallsOf returns the aws_calls of every request log line of route, in order.
func awsCallsOf(t *testing.T, logs string, route string) []int {
	t.Helper()
	var out []int
	for _, line := range strings.Split(logs, "\n") {
		var l struct {
			Msg      string `json:"msg"`
			Route    string `json:"route"`
			AWSCalls *int   `json:"aws_calls"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "request" || l.Route != route || l.AWSCalls == nil {
			continue
		}
		out = append(out, *l.AWSCalls)
	}
	return out
}

// TestWellKnownDocumentsCachedPerContainer: each well-known document is built once per container (DynamoDB
// reads, KMS GetPublicKey and one Sign for the signed issuer metadata; jwt-vc-issuer then reuses the key the
// container already set up) and then served without an AWS call, with the same ETag, until its TTL.
func TestWellKnownDocumentsCachedPerContainer(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	is := startIssuerLogging(t, logs)
	is.definition()
	for _, doc := range []string{"openid-credential-issuer", "oauth-authorization-server", "jwt-vc-issuer"} {
		t.Run(doc, func(t *testing.T) {
			path := "/.well-known/" + doc
			first := is.do(http.MethodGet, path, nil)
			second := is.do(http.MethodGet, path, nil)
			if first.status != http.StatusOK || second.status != http.StatusOK || string(first.raw) != string(second.raw) ||
				first.header.Get("ETag") == "" || first.header.Get("ETag") != second.header.Get("ETag") ||
				!strings.Contains(second.header.Get("Cache-Control"), "max-age=") {
				t.Fatalf("%d %d, ETag %q %q, Cache-Control %q", first.status, second.status, first.header.Get("ETag"),
					second.header.Get("ETag"), second.header.Get("Cache-Control"))
			}
			calls := awsCallsOf(t, logs.String(), "GET "+path)
			if len(calls) != 2 || calls[1] != 0 {
				t.Errorf("aws_calls per request %v, want the second served from the cache (0)", calls)
			}
			if doc == "openid-credential-issuer" && calls[0] == 0 {
				t.Errorf("aws_calls per request %v: the first build made no AWS call", calls)
			}
		})
	}
}

// TestWalletConcurrentRedemptionOutcome: of many parallel redemptions of one code (with its tx_code), exactly one
// gets a token and every other one invalid_grant; the winner's token then gets the credential, and of many parallel
// credential requests with that token and one c_nonce exactly one is answered with credentials.
func TestWalletConcurrentRedemptionOutcome(t *testing.T) {
	is := startIssuer(t)
	defID := is.definition()
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": "4821", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	offer := is.do(http.MethodGet, offerURI(t, link), nil)
	code, _ := grantOf(t, offer)["pre-authorized_code"].(string)
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code},
		"tx_code": {"4821"}}
	parallel := func(n int, call func() *response) []*response {
		out := make([]*response, n)
		var wg sync.WaitGroup
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = call()
			}()
		}
		wg.Wait()
		return out
	}
	var access string
	losers := map[string]int{}
	for _, r := range parallel(10, func() *response { return is.postForm("/token", form) }) {
		if r.status == http.StatusOK {
			if access != "" {
				t.Fatal("two redemptions of one code got a token")
			}
			access = r.str("access_token")
			continue
		}
		losers[r.str("error")]++
	}
	if access == "" || losers["invalid_grant"] != 9 {
		t.Fatalf("token winner %v, losers %v; want one winner and 9 invalid_grant", access != "", losers)
	}
	if s := is.history(exID)["status"]; s != "offer_received" {
		t.Errorf("status %v after the redemption race", s)
	}

	nonce := is.do(http.MethodPost, "/nonce", nil).str("c_nonce")
	h := newHolder(t)
	body := map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"jwt": []string{h.proof(t, is.url, nonce)}}}
	issued := 0
	refused := map[string]int{}
	for _, r := range parallel(8, func() *response { return is.postJSON("/credential", access, body) }) {
		if r.status == http.StatusOK {
			issued++
			continue
		}
		if r.status != http.StatusBadRequest {
			t.Errorf("credential race: %d %s", r.status, r.raw)
		}
		refused[r.str("error")]++
	}
	if issued != 1 || refused["invalid_nonce"]+refused["credential_request_denied"] != 7 {
		t.Fatalf("credential race: %d issued, refused %v; want 1 and 7 invalid_nonce/credential_request_denied", issued, refused)
	}
	if tokens := strings.Split(is.history(exID)["credentialToken"].(string), ","); len(tokens) != 1 {
		t.Errorf("the record holds %d credentials", len(tokens))
	}
}

// mustBytes is the raw 32-byte private scalar of key.
func mustBytes(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	b, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
