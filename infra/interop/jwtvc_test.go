package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/shared/jwtvc"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

type jwtvcVerifyOutput struct {
	Header   map[string]any `json:"header"`
	Payload  map[string]any `json:"payload"`
	Problems []string       `json:"problems"`
}

func jwtvcCredential(holder jwk.Key) jwtvc.Credential {
	now := time.Now().Add(-time.Minute)
	return jwtvc.Credential{
		Issuer:    "https://issuer.example",
		Types:     []string{"VerifiableCredential", "EmployeeID"},
		IssuedAt:  now,
		Expiry:    now.Add(24 * time.Hour),
		HolderKey: holder,
		Status:    &jwtvc.StatusReference{Index: 9, URI: "https://issuer.example/status-lists/1"},
		Subject:   map[string]any{"given_name": "Erika", "family_name": "Mustermann", "address": map[string]any{"locality": "Berlin"}},
	}
}

// TestJoseVerifiesOurJWTVC: jose verifies the signature with the issuer's JWKS (by kid), typ JWT, alg ES256, nbf
// and exp, and the VCDM 1.1 JWT encoding rules and the holder binding check out.
func TestJoseVerifiesOurJWTVC(t *testing.T) {
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	_, holder := newKey(t)
	c := jwtvcCredential(holder)
	token, err := jwtvc.Issue(context.Background(), signer, c)
	if err != nil {
		t.Fatal(err)
	}
	var out jwtvcVerifyOutput
	testkit.RunNode(t, "jose", "jwtvc_verify.cjs", map[string]any{
		"jwt": token, "jwks": keys.PublicJWKS(signer), "now": time.Now().Unix(), "holderJwk": holder,
	}, &out)
	if len(out.Problems) != 0 {
		t.Fatalf("problems: %v", out.Problems)
	}
	if out.Header["kid"] != signer.KeyID() {
		t.Errorf("kid = %v", out.Header["kid"])
	}
	subject := out.Payload["vc"].(map[string]any)["credentialSubject"].(map[string]any)
	if subject["given_name"] != "Erika" || canonical(t, subject["address"]) != `{"locality":"Berlin"}` {
		t.Errorf("credentialSubject = %v", subject)
	}
}

// TestJoseRefusesWhatItShould: the same verifier refuses a token signed by another key and an expired one, so the
// test above can fail.
func TestJoseRefusesWhatItShould(t *testing.T) {
	signer, _ := keys.NewLocal()
	other, _ := keys.NewLocal()
	_, holder := newKey(t)
	token, err := jwtvc.Issue(context.Background(), signer, jwtvcCredential(holder))
	if err != nil {
		t.Fatal(err)
	}
	node, modules := testkit.Node(t, "jose")
	for name, input := range map[string]map[string]any{
		"other issuer key": {"jwt": token, "jwks": keys.PublicJWKS(other), "now": time.Now().Unix()},
		"expired":          {"jwt": token, "jwks": keys.PublicJWKS(signer), "now": time.Now().Add(48 * time.Hour).Unix()},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := testkit.NodeCommand(context.Background(), node, modules, "jwtvc_verify.cjs")
			cmd.Stdin = jsonReader(t, input)
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Fatalf("jose accepted it: %s", out)
			} else if _, ok := err.(*exec.ExitError); !ok {
				t.Fatal(err)
			}
		})
	}
}

func jsonReader(tb testing.TB, v any) *bytes.Reader {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.NewReader(b)
}
