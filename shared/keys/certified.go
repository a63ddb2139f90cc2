package keys

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/issuercert"
)

// ChainSigner is a signer whose key is certified: SignJWS adds its chain as x5c, and COSE signers (mdoc) put
// CertificateChain in x5chain.
type ChainSigner interface {
	Signer
	// CertificateChain is the chain as DER, the key's certificate first, the root left out.
	CertificateChain() [][]byte
}

// certifiable is what Certify needs of a key: both signers are.
type certifiable interface {
	Signer
	JWKSource
}

// Certified is a signing key with its validated certificate chain. It signs like the key it wraps (the same
// kid, the same single Sign call), every JWS of SignJWS carries x5c next to kid, and a signature after the
// leaf certificate expired is refused (ErrKeyUnusable) instead of producing a credential no verifier accepts.
type Certified struct {
	key   certifiable
	chain *issuercert.Chain
	now   func() time.Time
}

// Certify validates chain (PEM, leaf first, the root last) for key and issuerURL at now and returns the key
// with its chain. The error says what is wrong with the chain (issuercert.ErrInvalidChain in the chain).
func Certify(key interface {
	Signer
	JWKSource
}, chainPEM []byte, issuerURL string, now func() time.Time) (*Certified, error) {
	chain, err := issuercert.ParsePEM(chainPEM)
	if err != nil {
		return nil, err
	}
	cs := key.CryptoSigner(context.Background())
	if cs == nil {
		return nil, fmt.Errorf("certify: %w", ErrNoKey)
	}
	if err := chain.Validate(issuercert.Options{Public: cs.Public(), IssuerURL: issuerURL, Now: now()}); err != nil {
		return nil, err
	}
	return &Certified{key: key, chain: chain, now: now}, nil
}

// KeyID is the wrapped key's kid.
func (c *Certified) KeyID() string { return c.key.KeyID() }

// PublicJWK is the wrapped key's public JWK.
func (c *Certified) PublicJWK() jwk.Key { return c.key.PublicJWK() }

// Chain is the validated chain.
func (c *Certified) Chain() *issuercert.Chain { return c.chain }

// CertificateChain is the chain as DER, the leaf first, without the root.
func (c *Certified) CertificateChain() [][]byte { return c.chain.DER() }

// X5C is the chain as the x5c header carries it.
func (c *Certified) X5C() []string { return slices.Clone(c.chain.X5C()) }

// CryptoSigner is the wrapped key's signer, refusing to sign once the leaf certificate expired.
func (c *Certified) CryptoSigner(ctx context.Context) crypto.Signer {
	return certifiedSigner{Signer: c.key.CryptoSigner(ctx), c: c}
}

type certifiedSigner struct {
	crypto.Signer
	c *Certified
}

// Sign signs with the wrapped key while the leaf certificate is valid.
func (s certifiedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.Signer == nil {
		return nil, ErrNoKey
	}
	if leaf := s.c.chain.Leaf(); s.c.now().After(leaf.NotAfter) {
		return nil, fmt.Errorf("sign: the issuer certificate expired at %s; configure a renewed chain: %w",
			leaf.NotAfter.UTC().Format(time.RFC3339), ErrKeyUnusable)
	}
	return s.Signer.Sign(r, digest, opts)
}
