// Package issuercert is the issuer key's X.509 certificate chain: parsing the deployment's PEM chain, validating it
// at cold start against the signing key and the issuer URL, and the chain as JOSE x5c (SD-JWT VC headers, signed
// metadata) and as DER (COSE x5chain of mdocs). It also makes the local root CA and leaf of `make run`, and the CSR
// an operator sends to the deployment's CA (infra/cmd/issuer-csr).
//
// The chain a deployment configures is PEM, leaf first, then the intermediates, then the CA's root (the trust
// anchor). The root validates the chain and is never sent: x5c holds the leaf and the intermediates (HAIP 1.0 and
// RFC 7515 section 4.1.6: the trust anchor is not included).
package issuercert

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"
)

// MaxCertificates bounds the chain: the leaf, a few intermediates and the root.
const MaxCertificates = 6

// ErrInvalidChain is what every refusal of a chain wraps.
var ErrInvalidChain = errors.New("issuer certificate chain refused")

// Chain is a validated issuer certificate chain.
type Chain struct {
	certs []*x509.Certificate // leaf first, the root last
}

// ParsePEM reads a PEM bundle of CERTIFICATE blocks, leaf first and the root last. It checks the form only;
// Validate checks the chain.
func ParsePEM(data []byte) (*Chain, error) {
	var certs []*x509.Certificate
	rest := bytes.TrimSpace(data)
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%w: the text after certificate %d is not a PEM block", ErrInvalidChain, len(certs))
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: PEM block %d is %q; the chain holds only CERTIFICATE blocks (never a key)",
				ErrInvalidChain, len(certs)+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrInvalidChain, len(certs)+1, err)
		}
		certs = append(certs, c)
		if len(certs) > MaxCertificates {
			return nil, fmt.Errorf("%w: more than %d certificates", ErrInvalidChain, MaxCertificates)
		}
		rest = bytes.TrimSpace(rest)
	}
	if len(certs) < 2 {
		return nil, fmt.Errorf("%w: %d certificate(s); give the leaf certificate of the signing key, the "+
			"intermediates, and the CA's root certificate last", ErrInvalidChain, len(certs))
	}
	return &Chain{certs: certs}, nil
}

// Options are what Validate checks the chain against.
type Options struct {
	// Public is the signing key's public key (the KMS key's, fetched with GetPublicKey).
	Public crypto.PublicKey
	// IssuerURL is the credential issuer identifier: the leaf must name its host (a dNSName SAN, or for an IP
	// address an iPAddress SAN) or the URL itself (a uniformResourceIdentifier SAN), as SD-JWT VC and HAIP 1.0
	// require of an x5c issuer.
	IssuerURL string
	// Now is the time of the check.
	Now time.Time
}

// Validate refuses a chain whose leaf does not certify the signing key, that does not chain to its last
// certificate (a self-signed root) through CA certificates, in which any certificate is not yet or no longer
// valid, whose leaf is a CA or may not sign, or whose leaf does not name the issuer. The error says which and how
// to fix it.
func (c *Chain) Validate(o Options) error {
	leaf, root := c.certs[0], c.certs[len(c.certs)-1]
	pub, ok := o.Public.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(leaf.PublicKey) {
		return fmt.Errorf("%w: the leaf certificate (the first) does not certify the signing key: make a CSR with "+
			"infra/cmd/issuer-csr and have it signed, or put the certificate of this key first", ErrInvalidChain)
	}
	for i, cert := range c.certs {
		switch {
		case o.Now.Before(cert.NotBefore):
			return fmt.Errorf("%w: certificate %d (%s) is not valid before %s", ErrInvalidChain, i+1, describe(cert),
				cert.NotBefore.UTC().Format(time.RFC3339))
		case o.Now.After(cert.NotAfter):
			return fmt.Errorf("%w: certificate %d (%s) expired at %s: renew it", ErrInvalidChain, i+1, describe(cert),
				cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	if err := root.CheckSignatureFrom(root); err != nil || !bytes.Equal(root.RawIssuer, root.RawSubject) {
		return fmt.Errorf("%w: the last certificate (%s) is not a self-signed root: end the chain with the CA's "+
			"root certificate", ErrInvalidChain, describe(root))
	}
	if leaf.IsCA {
		return fmt.Errorf("%w: the leaf certificate is a CA certificate; the signing key needs an end-entity "+
			"certificate", ErrInvalidChain)
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("%w: the leaf certificate's key usage does not allow digital signatures", ErrInvalidChain)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	for _, cert := range c.certs[1 : len(c.certs)-1] {
		inter.AddCert(cert)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: o.Now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("%w: the chain does not verify from the leaf to the root: %w", ErrInvalidChain, err)
	}
	return checkIssuerName(leaf, o.IssuerURL)
}

// checkIssuerName requires the leaf to name the issuer: its URL as a URI SAN, or its host as a DNS (or IP) SAN.
func checkIssuerName(leaf *x509.Certificate, issuerURL string) error {
	u, err := url.Parse(issuerURL)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("%w: the issuer URL has no host to compare with the certificate", ErrInvalidChain)
	}
	for _, uri := range leaf.URIs {
		if uri.String() == issuerURL {
			return nil
		}
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return nil
		}
	} else if leaf.VerifyHostname(host) == nil && len(leaf.DNSNames) > 0 {
		return nil
	}
	return fmt.Errorf("%w: the leaf certificate names neither %s (a URI subject alternative name) nor its host "+
		"%s (a DNS or IP subject alternative name): verifiers match the credential's iss against them",
		ErrInvalidChain, issuerURL, host)
}

func describe(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}

// X5C is the chain as the JOSE x5c header carries it: standard base64 DER, the leaf first, without the root.
func (c *Chain) X5C() []string {
	out := make([]string, 0, len(c.certs)-1)
	for _, cert := range c.certs[:len(c.certs)-1] {
		out = append(out, base64.StdEncoding.EncodeToString(cert.Raw))
	}
	return out
}

// DER is the chain as a COSE x5chain carries it: DER certificates, the leaf first, without the root.
func (c *Chain) DER() [][]byte {
	out := make([][]byte, 0, len(c.certs)-1)
	for _, cert := range c.certs[:len(c.certs)-1] {
		out = append(out, slices.Clone(cert.Raw))
	}
	return out
}

// Leaf is the signing key's certificate.
func (c *Chain) Leaf() *x509.Certificate { return c.certs[0] }

// Root is the trust anchor the chain was validated against (not sent in x5c).
func (c *Chain) Root() *x509.Certificate { return c.certs[len(c.certs)-1] }

// NotAfter is when the chain stops validating: the earliest NotAfter of its certificates (the leaf's, unless an
// intermediate or the root ends first). A verifier that validates the chain refuses whatever it signed after that.
func (c *Chain) NotAfter() time.Time {
	end := c.certs[0].NotAfter
	for _, cert := range c.certs[1:] {
		if cert.NotAfter.Before(end) {
			end = cert.NotAfter
		}
	}
	return end
}
