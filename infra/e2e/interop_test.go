package e2e

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// openid4vci is the npm package the wallet scripts of infra/interop need.
const openid4vci = "@openid4vc/openid4vci"

// runNode runs a script of infra/interop with input as JSON on stdin and decodes its stdout into out; node and the
// pinned npm packages must be installed (testkit.Node).
func runNode(t *testing.T, script string, input, out any) {
	t.Helper()
	testkit.RunNode(t, openid4vci, filepath.Join(testkit.MustRepoRoot(t), "infra", "interop", script), input, out)
}

// walletRun is the output of infra/interop/oid4vci_schema.cjs.
type walletRun struct {
	DraftVersion     any              `json:"draftVersion"`
	ConfigurationIDs []string         `json:"configurationIds"`
	TokenType        string           `json:"tokenType"`
	Credentials      []string         `json:"credentials"`
	HolderJWK        map[string]any   `json:"holderJwk"`
	Notified         bool             `json:"notified"`
	DeferredUsed     bool             `json:"deferredUsed"`
	Errors           []map[string]any `json:"errors"`
	TxCode           map[string]any   `json:"txCode"`
}

// TestWalletLibraryInterop: the OpenWallet Foundation's wallet library (@openid4vc/openid4vci 0.4.6) redeems an
// offer of the running issuer (with a tx_code, and a wrong one first), and @sd-jwt/sd-jwt-vc verifies what it got
// with the key of /.well-known/jwt-vc-issuer.
func TestWalletLibraryInterop(t *testing.T) {
	testkit.Node(t, openid4vci)
	is := startIssuer(t)
	defID := is.definition()
	exID, link := is.issue(map[string]any{"issuanceMode": "InTime", "userPin": "4821", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})

	var run walletRun
	runNode(t, "oid4vci_schema.cjs", map[string]any{"offerUri": link, "txCode": "4821"}, &run)
	if run.TokenType != "Bearer" || len(run.Credentials) != 1 || !run.Notified || run.DeferredUsed {
		t.Fatalf("wallet run %+v", run)
	}
	if len(run.ConfigurationIDs) != 1 || run.ConfigurationIDs[0] != defID {
		t.Errorf("configuration ids %v", run.ConfigurationIDs)
	}
	wantProbe := map[string]string{"token-wrong-tx-code": "invalid_grant", "credential-bad-nonce": "invalid_nonce"}
	for _, e := range run.Errors {
		step, _ := e["step"].(string)
		if want, ok := wantProbe[step]; ok && e["error"] != want {
			t.Errorf("probe %s surfaced %v, want %s", step, e["error"], want)
		}
		delete(wantProbe, step)
	}
	if len(wantProbe) != 0 {
		t.Errorf("probes not run: %v", wantProbe)
	}

	jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
	keys, _ := jv.json["jwks"].(map[string]any)["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("jwks %s", jv.raw)
	}
	var verified struct {
		Payload map[string]any `json:"payload"`
		Header  map[string]any `json:"header"`
	}
	runNode(t, "verify.cjs", map[string]any{"sdjwt": run.Credentials[0], "issuerJwk": keys[0], "now": time.Now().Unix()}, &verified)
	if verified.Payload["iss"] != is.url || verified.Payload["vct"] != "PortableDocumentA1" ||
		verified.Payload["given_name"] != "Erika" || verified.Header["kid"] != keys[0].(map[string]any)["kid"] {
		t.Errorf("verified payload %v header %v", verified.Payload, verified.Header)
	}
	cnf, _ := verified.Payload["cnf"].(map[string]any)["jwk"].(map[string]any)
	for _, m := range []string{"kty", "crv", "x", "y"} {
		if cnf[m] != run.HolderJWK[m] {
			t.Errorf("cnf.jwk.%s = %v, want the wallet's %v", m, cnf[m], run.HolderJWK[m])
		}
	}
	if s := is.history(exID)["status"]; s != "credential_accepted" {
		t.Errorf("status %v after the library's notification", s)
	}
}

// TestHAIPWalletLibraryInterop: the OpenWallet Foundation's libraries (@openid4vc/openid4vci and
// @openid4vc/oauth2, pinned) redeem an offer of a definition that requires DPoP and a client attestation: the
// library finds DPoP and attest_jwt_client_auth in the metadata, retries use_dpop_nonce at the token endpoint and
// at the credential endpoint with the issuer's DPoP-Nonce, authenticates with the attestation the test's wallet
// provider issued (signing the PoP itself), gets a DPoP-bound token and a credential, and notifies.
func TestHAIPWalletLibraryInterop(t *testing.T) {
	testkit.Node(t, openid4vci)
	h := startHAIPIssuer(t, nil)
	defID := h.definitionWith(haipPolicy)
	exID, link := h.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	instance := attesttest.NewKey(t)
	attestation := h.provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "oid4vc-ts-wallet", Instance: instance})
	privateJWK, err := jwk.FromRaw(instance.Private)
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		DPoPAlgs    []string          `json:"dpopAlgs"`
		AuthMethods []string          `json:"authMethods"`
		TokenType   string            `json:"tokenType"`
		Credentials []string          `json:"credentials"`
		HolderJWK   map[string]string `json:"holderJwk"`
		Notified    bool              `json:"notified"`
	}
	runNode(t, "oid4vci_haip.cjs", map[string]any{"offerUri": link, "clientAttestation": attestation, "instanceKey": privateJWK}, &run)
	if run.TokenType != "DPoP" || len(run.Credentials) != 1 || !run.Notified {
		t.Fatalf("wallet run %+v", run)
	}
	if !slices.Contains(run.DPoPAlgs, "ES256") || !slices.Contains(run.AuthMethods, "attest_jwt_client_auth") {
		t.Errorf("metadata as the library read it: %v %v", run.DPoPAlgs, run.AuthMethods)
	}
	v, err := sdjwt.Verify(run.Credentials[0], sdjwt.WithIssuerKeySet(jwksOf(t, h.issuer)))
	if err != nil {
		t.Fatal(err)
	}
	if cnf, _ := v.Claims["cnf"].(map[string]any)["jwk"].(map[string]any); cnf["x"] != run.HolderJWK["x"] {
		t.Errorf("cnf.jwk %v, want the library's holder key", cnf)
	}
	rec := h.history(exID)
	if rec["status"] != "credential_accepted" || rec["clientId"] != "oid4vc-ts-wallet" || rec["walletUnitAttestationVerified"] != true ||
		rec["walletUnitAttestation"] != attestation {
		t.Errorf("record %v %v %v", rec["status"], rec["clientId"], rec["walletUnitAttestationVerified"])
	}
}

// authcodeRun is the output of infra/interop/oid4vci_authcode.cjs.
type authcodeRun struct {
	AS                    map[string]any    `json:"as"`
	AuthorizationRequest  map[string]string `json:"authorizationRequest"`
	IDTokenRequest        map[string]string `json:"idTokenRequest"`
	RequestObject         map[string]any    `json:"requestObject"`
	AuthorizationResponse map[string]any    `json:"authorizationResponse"`
	TokenResponse         map[string]any    `json:"tokenResponse"`
	Credentials           []string          `json:"credentials"`
	TransactionID         string            `json:"transactionId"`
	HolderDID             string            `json:"holderDid"`
}

// TestAuthorizationCodeWalletLibraryInterop: the OpenWallet Foundation's libraries (@openid4vc/openid4vci and
// @openid4vc/oauth2, pinned) take an offer through the authorization code grant against the running issuer: the
// library pushes the request (PAR with PKCE S256, the offer's issuer_state, the configuration's scope, a DPoP
// proof retried on use_dpop_nonce, the client attestation of the test's wallet provider), the script answers the
// ID token request as an EWC RFC001 wallet (request object checked against the published key, an ID token by
// did:jwk posted to direct_post), the library verifies the authorization response (iss, state) and redeems the code
// with the PKCE verifier and DPoP, and gets the credential. Then a wallet-initiated run: no offer, the scope of a
// definition with walletInitiated, a Deferred exchange naming the holder's DID, completed by the admin PUT.
func TestAuthorizationCodeWalletLibraryInterop(t *testing.T) {
	testkit.Node(t, openid4vci)
	h := startHAIPIssuer(t, nil)
	defID := h.definitionWith(haipPolicy)
	// Both definitions exist before the metadata is first read (each container caches it for 30 s).
	open := h.definitionWith(map[string]any{"walletInitiated": true})
	exID, link := h.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	instance := attesttest.NewKey(t)
	attestation := h.provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "oid4vc-ts-wallet", Instance: instance})
	privateJWK, err := jwk.FromRaw(instance.Private)
	if err != nil {
		t.Fatal(err)
	}
	var run authcodeRun
	runNode(t, "oid4vci_authcode.cjs", map[string]any{"offerUri": link, "clientAttestation": attestation,
		"instanceKey": privateJWK, "dpop": true}, &run)
	if run.AuthorizationRequest["request_uri"] == "" || len(run.AuthorizationRequest) != 2 {
		t.Errorf("the library did not push the request: authorization URL query %v", run.AuthorizationRequest)
	}
	if run.IDTokenRequest["response_type"] != "id_token" || run.RequestObject["nonce"] == nil ||
		run.AuthorizationResponse["iss"] != h.url || run.TokenResponse["token_type"] != "DPoP" || len(run.Credentials) != 1 {
		t.Fatalf("run %+v", run)
	}
	v, err := sdjwt.Verify(run.Credentials[0], sdjwt.WithIssuerKeySet(jwksOf(t, h.issuer)))
	if err != nil || v.Claims["given_name"] != "Erika" {
		t.Fatalf("credential: %v %v", err, v)
	}
	rec := h.history(exID)
	holder, _ := rec["holder"].(map[string]any)
	if rec["isPreAuthorised"] != false || rec["clientId"] != "oid4vc-ts-wallet" || holder["id"] != run.HolderDID ||
		rec["idTokenVerified"] != true || rec["walletUnitAttestationVerified"] != true {
		t.Errorf("record %v", rec)
	}

	var wi authcodeRun
	runNode(t, "oid4vci_authcode.cjs", map[string]any{"issuer": h.url, "configurationId": open, "dpop": true}, &wi)
	if wi.TransactionID == "" || len(wi.Credentials) != 0 {
		t.Fatalf("wallet-initiated run %+v", wi)
	}
	list := h.admin(http.MethodGet, "/credential/history?credentialDefinitionId="+open, nil)
	items, _ := list.json["credentialHistory"].([]any)
	if len(items) != 1 {
		t.Fatalf("wallet-initiated exchanges: %s", list.raw)
	}
	wiRec, _ := items[0].(map[string]any)
	if holder, _ := wiRec["holder"].(map[string]any); holder["id"] != wi.HolderDID || wiRec["issuanceMode"] != "Deferred" {
		t.Fatalf("wallet-initiated record %v", wiRec)
	}
	put := h.admin(http.MethodPut, "/credential/history/"+wiRec["credentialExchangeId"].(string), map[string]any{
		"credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	if put.status != http.StatusOK {
		t.Fatalf("complete: %d %s", put.status, put.raw)
	}
}
