package sdjwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// TestAppendHolderJWK checks that cnf.jwk is exactly json.Marshal(key.PublicKey()) for every kind
// of holder key, and that the plain EC keys wallets send take the direct path.
func TestAppendHolderJWK(t *testing.T) {
	ecKey := func(t *testing.T, c elliptic.Curve) jwk.Key {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := jwk.FromRaw(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	with := func(name string, value any) func(*testing.T) jwk.Key {
		return func(t *testing.T) jwk.Key {
			k := ecKey(t, elliptic.P256())
			if err := k.Set(name, value); err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
	chain := &cert.Chain{}
	if err := chain.AddString("MIIB"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		key    func(t *testing.T) jwk.Key
		direct bool
	}{
		{"P-256", func(t *testing.T) jwk.Key { return ecKey(t, elliptic.P256()) }, true},
		{"P-384", func(t *testing.T) jwk.Key { return ecKey(t, elliptic.P384()) }, true},
		{"P-521", func(t *testing.T) jwk.Key { return ecKey(t, elliptic.P521()) }, true},
		{"parsed RFC 9901 holder key", func(t *testing.T) jwk.Key {
			k, err := jwk.ParseKey([]byte(referenceHolderJWK))
			if err != nil {
				t.Fatal(err)
			}
			return k
		}, true},
		{"with kid", with(jwk.KeyIDKey, "holder-1<&>"), false},
		{"with alg", with(jwk.AlgorithmKey, jwa.ES256), false},
		{"with use", with(jwk.KeyUsageKey, "sig"), false},
		{"with key_ops", with(jwk.KeyOpsKey, jwk.KeyOperationList{jwk.KeyOpVerify}), false},
		{"with x5t", with(jwk.X509CertThumbprintKey, "dGh1bWI"), false},
		{"with x5t#S256", with(jwk.X509CertThumbprintS256Key, "dGh1bWI"), false},
		{"with x5u", with(jwk.X509URLKey, "https://example.com/c.pem"), false},
		{"with x5c", with(jwk.X509CertChainKey, chain), false},
		{"with private parameter", with("ext", "x\u2028y"), false},
		{"EC private key", func(t *testing.T) jwk.Key {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			priv, err := jwk.FromRaw(k)
			if err != nil {
				t.Fatal(err)
			}
			return priv
		}, false},
		{"Ed25519", func(t *testing.T) jwk.Key {
			pub, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			k, err := jwk.FromRaw(pub)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key(t)
			pub, err := key.PublicKey()
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(pub)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendHolderJWK([]byte("prefix"), key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("cnf.jwk = %s\nwant       prefix%s", got, want)
			}
			ec, isEC := key.(jwk.ECDSAPublicKey)
			if direct := isEC && plainECKey(ec); direct != tc.direct {
				t.Errorf("direct path = %v, want %v", direct, tc.direct)
			}
		})
	}
}
