package dpop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
)

// FuzzVerify feeds arbitrary DPoP header values: Verify must answer an *Error (or accept a valid proof), never
// panic or fail otherwise.
func FuzzVerify(f *testing.F) {
	now := time.Now()
	nonces, err := NewNonces(0, testNonceKey)
	if err != nil {
		f.Fatal(err)
	}
	key := attesttest.NewKey(f)
	f.Add(key.DPoPProof(f, attesttest.DPoP{Method: "POST", URL: tokenURL, Nonce: nonces.Issue(now)}))
	f.Add(key.DPoPProof(f, attesttest.DPoP{Method: "POST", URL: tokenURL, AccessToken: "t"}))
	f.Add(rawToken(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}`, `{"htu":1}`))
	f.Add("")
	f.Fuzz(func(t *testing.T, proof string) {
		c := Check{Method: "POST", URL: tokenURL, AccessToken: "t", Time: jwtverify.Window{Now: now}, Nonces: nonces,
			Replay: jwtverify.NewMemoryReplayCache(0)}
		_, err := Verify(context.Background(), proof, c)
		var de *Error
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("Verify returned a non-protocol error: %v", err)
		}
	})
}
