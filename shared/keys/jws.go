package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Signer is an issuer signing key as the signing path uses it; KMSSigner and LocalSigner implement it (and so do
// test doubles that wrap one). sdjwt.Signer and statuslist.Signer are the same method set.
type Signer interface {
	// KeyID is the `kid` of what the key signs: the RFC 7638 thumbprint of its public JWK.
	KeyID() string
	// CryptoSigner is the key as a crypto.Signer bound to ctx: Sign takes a SHA-256 digest and returns an ASN.1
	// DER ECDSA signature (one KMS Sign call for the KMS key). COSE signers (go-cose) take the same value.
	CryptoSigner(ctx context.Context) crypto.Signer
}

// ErrNoKey is what SignJWS returns for a signer without a usable crypto.Signer.
var ErrNoKey = errors.New("signer has no P-256 key")

// SignJWS is the one path by which the issuer signs a JWS: SD-JWT VCs, status list tokens and whatever else the
// issuer signs as a JWT (signed metadata, request objects). It signs payload with jws.Sign as a compact ES256 JWS
// whose protected header is hdr (typ and any other members the caller set; nil for none) plus alg ES256 and kid
// s.KeyID() (omitted when empty), which SignJWS and jws.Sign set in hdr: pass a fresh jws.Headers per call. jwx hashes the signing input and hands the SHA-256 digest to s's crypto.Signer,
// then turns its DER signature into the JOSE r||s form: exactly one Sign call of the key (one KMS Sign call with
// the KMS signer). The local key takes the same route as the KMS key: jwx never sees an *ecdsa.PrivateKey.
//
// Errors of the signer (ErrUnavailable, ErrKeyUnusable, the context's) stay in the chain for errors.Is.
func SignJWS(ctx context.Context, s Signer, payload []byte, hdr jws.Headers) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("sign JWS: %w", ErrNoKey)
	}
	cs := s.CryptoSigner(ctx)
	if cs == nil {
		return nil, fmt.Errorf("sign JWS: %w", ErrNoKey)
	}
	if pub, ok := cs.Public().(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("sign JWS: %w: public key is %T", ErrNoKey, cs.Public())
	}
	protected := hdr
	if protected == nil {
		protected = jws.NewHeaders()
	}
	if kid := s.KeyID(); kid != "" {
		if err := protected.Set(jws.KeyIDKey, kid); err != nil {
			return nil, fmt.Errorf("sign JWS: set kid: %w", err)
		}
	}
	if c, ok := s.(ChainSigner); ok {
		if err := setX5C(protected, c.CertificateChain()); err != nil {
			return nil, err
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.ES256, jwxSigner{cs}, jws.WithProtectedHeaders(protected)))
	if err != nil {
		return nil, fmt.Errorf("sign JWS: %w", err)
	}
	return out, nil
}

// setX5C sets the x5c header (RFC 7515 section 4.1.6: base64 DER, the key's certificate first).
func setX5C(hdr jws.Headers, chain [][]byte) error {
	if len(chain) == 0 {
		return nil
	}
	var c cert.Chain
	for _, der := range chain {
		if err := c.Add([]byte(base64.StdEncoding.EncodeToString(der))); err != nil {
			return fmt.Errorf("sign JWS: x5c: %w", err)
		}
	}
	if err := hdr.Set(jws.X509CertChainKey, &c); err != nil {
		return fmt.Errorf("sign JWS: set x5c: %w", err)
	}
	return nil
}

// jwxSigner hides the concrete type of a crypto.Signer from jwx, which would otherwise sign an *ecdsa.PrivateKey
// itself instead of calling its Sign method: every key goes through the crypto.Signer route of jws.Sign.
type jwxSigner struct{ cs crypto.Signer }

func (j jwxSigner) Public() crypto.PublicKey { return j.cs.Public() }

func (j jwxSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return j.cs.Sign(rand, digest, opts)
}
