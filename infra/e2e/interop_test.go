package e2e

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
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
