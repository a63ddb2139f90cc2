package idtoken_test

import (
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/idtoken"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
)

// FuzzVerify: whatever a wallet posts as id_token, Verify answers without panicking, and accepts nothing that is
// not signed by the key it names (the seed corpus holds one valid token; mutations break its signature).
func FuzzVerify(f *testing.F) {
	p := newP256(&testing.T{})
	f.Add(p.sign(&testing.T{}, map[string]any{"kid": p.didKey()}, claimsFor(p.didKey())))
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		v, err := idtoken.Verify(token, expect())
		if err == nil && v.Subject == "" {
			t.Fatal("accepted without a subject")
		}
	})
}

// FuzzResolveDID: a DID from an ID token's kid or sub is decoded without panicking; a resolved key is usable.
func FuzzResolveDID(f *testing.F) {
	p := newP256(&testing.T{})
	f.Add(p.didKey())
	f.Add(p.didJWK(&testing.T{}) + "#0")
	f.Add("did:key:z")
	f.Fuzz(func(t *testing.T, did string) {
		_, key, err := idtoken.ResolveDID(did, "the DID")
		if err == nil && (key == nil || key.Thumbprint == "") {
			t.Fatal("resolved without a key")
		}
		if err != nil {
			if _, ok := err.(*jwtverify.Error); !ok {
				t.Fatalf("error %T", err)
			}
		}
	})
}
