package e2e

// The tests of this file mirror the OpenID Foundation's OID4VCI 1.0 issuer test plan (oid4vci-1_0-issuer-test-plan,
// pre-authorized code variant, DPoP and client attestation): VCIIssuerHappyFlow, ...MultipleClients,
// ...WithSkipNotification, ...BatchIssuance and the negative modules, with the harness of shared/attesttest as the
// wallet provider.

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/config"
)

// haipPolicy is a definition as HAIP wants it: DPoP-bound tokens and a client attestation required.
var haipPolicy = map[string]any{"requireDpop": true, "requireClientAttestation": true}

// TestHAIPHappyFlow (VCIIssuerHappyFlow): DPoP with the nonce retry at the token endpoint, a client attestation,
// unknown JSON members and form parameters everywhere (ignored), a DPoP-bound credential request with ath, the
// notification; the record shows the attestation and the metadata announces it all.
func TestHAIPHappyFlow(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	defID := h.definitionWith(haipPolicy)
	as := h.do(http.MethodGet, "/.well-known/oauth-authorization-server", nil)
	if algs, _ := as.json["dpop_signing_alg_values_supported"].([]any); !slices.Contains(algs, any("ES256")) {
		t.Errorf("AS metadata without DPoP: %s", as.raw)
	}
	if m, _ := as.json["token_endpoint_auth_methods_supported"].([]any); !slices.Contains(m, any("attest_jwt_client_auth")) ||
		as.json["client_attestation_signing_alg_values_supported"] == nil || as.json["client_attestation_pop_signing_alg_values_supported"] == nil {
		t.Errorf("AS metadata without attest_jwt_client_auth: %s", as.raw)
	}

	exID, code := h.offer(defID)
	w := h.newHAIPWallet("https://wallet.example/client")
	tok := w.token(code, "", url.Values{"x_unknown_parameter": {"ignored"}})
	if tok.status != http.StatusOK || tok.str("token_type") != "DPoP" || tok.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("token %d %s", tok.status, tok.raw)
	}
	if w.nonceRetries != 1 {
		t.Errorf("the first token request without a nonce was answered without use_dpop_nonce (%d retries)", w.nonceRetries)
	}
	access := tok.str("access_token")
	k := attesttest.NewKey(t)
	cred := w.json("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs":            map[string]any{"jwt": []string{h.keyProof(k, h.cNonce(), nil)}},
		"x_unknown_member":  map[string]any{"nested": []any{1, "two"}},
		"credential_format": "unknown member, ignored"})
	if got := h.boundKeys(cred); len(got) != 1 || got[0] != k.Thumbprint() {
		t.Fatalf("bound keys %v, want the proof key", got)
	}
	notif := w.json("/notification", access, map[string]any{"notification_id": cred.str("notification_id"),
		"event": "credential_accepted", "x_unknown": true})
	if notif.status != http.StatusNoContent {
		t.Fatalf("notification %d %s", notif.status, notif.raw)
	}
	rec := h.history(exID)
	att, _ := rec["walletUnitAttestation"].(string)
	decoded, _ := rec["decodedWalletUnitAttestation"].(map[string]any)
	payload, _ := decoded["payload"].(map[string]any)
	switch {
	case rec["status"] != "credential_accepted":
		t.Errorf("status %v", rec["status"])
	case rec["clientId"] != w.clientID || rec["clientAssertionType"] != "attest_jwt_client_auth" ||
		rec["clientAssertionVerified"] != true || rec["walletUnitAttestationVerified"] != true:
		t.Errorf("client fields %v %v %v %v", rec["clientId"], rec["clientAssertionType"], rec["clientAssertionVerified"], rec["walletUnitAttestationVerified"])
	case att == "" || rec["walletUnitAttestationPoP"] == "" || rec["clientAssertion"] != att+"~"+rec["walletUnitAttestationPoP"].(string):
		t.Errorf("attestation not recorded as presented: %v", rec)
	case payload["sub"] != w.clientID || payload["iss"] != h.provider.Issuer:
		t.Errorf("decodedWalletUnitAttestation %v", decoded)
	}
}

// TestHAIPMultipleClients (VCIIssuerHappyFlowMultipleClients): two wallets of the provider (one attested by x5c,
// one by its JWKS key) redeem two offers interleaved; each token is bound to its own wallet's DPoP key and is
// refused with the other wallet's proofs.
func TestHAIPMultipleClients(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	defID := h.definitionWith(haipPolicy)
	a, b := h.newHAIPWallet("client-a"), h.newHAIPWallet("client-b")
	b.attest = b.attestedBy(h.provider, attesttest.ByJWKS, nil, nil, nil)
	exA, codeA := h.offer(defID)
	exB, codeB := h.offer(defID)
	tokA, tokB := a.token(codeA, "", nil), b.token(codeB, "", nil)
	if tokA.status != http.StatusOK || tokB.status != http.StatusOK {
		t.Fatalf("tokens %d %s / %d %s", tokA.status, tokA.raw, tokB.status, tokB.raw)
	}
	// B's token with A's DPoP key: the proof is not by the key B's token is bound to.
	thief := &haipWallet{h: h, dpop: a.dpop, nonce: a.nonce}
	stolen := thief.json("/credential", tokB.str("access_token"), map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.keyProof(attesttest.NewKey(t), h.cNonce(), nil)}}})
	if stolen.status != http.StatusUnauthorized || stolen.str("error") != "invalid_dpop_proof" ||
		!strings.HasPrefix(stolen.header.Get("WWW-Authenticate"), "DPoP ") {
		t.Fatalf("token of B with A's DPoP key: %d %s %q", stolen.status, stolen.raw, stolen.header.Get("WWW-Authenticate"))
	}
	for _, c := range []struct {
		w   *haipWallet
		tok *response
		ex  string
	}{{b, tokB, exB}, {a, tokA, exA}} {
		k := attesttest.NewKey(t)
		cred := c.w.json("/credential", c.tok.str("access_token"), map[string]any{"credential_configuration_id": defID,
			"proofs": map[string]any{"jwt": []string{h.keyProof(k, h.cNonce(), nil)}}})
		if got := h.boundKeys(cred); got[0] != k.Thumbprint() {
			t.Errorf("bound %v", got)
		}
		if rec := h.history(c.ex); rec["clientId"] != c.w.clientID || rec["status"] != "credential_issued" {
			t.Errorf("record %v %v", rec["clientId"], rec["status"])
		}
	}
}

// TestHAIPSkipNotification (VCIIssuerHappyFlowWithSkipNotification): a wallet that never notifies leaves the
// exchange credential_issued, and nothing else is expected of it.
func TestHAIPSkipNotification(t *testing.T) {
	h, defID, exID, w, access := startHAIPExchange(t)
	cred := w.json("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.keyProof(attesttest.NewKey(t), h.cNonce(), nil)}}})
	h.boundKeys(cred)
	if rec := h.history(exID); rec["status"] != "credential_issued" {
		t.Errorf("status %v", rec["status"])
	}
}

// TestHAIPBatchIssuance (VCIIssuerBatchIssuance): two proofs of two keys over one c_nonce get two credentials,
// one bound to each key.
func TestHAIPBatchIssuance(t *testing.T) {
	h, defID, _, w, access := startHAIPExchange(t)
	k1, k2 := attesttest.NewKey(t), attesttest.NewKey(t)
	n := h.cNonce()
	cred := w.json("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.keyProof(k1, n, nil), h.keyProof(k2, n, nil)}}})
	got, want := h.boundKeys(cred), []string{k1.Thumbprint(), k2.Thumbprint()}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bound %v, want %v", got, want)
	}
}

// TestHAIPCredentialErrors mirrors the negative modules of the credential endpoint (invalid nonce, bad proof
// signature, missing proof, unsupported encryption algorithm, unknown configuration and identifier, access token in
// the query) and the DPoP failures of a resource request; none of them changes the record.
func TestHAIPCredentialErrors(t *testing.T) {
	h, defID, exID, w, access := startHAIPExchange(t)
	k := attesttest.NewKey(t)
	proofs := func(p ...string) map[string]any {
		return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"jwt": p}}
	}
	before := h.history(exID)
	tests := []struct {
		name   string
		call   func() *response
		status int
		code   string
	}{
		{"invalid nonce (VCIIssuerFailOnInvalidNonce)", func() *response {
			return w.json("/credential", access, proofs(h.keyProof(k, "not-a-c-nonce", nil)))
		}, 400, "invalid_nonce"},
		{"bad proof signature (VCIIssuerFailOnInvalidJwtProofSignature)", func() *response {
			return w.json("/credential", access, proofs(attesttest.BreakSignature(h.keyProof(k, h.cNonce(), nil))))
		}, 400, "invalid_proof"},
		{"missing proof (VCIIssuerFailOnMissingProof)", func() *response {
			return w.json("/credential", access, map[string]any{"credential_configuration_id": defID})
		}, 400, "invalid_proof"},
		{"unsupported encryption alg (VCIIssuerFailOnUnsupportedEncryptionAlgorithm)", func() *response {
			body := proofs(h.keyProof(k, h.cNonce(), nil))
			jwk := attesttest.NewKey(t).PublicMap()
			jwk["alg"] = "RSA-OAEP-256"
			body["credential_response_encryption"] = map[string]any{"jwk": jwk, "enc": "A128GCM"}
			return w.json("/credential", access, body)
		}, 400, "invalid_encryption_parameters"},
		{"unknown configuration (VCIIssuerFailOnUnknownCredentialConfigurationId)", func() *response {
			return w.json("/credential", access, map[string]any{"credential_configuration_id": "unknown",
				"proofs": map[string]any{"jwt": []string{h.keyProof(k, h.cNonce(), nil)}}})
		}, 400, "unknown_credential_configuration"},
		{"unknown identifier (VCIIssuerFailOnUnknownCredentialIdentifier)", func() *response {
			return w.json("/credential", access, map[string]any{"credential_identifier": "unknown",
				"proofs": map[string]any{"jwt": []string{h.keyProof(k, h.cNonce(), nil)}}})
		}, 400, "unknown_credential_identifier"},
		{"access token in the query (VCIIssuerFailOnRequestWithAccessTokenInQuery)", func() *response {
			return h.do(http.MethodPost, "/credential?access_token="+url.QueryEscape(access), strings.NewReader("{}"),
				"Content-Type", "application/json", "DPoP", w.dpop.DPoPProof(t, attesttest.DPoP{Method: "POST",
					URL: h.url + "/credential", Nonce: w.nonce}))
		}, 400, "invalid_request"},
		{"DPoP-bound token sent as Bearer", func() *response {
			return h.postJSON("/credential", access, proofs(h.keyProof(k, h.cNonce(), nil)))
		}, 401, "invalid_token"},
		{"DPoP scheme without a proof", func() *response {
			return h.do(http.MethodPost, "/credential", strings.NewReader("{}"), "Content-Type", "application/json",
				"Authorization", "DPoP "+access)
		}, 401, "invalid_dpop_proof"},
		{"proof without ath", func() *response {
			return h.do(http.MethodPost, "/credential", strings.NewReader("{}"), "Content-Type", "application/json",
				"Authorization", "DPoP "+access, "DPoP", w.dpop.DPoPProof(t, attesttest.DPoP{Method: "POST",
					URL: h.url + "/credential", Nonce: w.nonce}))
		}, 401, "invalid_dpop_proof"},
		{"proof for another endpoint", func() *response {
			return h.do(http.MethodPost, "/credential", strings.NewReader("{}"), "Content-Type", "application/json",
				"Authorization", "DPoP "+access, "DPoP", w.dpop.DPoPProof(t, attesttest.DPoP{Method: "POST",
					URL: h.url + "/notification", AccessToken: access, Nonce: w.nonce}))
		}, 401, "invalid_dpop_proof"},
		{"replayed proof", func() *response {
			proof := w.dpop.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: h.url + "/notification", AccessToken: access, Nonce: w.nonce})
			send := func() *response {
				return h.do(http.MethodPost, "/notification", strings.NewReader(`{"notification_id":"x.y","event":"credential_accepted"}`),
					"Content-Type", "application/json", "Authorization", "DPoP "+access, "DPoP", proof)
			}
			if first := send(); first.str("error") != "invalid_notification_id" {
				t.Fatalf("first use %d %s", first.status, first.raw)
			}
			return send()
		}, 401, "invalid_dpop_proof"},
		{"stale DPoP nonce", func() *response {
			return h.do(http.MethodPost, "/credential", strings.NewReader("{}"), "Content-Type", "application/json",
				"Authorization", "DPoP "+access, "DPoP", w.dpop.DPoPProof(t, attesttest.DPoP{Method: "POST",
					URL: h.url + "/credential", AccessToken: access, Nonce: "stale"}))
		}, 401, "use_dpop_nonce"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.call()
			if r.status != tc.status || r.str("error") != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			if tc.status == http.StatusUnauthorized && tc.code != "invalid_token" || tc.code == "invalid_token" {
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "DPoP ") || !strings.Contains(got, `error="`+tc.code+`"`) || !strings.Contains(got, `algs="`) {
					t.Errorf("WWW-Authenticate %q", got)
				}
			}
			if tc.code == "use_dpop_nonce" && r.header.Get("DPoP-Nonce") == "" {
				t.Error("use_dpop_nonce without a DPoP-Nonce header")
			}
		})
	}
	if after := h.history(exID); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused request changed the record:\nbefore %v\nafter  %v", before, after)
	}
}

// TestHAIPClientAttestationFailures mirrors the six client attestation modules (missing, wrong signature of the
// attestation and of its PoP, expired, wrong aud, PoP key mismatch) and an untrusted provider: each is
// invalid_client at the token endpoint; a presented attestation that fails denies the issuance with the reason and
// is recorded as presented, a missing one leaves the exchange as it was.
func TestHAIPClientAttestationFailures(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	defID := h.definitionWith(haipPolicy)
	stranger := attesttest.NewProvider(t, "Untrusted Provider")
	tests := []struct {
		name   string
		attest func(w *haipWallet) func() (string, string)
		denied string
	}{
		{"missing", func(w *haipWallet) func() (string, string) { return nil }, ""},
		{"wrong attestation signature (VCIIssuerFailOnInvalidClientAttestationSignature)", func(w *haipWallet) func() (string, string) {
			return func() (string, string) {
				att, pop := w.attestedBy(h.provider, attesttest.ByX5C, nil, nil, nil)()
				return attesttest.BreakSignature(att), pop
			}
		}, "signature does not verify"},
		{"wrong PoP signature (VCIIssuerFailOnInvalidClientAttestationPopSignature)", func(w *haipWallet) func() (string, string) {
			return func() (string, string) {
				att, pop := w.attestedBy(h.provider, attesttest.ByX5C, nil, nil, nil)()
				return att, attesttest.BreakSignature(pop)
			}
		}, "does not verify with the attestation's cnf.jwk"},
		{"expired (VCIIssuerFailOnClientAttestationExpInPast)", func(w *haipWallet) func() (string, string) {
			return w.attestedBy(h.provider, attesttest.ByX5C, func(a *attesttest.ClientAttestation) {
				a.IssuedAt, a.Expires = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
			}, nil, nil)
		}, "has expired"},
		{"no sub (VCIIssuerFailOnClientAttestationNoSub)", func(w *haipWallet) func() (string, string) {
			return w.attestedBy(h.provider, attesttest.ByX5C, func(a *attesttest.ClientAttestation) {
				a.Extra = map[string]any{"sub": nil}
			}, nil, nil)
		}, "must carry sub"},
		{"wrong aud (VCIIssuerFailOnClientAttestationPopWrongAud)", func(w *haipWallet) func() (string, string) {
			return w.attestedBy(h.provider, attesttest.ByX5C, nil, func(p *attesttest.PoP) { p.Audience = "https://other.example" }, nil)
		}, "aud must be"},
		{"PoP key mismatch (VCIIssuerFailOnMismatchedClientAttestationPopKey)", func(w *haipWallet) func() (string, string) {
			return w.attestedBy(h.provider, attesttest.ByX5C, nil, nil, attesttest.NewKey(t))
		}, "does not verify with the attestation's cnf.jwk"},
		{"untrusted provider", func(w *haipWallet) func() (string, string) {
			return w.attestedBy(stranger, attesttest.ByX5C, nil, nil, nil)
		}, "trusted root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exID, code := h.offer(defID)
			w := h.newHAIPWallet("client")
			w.attest = tc.attest(w)
			before := h.history(exID)
			r := w.token(code, "", nil)
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || r.str("error_description") == "" {
				t.Fatalf("token %d %s, want 401 invalid_client", r.status, r.raw)
			}
			rec := h.history(exID)
			if tc.denied == "" {
				if !reflect.DeepEqual(before, rec) {
					t.Errorf("a missing attestation changed the record")
				}
				w.attest = w.attestedBy(h.provider, attesttest.ByX5C, nil, nil, nil)
				if ok := w.token(code, "", nil); ok.status != http.StatusOK {
					t.Errorf("the exchange is unusable after a missing attestation: %d %s", ok.status, ok.raw)
				}
				return
			}
			reason, _ := rec["issuanceDeniedReason"].(string)
			if rec["status"] != "issuance_denied" || !strings.Contains(reason, tc.denied) {
				t.Errorf("record %v %q, want issuance_denied with %q", rec["status"], reason, tc.denied)
			}
			if rec["walletUnitAttestation"] == "" || rec["walletUnitAttestationVerified"] != false || rec["clientAssertionVerified"] != false {
				t.Errorf("the failed attestation is not recorded as presented: %v %v", rec["walletUnitAttestation"], rec["walletUnitAttestationVerified"])
			}
			w.attest = w.attestedBy(h.provider, attesttest.ByX5C, nil, nil, nil)
			if again := w.token(code, "", nil); again.str("error") != "invalid_grant" {
				t.Errorf("a denied exchange redeemed again: %d %s", again.status, again.raw)
			}
		})
	}
}

// TestHAIPDPoPPolicy: by default a wallet without DPoP gets a bearer token and one with DPoP a bound one; a
// definition with requireDpop refuses the first (invalid_dpop_proof, record unchanged); REQUIRE_DPOP makes that
// the deployment default, which a definition's requireDpop false overrides.
func TestHAIPDPoPPolicy(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	open := h.definitionWith(nil)
	strict := h.definitionWith(map[string]any{"requireDpop": true})
	bearer := &haipWallet{h: h}
	_, code := h.offer(open)
	if r := bearer.token(code, "", nil); r.status != http.StatusOK || r.str("token_type") != "Bearer" {
		t.Fatalf("bearer wallet: %d %s", r.status, r.raw)
	}
	_, code = h.offer(open)
	if r := (&haipWallet{h: h, dpop: attesttest.NewKey(t)}).token(code, "", nil); r.status != http.StatusOK || r.str("token_type") != "DPoP" {
		t.Fatalf("DPoP wallet: %d %s", r.status, r.raw)
	}
	exID, code := h.offer(strict)
	before := h.history(exID)
	if r := bearer.token(code, "", nil); r.status != http.StatusBadRequest || r.str("error") != "invalid_dpop_proof" {
		t.Fatalf("bearer wallet on requireDpop: %d %s", r.status, r.raw)
	}
	if after := h.history(exID); !reflect.DeepEqual(before, after) {
		t.Error("the refused token request changed the record")
	}

	strictDeployment := startHAIPIssuer(t, func(c *config.Config) { c.RequireDPoP = true })
	bearer = &haipWallet{h: strictDeployment}
	_, code = strictDeployment.offer(strictDeployment.definitionWith(nil))
	if r := bearer.token(code, "", nil); r.str("error") != "invalid_dpop_proof" {
		t.Errorf("REQUIRE_DPOP: %d %s", r.status, r.raw)
	}
	_, code = strictDeployment.offer(strictDeployment.definitionWith(map[string]any{"requireDpop": false}))
	if r := bearer.token(code, "", nil); r.str("token_type") != "Bearer" {
		t.Errorf("requireDpop false under REQUIRE_DPOP: %d %s", r.status, r.raw)
	}
}

// TestHAIPKeyAttestation: a definition with keyAttestationsRequired announces it on the jwt and attestation proof
// types; a jwt proof carrying a key attestation binds every attested key, the attestation proof type too; a bad
// attestation signature (VCIIssuerFailOnInvalidKeyAttestationSignature), a missing attestation, a storage below
// the requirement and an attestation without the c_nonce are invalid_proof.
func TestHAIPKeyAttestation(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	defID := h.definitionWith(map[string]any{"keyAttestationsRequired": map[string]any{"keyStorage": []string{"iso_18045_high"}}})
	md := h.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil)
	cfg, _ := md.json["credential_configurations_supported"].(map[string]any)[defID].(map[string]any)
	types, _ := cfg["proof_types_supported"].(map[string]any)
	for _, pt := range []string{"jwt", "attestation"} {
		m, _ := types[pt].(map[string]any)
		if ka, _ := m["key_attestations_required"].(map[string]any); !reflect.DeepEqual(ka["key_storage"], []any{"iso_18045_high"}) {
			t.Errorf("proof type %s: %v", pt, m)
		}
	}
	w := &haipWallet{h: h, dpop: attesttest.NewKey(t)}
	redeem := func() string {
		_, code := h.offer(defID)
		tok := w.token(code, "", nil)
		if tok.status != http.StatusOK {
			t.Fatalf("token %d %s", tok.status, tok.raw)
		}
		return tok.str("access_token")
	}
	k1, k2 := attesttest.NewKey(t), attesttest.NewKey(t)
	attestation := func(nonce string, change func(*attesttest.KeyAttestation)) string {
		a := attesttest.KeyAttestation{Keys: []*attesttest.Key{k1, k2}, KeyStorage: []string{"iso_18045_high"},
			UserAuthentication: []string{"iso_18045_moderate"}, Nonce: nonce}
		if change != nil {
			change(&a)
		}
		return h.provider.KeyAttestationJWT(t, a)
	}
	want := []string{k1.Thumbprint(), k2.Thumbprint()}
	sort.Strings(want)

	t.Run("jwt proof with key_attestation binds every attested key", func(t *testing.T) {
		n := h.cNonce()
		cred := w.json("/credential", redeem(), map[string]any{"credential_configuration_id": defID,
			"proofs": map[string]any{"jwt": []string{h.keyProof(k1, n, map[string]any{"key_attestation": attestation(n, nil)})}}})
		got := h.boundKeys(cred)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("bound %v, want the attested %v", got, want)
		}
	})
	t.Run("attestation proof type", func(t *testing.T) {
		cred := w.json("/credential", redeem(), map[string]any{"credential_configuration_id": defID,
			"proofs": map[string]any{"attestation": []string{attestation(h.cNonce(), nil)}}})
		got := h.boundKeys(cred)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("bound %v, want the attested %v", got, want)
		}
	})
	access := redeem()
	for _, tc := range []struct {
		name, contains string
		body           func() map[string]any
	}{
		{"bad key attestation signature", "signature does not verify", func() map[string]any {
			n := h.cNonce()
			return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"jwt": []string{
				h.keyProof(k1, n, map[string]any{"key_attestation": attesttest.BreakSignature(attestation(n, nil))})}}}
		}},
		{"no key attestation", "requires a key attestation", func() map[string]any {
			return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"jwt": []string{h.keyProof(k1, h.cNonce(), nil)}}}
		}},
		{"proof key not attested", "not one of the attested_keys", func() map[string]any {
			n := h.cNonce()
			return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"jwt": []string{
				h.keyProof(attesttest.NewKey(t), n, map[string]any{"key_attestation": attestation(n, nil)})}}}
		}},
		{"key storage below the requirement", "key_storage must assert", func() map[string]any {
			return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"attestation": []string{
				attestation(h.cNonce(), func(a *attesttest.KeyAttestation) { a.KeyStorage = []string{"iso_18045_basic"} })}}}
		}},
		{"attestation without the c_nonce", "nonce", func() map[string]any {
			return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"attestation": []string{attestation("", nil)}}}
		}},
		{"untrusted key attestation", "trusted root", func() map[string]any {
			return map[string]any{"credential_configuration_id": defID, "proofs": map[string]any{"attestation": []string{
				attesttest.NewProvider(t, "Stranger").KeyAttestationJWT(t, attesttest.KeyAttestation{Keys: []*attesttest.Key{k1}, Nonce: h.cNonce()})}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.json("/credential", access, tc.body())
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_proof" || !strings.Contains(r.str("error_description"), tc.contains) {
				t.Errorf("got %d %s, want invalid_proof mentioning %q", r.status, r.raw, tc.contains)
			}
		})
	}
}

// TestCORS: preflights of the public documents and wallet endpoints are answered by the gateway (as API Gateway's
// mock integrations do) and their answers let any origin read them, DPoP-Nonce included; admin routes neither
// answer preflights nor carry CORS headers.
func TestCORS(t *testing.T) {
	h := startHAIPIssuer(t, nil)
	for _, path := range []string{"/token", "/credential", "/nonce", "/deferred-credential", "/notification",
		"/.well-known/openid-credential-issuer", "/.well-known/jwt-vc-issuer", "/status-lists/x", "/vct/x"} {
		r := h.do(http.MethodOptions, path, nil, "Origin", "https://wallet.example", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization,dpop,oauth-client-attestation")
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "DPoP") {
			t.Errorf("preflight of %s: %d %v", path, r.status, r.header)
		}
	}
	if r := h.do(http.MethodOptions, adminBase+"/credential/issue", nil, "Origin", "https://evil.example"); r.status != http.StatusForbidden ||
		r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("admin preflight: %d %v", r.status, r.header)
	}
	md := h.do(http.MethodGet, "/.well-known/openid-credential-issuer", nil, "Origin", "https://verifier.example")
	if md.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("metadata without CORS: %v", md.header)
	}
	w := &haipWallet{h: h, dpop: attesttest.NewKey(t)}
	_, code := h.offer(h.definitionWith(nil))
	tok := w.token(code, "", nil)
	if tok.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(tok.header.Get("Access-Control-Expose-Headers"), "DPoP-Nonce") {
		t.Errorf("token answer: %v", tok.header)
	}
	if a := h.admin(http.MethodGet, "/credential-definitions", nil); a.status != http.StatusOK || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("admin answer: %d %v", a.status, a.header)
	}
}
