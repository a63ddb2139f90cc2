package keys_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// countingKey wraps a signer's crypto.Signer and counts its Sign calls.
type countingKey struct {
	keys.Signer
	calls int
}

func (c *countingKey) CryptoSigner(ctx context.Context) crypto.Signer {
	return countedSigner{c.Signer.CryptoSigner(ctx), &c.calls}
}

type countedSigner struct {
	crypto.Signer
	calls *int
}

func (c countedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	*c.calls++
	return c.Signer.Sign(r, digest, opts)
}

// SignJWS signs through the key's crypto.Signer, once per JWS, for the local key as for the KMS key.
func TestSignJWSCallsTheKeyOnce(t *testing.T) {
	local, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	key := &countingKey{Signer: local}
	for i := 1; i <= 3; i++ {
		signed, err := keys.SignJWS(context.Background(), key, []byte(`{"n":1}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if key.calls != i {
			t.Fatalf("%d JWS made %d Sign calls", i, key.calls)
		}
		if _, err := jws.Verify(signed, jws.WithKey(jwa.ES256, local.PublicJWK())); err != nil {
			t.Fatal(err)
		}
	}
}

type fixedKey struct {
	kid string
	cs  crypto.Signer
}

func (f fixedKey) KeyID() string                              { return f.kid }
func (f fixedKey) CryptoSigner(context.Context) crypto.Signer { return f.cs }

type failingSigner struct{ pub crypto.PublicKey }

var errSignFailed = errors.New("sign failed")

func (f failingSigner) Public() crypto.PublicKey { return f.pub }
func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errSignFailed
}

func TestSignJWSRefuses(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    keys.Signer
		want error
	}{
		{"no signer", nil, keys.ErrNoKey},
		{"no crypto.Signer", fixedKey{"k", nil}, keys.ErrNoKey},
		{"P-384 key", fixedKey{"k", p384}, keys.ErrNoKey},
		{"the key fails", fixedKey{"k", failingSigner{&p256.PublicKey}}, errSignFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := keys.SignJWS(context.Background(), tt.s, []byte("{}"), nil)
			if !errors.Is(err, tt.want) || out != nil {
				t.Fatalf("SignJWS = %q, %v; want %v", out, err, tt.want)
			}
		})
	}
}
