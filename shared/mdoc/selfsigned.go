package mdoc

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// SelfSignedCountry is the countryName of a self-signed document signer certificate: ISO 3166-1's user-assigned
// "ZZ" (unknown or unspecified), since such a certificate asserts no issuing state. A verifier that compares an
// mDL's issuing_country with it will notice: an mDL meant for real verifiers needs a CA chain (issue 16).
const SelfSignedCountry = "ZZ"

// selfSignedValidity is how long a self-signed document signer certificate lasts: longer than the longest
// credential a definition allows (3650 days), so that no mdoc it signs outlives it.
const selfSignedValidity = (3650 + 30) * 24 * time.Hour

// SelfSignedIssuer issues mdocs with a self-signed document signer certificate of the signer's key, made on the
// first Issue (one signature: a KMS Sign per function instance that issues mdocs, none for those that do not)
// and kept for the life of the instance. It stands in until the key has a certificate under a configured CA
// chain; a verifier trusts the certificate (or the key it holds, the issuer's published signing key) directly.
// Safe for concurrent use.
type SelfSignedIssuer struct {
	signer     Signer
	commonName string
	now        func() time.Time
	opts       []Option

	mu     sync.Mutex
	issuer *Issuer
}

// NewSelfSignedIssuer returns an issuer whose certificate will name commonName (e.g. the issuer URL's host).
func NewSelfSignedIssuer(signer Signer, commonName string, opts ...Option) *SelfSignedIssuer {
	return &SelfSignedIssuer{signer: signer, commonName: commonName, now: time.Now, opts: opts}
}

// Issue issues doc (see Issuer.Issue), making the certificate first if this is the first document.
func (s *SelfSignedIssuer) Issue(ctx context.Context, doc Document) (*Issued, error) {
	is, err := s.Issuer(ctx)
	if err != nil {
		return nil, err
	}
	return is.Issue(ctx, doc)
}

// Issuer returns the issuer with its certificate, making the certificate on the first call; a failure (KMS
// unavailable) is not kept, so the next call tries again.
func (s *SelfSignedIssuer) Issuer(ctx context.Context) (*Issuer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.issuer != nil {
		return s.issuer, nil
	}
	if s.signer == nil {
		return nil, fmt.Errorf("%w: no signer", ErrSignature)
	}
	cs := s.signer.CryptoSigner(ctx)
	if cs == nil {
		return nil, fmt.Errorf("%w: signer has no key", ErrSignature)
	}
	now := s.now()
	der, err := SelfSignedCertificate(cs, SelfSignedOptions{CommonName: s.commonName, Country: SelfSignedCountry,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(selfSignedValidity)})
	if err != nil {
		return nil, fmt.Errorf("document signer certificate: %w", err)
	}
	is, err := NewIssuer(s.signer, [][]byte{der}, s.opts...)
	if err != nil {
		return nil, fmt.Errorf("document signer certificate: %w", err)
	}
	s.issuer = is
	return is, nil
}
