package attesttest

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

func TestProviderChainLeadsToItsRoot(t *testing.T) {
	p := NewProvider(t, "Example Provider")
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(p.Root)
	inter.AddCert(p.Intermediate)
	if _, err := p.Leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
		t.Fatalf("leaf does not chain to the root: %v", err)
	}
	if !strings.Contains(string(p.RootPEM()), "BEGIN CERTIFICATE") {
		t.Error("RootPEM is not PEM")
	}
	var set struct {
		Issuer string           `json:"issuer"`
		Keys   []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(p.JWKS(), &set); err != nil || set.Issuer != p.Issuer || len(set.Keys) != 1 || set.Keys[0]["kid"] != p.JWKSKeyID || set.Keys[0]["d"] != nil {
		t.Errorf("JWKS = %s, %v", p.JWKS(), err)
	}
}

func TestDPoPProofSignsWhatItSays(t *testing.T) {
	k := NewKey(t)
	proof := k.DPoPProof(t, DPoP{Method: "POST", URL: "https://i.example/credential", AccessToken: "tok", Nonce: "n"})
	payload, err := jws.Verify([]byte(proof), jws.WithKey(jwa.ES256, k.Private.Public()))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	sum := sha256.Sum256([]byte("tok"))
	if c["htm"] != "POST" || c["nonce"] != "n" || c["ath"] != base64.RawURLEncoding.EncodeToString(sum[:]) || c["jti"] == "" {
		t.Errorf("claims %v", c)
	}
	if broken := BreakSignature(proof); broken == proof {
		t.Error("BreakSignature changed nothing")
	} else if _, err := jws.Verify([]byte(broken), jws.WithKey(jwa.ES256, k.Private.Public())); err == nil {
		t.Error("a broken signature verifies")
	}
}
