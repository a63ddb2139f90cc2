package mdoc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// OIDDocumentSigner is the extended key usage of an mdoc document signer certificate (ISO 18013-5 Annex B,
// id-mdl-kp-mdlDS).
var OIDDocumentSigner = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 2}

// SelfSignedOptions describe a self-signed document signer certificate.
type SelfSignedOptions struct {
	// CommonName is the subject's CN, e.g. the issuer's host.
	CommonName string
	// Country is the subject's countryName (ISO 3166-1 alpha-2), which 18013-5 requires and verifiers compare
	// with the mDL's issuing_country.
	Country string
	// NotBefore and NotAfter bound the certificate; every MSO it signs must be signed within them.
	NotBefore, NotAfter time.Time
}

// SelfSignedCertificate makes a self-signed document signer certificate (DER) for the key of cs, signed by that
// key (one signature: a KMS Sign for a KMS key). Until the issuer has a certificate under a configured CA chain,
// this certificate is the whole x5chain, and a verifier trusts it directly. Its serial number is derived from
// the public key, so every certificate made for one key names the same serial and subject key identifier.
func SelfSignedCertificate(cs crypto.Signer, opts SelfSignedOptions) ([]byte, error) {
	pub, ok := cs.Public().(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: self-signed certificate: the key is not ECDSA", ErrSignature)
	}
	if opts.CommonName == "" || len(opts.Country) != 2 {
		return nil, fmt.Errorf("%w: self-signed certificate: a common name and a two-letter country are required", ErrSignature)
	}
	if !opts.NotAfter.After(opts.NotBefore) {
		return nil, fmt.Errorf("%w: self-signed certificate: notAfter is not after notBefore", ErrSignature)
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: self-signed certificate: %w", ErrSignature, err)
	}
	sum := sha256.Sum256(spki)
	serial := new(big.Int).SetBytes(sum[:16]) // positive, 128 bits
	name := pkix.Name{CommonName: opts.CommonName, Country: []string{opts.Country}}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             opts.NotBefore.UTC().Truncate(time.Second),
		NotAfter:              opts.NotAfter.UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{OIDDocumentSigner},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          sum[:20],
		AuthorityKeyId:        sum[:20],
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, es256Key{cs})
	if err != nil {
		return nil, fmt.Errorf("%w: self-signed certificate: %w", ErrSignature, err)
	}
	return der, nil
}
