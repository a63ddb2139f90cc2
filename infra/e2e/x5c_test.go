package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// withChain configures the issuer with a chain made by a fresh root and intermediate for the local KMS key: the
// leaf made by leaf (nil: a valid leaf naming the issuer URL). It returns the root.
func withChain(t *testing.T, root **issuercert.CA, leaf func(ca *issuercert.CA, pub any, issuerURL string) []byte) func(*config.Config, aws.Config) {
	return func(cfg *config.Config, awsCfg aws.Config) {
		t.Helper()
		now := time.Now()
		r, err := issuercert.NewCA("E2E Root", now.Add(-time.Hour), now.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		inter, err := r.NewIntermediate("E2E Issuing CA", now.Add(-time.Hour), now.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		key, err := keys.NewKMS(context.Background(), kms.NewFromConfig(awsCfg), cfg.KMSKeyID)
		if err != nil {
			t.Fatal(err)
		}
		pub := key.CryptoSigner(context.Background()).Public()
		var chain []byte
		if leaf != nil {
			chain = leaf(inter, pub, cfg.IssuerURL)
		} else {
			c, err := inter.Issue(pub, issuercert.Subject{IssuerURL: cfg.IssuerURL}, now.Add(-time.Hour), now.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			chain = issuercert.PEM(c, inter.Cert, r.Cert)
		}
		cfg.Trust.IssuerCertChain = chain
		*root = r
	}
}

// TestCredentialVerifiedByX5C: with ISSUER_CERT_CHAIN configured, the credential's header carries x5c (the leaf of
// the KMS key and the intermediate, not the root) next to kid, and @sd-jwt/sd-jwt-vc verifies it with the root
// alone (Node's X.509 validation, no JWKS); /.well-known/jwt-vc-issuer still publishes the same key under the kid.
func TestCredentialVerifiedByX5C(t *testing.T) {
	var root *issuercert.CA
	is := startIssuerLogging(t, io.Discard, withChain(t, &root, nil))
	defID := is.definition()
	_, link := is.issue(map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
		"credential": map[string]any{"credentialSubject": erika}})
	access := is.accessToken(link)
	h := newHolder(t)
	cred := is.postJSON("/credential", access, map[string]any{"credential_configuration_id": defID,
		"proofs": map[string]any{"jwt": []string{h.proof(t, is.url, is.cNonce())}}})
	if cred.status != http.StatusOK {
		t.Fatalf("credential %d %s", cred.status, cred.raw)
	}
	sdjwt := cred.json["credentials"].([]any)[0].(map[string]any)["credential"].(string)
	var out struct {
		Header      map[string]any `json:"header"`
		Payload     map[string]any `json:"payload"`
		ChainLength int            `json:"chainLength"`
	}
	testkit.RunNode(t, "@sd-jwt/sd-jwt-vc", "../interop/verify_x5c.cjs", map[string]any{"sdjwt": sdjwt,
		"rootPem": string(issuercert.PEM(root.Cert)), "now": time.Now().Unix()}, &out)
	if out.ChainLength != 2 || out.Payload["iss"] != is.url || out.Payload["given_name"] != "Erika" || out.Header["kid"] == nil {
		t.Fatalf("verified header %v payload %v chain %d", out.Header, out.Payload, out.ChainLength)
	}
	x5c, _ := out.Header["x5c"].([]any)
	if len(x5c) != 2 || x5c[1] == base64.StdEncoding.EncodeToString(root.Cert.Raw) {
		t.Fatalf("x5c %v", x5c)
	}
	jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
	if !strings.Contains(string(jv.raw), out.Header["kid"].(string)) {
		t.Fatalf("jwt-vc-issuer does not publish the kid: %s", jv.raw)
	}

	// Another root is not trusted.
	other, err := issuercert.NewCA("Other Root", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if msg := nodeRefuses(t, "../interop/verify_x5c.cjs", map[string]any{"sdjwt": sdjwt,
		"rootPem": string(issuercert.PEM(other.Cert)), "now": time.Now().Unix()}); !strings.Contains(msg, "not issued") {
		t.Fatalf("against another root: %q", msg)
	}
}

// nodeRefuses runs a node script that must fail and returns what it wrote on stderr.
func nodeRefuses(t *testing.T, script string, input any) string {
	t.Helper()
	node, modules := testkit.Node(t, "@sd-jwt/sd-jwt-vc")
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := testkit.NodeCommand(ctx, node, modules, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("%s accepted what it should refuse", script)
	}
	return stderr.String()
}

// TestChainRefusedAtColdStart: a chain of another key, an expired leaf, or one naming another host makes the
// signing functions refuse (503, nothing signed), with the reason in the log.
func TestChainRefusedAtColdStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		leaf func(ca *issuercert.CA, pub any, issuerURL string) []byte
		log  string
	}{
		{"another key", func(ca *issuercert.CA, _ any, issuerURL string) []byte {
			other, err := keys.NewLocal()
			if err != nil {
				t.Fatal(err)
			}
			c, err := ca.Issue(other.CryptoSigner(context.Background()).Public(), issuercert.Subject{IssuerURL: issuerURL}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return issuercert.PEM(c, ca.Cert)
		}, "does not certify the signing key"},
		{"expired", func(ca *issuercert.CA, pub any, issuerURL string) []byte {
			c, err := ca.Issue(pub, issuercert.Subject{IssuerURL: issuerURL}, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return issuercert.PEM(c, ca.Cert)
		}, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var root *issuercert.CA
			logs := &testkit.SyncBuffer{}
			is := startIssuerLogging(t, logs, withChain(t, &root, tc.leaf))
			jv := is.do(http.MethodGet, "/.well-known/jwt-vc-issuer", nil)
			if jv.status != http.StatusServiceUnavailable {
				t.Fatalf("jwt-vc-issuer with a bad chain: %d %s", jv.status, jv.raw)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Fatalf("the log does not say %q", tc.log)
			}
		})
	}
}
