package keyattest

import (
	"errors"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// FuzzVerify feeds arbitrary key attestations: Verify must answer an *Error (or accept), never panic.
func FuzzVerify(f *testing.F) {
	provider := attesttest.NewProvider(f, "Trusted")
	trust := &wallettrust.Anchors{}
	if err := trust.Add("root.pem", provider.RootPEM()); err != nil {
		f.Fatal(err)
	}
	f.Add(provider.KeyAttestationJWT(f, attesttest.KeyAttestation{Keys: []*attesttest.Key{attesttest.NewKey(f)},
		KeyStorage: []string{ISO18045High}}))
	f.Add("a.b.c")
	now := time.Now()
	f.Fuzz(func(t *testing.T, token string) {
		_, err := Verify(token, Options{Trust: trust, Time: jwtverify.Window{Now: now},
			Required: &Requirements{KeyStorage: []string{ISO18045High}}})
		var ke *Error
		if err != nil && !errors.As(err, &ke) {
			t.Fatalf("Verify returned a non-protocol error: %v", err)
		}
	})
}
