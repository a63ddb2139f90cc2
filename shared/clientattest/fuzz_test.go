package clientattest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// FuzzVerify feeds arbitrary attestation and PoP header values: Verify must answer an *Error (or accept), never
// panic or fail otherwise.
func FuzzVerify(f *testing.F) {
	provider := attesttest.NewProvider(f, "Trusted")
	trust := &wallettrust.Anchors{}
	if err := trust.Add("root.pem", provider.RootPEM()); err != nil {
		f.Fatal(err)
	}
	if err := trust.Add("keys.json", provider.JWKS()); err != nil {
		f.Fatal(err)
	}
	instance := attesttest.NewKey(f)
	att := provider.ClientAttestationJWT(f, attesttest.ClientAttestation{Sub: "c", Instance: instance})
	f.Add(att, attesttest.PoPJWT(f, instance, attesttest.PoP{Audience: issuer}))
	f.Add(provider.ClientAttestationJWT(f, attesttest.ClientAttestation{Sub: "c", Instance: instance, With: attesttest.ByJWKS}), "x.y.z")
	f.Add("", "")
	now := time.Now()
	f.Fuzz(func(t *testing.T, attestation, pop string) {
		_, err := Verify(context.Background(), attestation, pop, Options{Trust: trust, Audience: issuer,
			Time: jwtverify.Window{Now: now}, Replay: jwtverify.NewMemoryReplayCache(0)})
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("Verify returned a non-protocol error: %v", err)
		}
		if Decoded(attestation) == nil && err == nil {
			t.Fatal("an attestation that does not decode was accepted")
		}
	})
}
