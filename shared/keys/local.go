package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// LocalSigner signs with a P-256 private key held in memory: for tests, benchmarks and the dev server without
// KMS. Safe for concurrent use.
type LocalSigner struct {
	key *ecdsa.PrivateKey
	jwk jwk.Key
	kid string
}

// NewLocal returns a signer with a fresh random P-256 key.
func NewLocal() (*LocalSigner, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate P-256 key: %w", err)
	}
	return NewLocalFromKey(key)
}

// NewLocalFromKey returns a signer with key, which must be on P-256.
func NewLocalFromKey(key *ecdsa.PrivateKey) (*LocalSigner, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("local signer: key is not a P-256 private key: %w", ErrKeyUnusable)
	}
	pub, kid, err := publicJWK(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("local signer: %w", err)
	}
	return &LocalSigner{key: key, jwk: pub, kid: kid}, nil
}

// KeyID is the RFC 7638 thumbprint of the public key, the `kid` of what this signer signs.
func (s *LocalSigner) KeyID() string { return s.kid }

// PublicJWK is a copy of the public JWK, with kid, alg ES256 and use sig.
func (s *LocalSigner) PublicJWK() jwk.Key { return cloneJWK(s.jwk) }

// CryptoSigner returns the private key as a crypto.Signer (ECDSA over a SHA-256 digest, DER signature), which SignJWS
// hands to jws.Sign exactly as it hands over the KMS signer; ctx is unused, signing is local.
func (s *LocalSigner) CryptoSigner(context.Context) crypto.Signer { return s.key }
