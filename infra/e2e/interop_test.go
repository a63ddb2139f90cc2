package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// node finds node and the pinned npm packages (NODE_MODULES_DIR, default <repo>/.tools/node/node_modules). It
// fails when they are missing, and skips only under -short.
func node(t *testing.T) (string, string) {
	t.Helper()
	modules := os.Getenv("NODE_MODULES_DIR")
	if modules == "" {
		modules = filepath.Join(repoRoot(t), ".tools", "node", "node_modules")
	}
	bin, err := exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join(modules, "@openid4vc", "openid4vci", "package.json"))
	if err != nil || statErr != nil {
		if testing.Short() {
			t.Skip("node or the npm packages are missing; skipped under -short")
		}
		t.Fatalf("node (%v) or @openid4vc/openid4vci in %s (%v) missing: run make tools", err, modules, statErr)
	}
	return bin, modules
}

// runNode runs a script of infra/interop with input as JSON on stdin and decodes its stdout into out.
func runNode(t *testing.T, script string, input, out any) {
	t.Helper()
	bin, modules := node(t)
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, filepath.Join(repoRoot(t), "infra", "interop", script))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("%s: output %q: %v", script, stdout.String(), err)
	}
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
	node(t)
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
