package sdjwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// TestHolderJWKIsPublic checks that cnf.jwk carries the public key only, whatever key the caller hands over.
func TestHolderJWKIsPublic(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]any{"EC private key": ec, "EC public key": &ec.PublicKey, "Ed25519 private key": ed} {
		t.Run(name, func(t *testing.T) {
			key, err := jwk.FromRaw(raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := holderJWK(key)
			if err != nil {
				t.Fatal(err)
			}
			var members map[string]any
			if err := json.Unmarshal(got, &members); err != nil {
				t.Fatal(err)
			}
			if _, ok := members["d"]; ok || members["x"] == nil {
				t.Errorf("cnf.jwk = %s, want the public key only", got)
			}
		})
	}
}
