package keys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// Both signers are what shared/sdjwt signs with.
var (
	_ sdjwt.Signer   = (*keys.KMSSigner)(nil)
	_ sdjwt.Signer   = (*keys.LocalSigner)(nil)
	_ keys.JWKSource = (*keys.KMSSigner)(nil)
	_ keys.JWKSource = (*keys.LocalSigner)(nil)
)

func TestThumbprintRFC7638Example(t *testing.T) {
	// RFC 7638 section 3.1: the RSA key of RFC 7517 appendix A.1 and its SHA-256 thumbprint.
	const rfcKey = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	key, err := jwk.ParseKey([]byte(rfcKey))
	if err != nil {
		t.Fatal(err)
	}
	got, err := keys.Thumbprint(key)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}

// ecThumbprint computes RFC 7638 for an EC key by hand: {"crv","kty","x","y"} in order, no whitespace.
func ecThumbprint(t *testing.T, key jwk.Key) string {
	t.Helper()
	b, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	canonical := `{"crv":"` + m["crv"].(string) + `","kty":"EC","x":"` + m["x"].(string) + `","y":"` + m["y"].(string) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkPublicJWK checks the JWK a signer publishes: public only, P-256, kid = thumbprint, alg ES256, use sig.
func checkPublicJWK(t *testing.T, s interface {
	keys.JWKSource
	KeyID() string
}) {
	t.Helper()
	pub := s.PublicJWK()
	if pub == nil {
		t.Fatal("PublicJWK is nil")
	}
	b, err := json.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": s.KeyID()}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("JWK %s = %v, want %v", k, m[k], v)
		}
	}
	if _, ok := m["d"]; ok {
		t.Error("public JWK carries the private key")
	}
	if got := ecThumbprint(t, pub); got != s.KeyID() {
		t.Errorf("KeyID %s is not the RFC 7638 thumbprint %s", s.KeyID(), got)
	}
	// Callers get their own copy.
	if err := pub.Set(jwk.KeyIDKey, "changed"); err != nil {
		t.Fatal(err)
	}
	if s.PublicJWK().KeyID() != s.KeyID() {
		t.Error("changing the returned JWK changed the signer's")
	}
}

// signAndVerify signs through the signing path (SignJWS) and verifies with the signer's public JWK: alg ES256,
// the caller's typ, the signer's kid.
func signAndVerify(t *testing.T, ctx context.Context, s interface {
	keys.JWKSource
	keys.Signer
}) {
	t.Helper()
	payload := []byte(`{"iss":"https://issuer.example.com"}`)
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "example+jwt"); err != nil {
		t.Fatal(err)
	}
	signed, err := keys.SignJWS(ctx, s, payload, hdr)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	msg, err := jws.Parse(signed, jws.WithCompact())
	if err != nil {
		t.Fatal(err)
	}
	if h := msg.Signatures()[0].ProtectedHeaders(); h.Algorithm() != jwa.ES256 || h.KeyID() != s.KeyID() || h.Type() != "example+jwt" {
		t.Errorf("protected header alg %s kid %s typ %s", h.Algorithm(), h.KeyID(), h.Type())
	}
	got, err := jws.Verify(signed, jws.WithKey(jwa.ES256, s.PublicJWK()))
	if err != nil {
		t.Fatalf("verify with the public JWK: %v", err)
	}
	if string(got) != string(payload) {
		t.Errorf("payload = %s", got)
	}
	other, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(signed, jws.WithKey(jwa.ES256, other.PublicJWK())); err == nil {
		t.Error("signature verifies with an unrelated key")
	}
}

func TestLocalSigner(t *testing.T) {
	s, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	checkPublicJWK(t, s)
	signAndVerify(t, context.Background(), s)

	again, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	if again.KeyID() == s.KeyID() {
		t.Error("two random keys have the same kid")
	}
}

func TestNewLocalFromKey(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     *ecdsa.PrivateKey
		wantErr error
	}{
		{"P-256", p256, nil},
		{"P-384 rejected", p384, keys.ErrKeyUnusable},
		{"nil rejected", nil, keys.ErrKeyUnusable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := keys.NewLocalFromKey(tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewLocalFromKey = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				a, _ := keys.NewLocalFromKey(tt.key)
				if a.KeyID() != s.KeyID() {
					t.Error("kid is not stable for one key")
				}
				signAndVerify(t, context.Background(), s)
			}
		})
	}
}

func TestPublicJWKS(t *testing.T) {
	a, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []keys.JWKSource
		kids []string
	}{
		{"none", nil, nil},
		{"two", []keys.JWKSource{a, b}, []string{a.KeyID(), b.KeyID()}},
		{"duplicate dropped", []keys.JWKSource{a, a, b}, []string{a.KeyID(), b.KeyID()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := keys.PublicJWKS(tt.in...)
			if set.Len() != len(tt.kids) {
				t.Fatalf("set has %d keys, want %d", set.Len(), len(tt.kids))
			}
			for i, kid := range tt.kids {
				k, ok := set.Key(i)
				if !ok || k.KeyID() != kid {
					t.Errorf("key %d kid = %v, want %s", i, k, kid)
				}
				if _, ok := set.LookupKeyID(kid); !ok {
					t.Errorf("kid %s not found", kid)
				}
			}
		})
	}
}
