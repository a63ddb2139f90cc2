package issuercert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// OIDDocumentSigner is the mdoc document signer extended key usage (ISO/IEC 18013-5 Annex B, id-mdl-kp-mdlDS).
// The local leaf carries it beside the SD-JWT VC names, so one certificate serves SD-JWT VCs (x5c) and mdocs
// (x5chain).
var OIDDocumentSigner = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 2}

// Subject describes the issuer in a leaf certificate or a CSR.
type Subject struct {
	// IssuerURL is the credential issuer identifier: the URI SAN, and its host the DNS (or IP) SAN and the CN.
	IssuerURL string
	// Organization is the subject's O (optional).
	Organization string
	// Country is the subject's C (ISO 3166-1 alpha-2; mdoc verifiers compare it with issuing_country; optional).
	Country string
}

// names are the subject name and the subject alternative names of s.
func (s Subject) names() (pkix.Name, []string, []net.IP, []*url.URL, error) {
	u, err := url.Parse(s.IssuerURL)
	if err != nil || u.Hostname() == "" || u.Scheme == "" {
		return pkix.Name{}, nil, nil, nil, fmt.Errorf("issuer URL %q is not an absolute URL with a host", s.IssuerURL)
	}
	name := pkix.Name{CommonName: u.Hostname()}
	if s.Organization != "" {
		name.Organization = []string{s.Organization}
	}
	if s.Country != "" {
		if len(s.Country) != 2 {
			return pkix.Name{}, nil, nil, nil, fmt.Errorf("country %q is not a two-letter ISO 3166-1 code", s.Country)
		}
		name.Country = []string{s.Country}
	}
	var dns []string
	var ips []net.IP
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		ips = []net.IP{ip}
	} else {
		dns = []string{u.Hostname()}
	}
	return name, dns, ips, []*url.URL{u}, nil
}

// CertificateRequest makes a PKCS #10 CSR (PEM) for the key of cs, signed by it (one Sign: one KMS Sign call for
// the KMS key), naming the issuer as a leaf must (URI, DNS or IP SANs). The deployment's CA signs it; the
// resulting certificate, the intermediates and the root form the chain the deployment configures.
func CertificateRequest(cs crypto.Signer, s Subject) ([]byte, error) {
	name, dns, ips, uris, err := s.names()
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: name, DNSNames: dns,
		IPAddresses: ips, URIs: uris, SignatureAlgorithm: x509.ECDSAWithSHA256}, cs)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// CA is a certificate authority with its key in memory: the local root of `make run` and of tests. A real
// deployment's CA is the organisation's; this project never holds its key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CAOption changes the CA NewCA or NewIntermediate makes.
type CAOption func(*pkix.Name)

// WithCountry names the CA's country (C, ISO 3166-1 alpha-2). ISO/IEC 18013-5 asks it of the CA of an mdoc's
// document signer certificate, the same as the document signer's own, and mdoc verifiers check it.
func WithCountry(country string) CAOption {
	return func(n *pkix.Name) { n.Country = []string{country} }
}

// NewCA makes a self-signed root CA with a fresh P-256 key, valid from notBefore to notAfter.
func NewCA(commonName string, notBefore, notAfter time.Time, opts ...CAOption) (*CA, error) {
	return newCA(nil, commonName, notBefore, notAfter, opts)
}

// newCA makes a CA with a fresh P-256 key, certified by parent (nil: self-signed, path length 1; else path
// length 0, it may certify only leaves, and it has the parent's country unless opts name one).
func newCA(parent *CA, commonName string, notBefore, notAfter time.Time, opts []CAOption) (*CA, error) {
	name := pkix.Name{CommonName: commonName}
	if parent != nil {
		name.Country = parent.Cert.Subject.Country
	}
	for _, o := range opts {
		o(&name)
	}
	for _, c := range name.Country {
		if len(c) != 2 {
			return nil, fmt.Errorf("new CA: country %q is not a two-letter ISO 3166-1 code", c)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("new CA: %w", err)
	}
	ski := keyID(&key.PublicKey)
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: name,
		NotBefore: notBefore.UTC().Truncate(time.Second), NotAfter: notAfter.UTC().Truncate(time.Second),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
		MaxPathLen: 1, SubjectKeyId: ski, AuthorityKeyId: ski, SignatureAlgorithm: x509.ECDSAWithSHA256}
	issuer, signer := tmpl, crypto.Signer(key)
	if parent != nil {
		tmpl.MaxPathLen, tmpl.MaxPathLenZero, tmpl.AuthorityKeyId = 0, true, parent.Cert.SubjectKeyId
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("new CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new CA: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// LoadCA reads a CA from its PEM certificate and its PEM PKCS #8 key (as SavePEM wrote them).
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || cb.Type != "CERTIFICATE" || kb == nil || kb.Type != "PRIVATE KEY" {
		return nil, errors.New("load CA: want a CERTIFICATE and a PRIVATE KEY PEM block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	signer, ok := key.(*ecdsa.PrivateKey)
	if !ok || !signer.PublicKey.Equal(cert.PublicKey) || !cert.IsCA {
		return nil, errors.New("load CA: the key is not the CA certificate's P-256 key, or the certificate is no CA")
	}
	return &CA{Cert: cert, Key: signer}, nil
}

// KeyPEM is the CA's private key as PEM PKCS #8 (for the local CA's files only).
func (ca *CA) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Issue certifies pub as the issuer's signing key: an end-entity certificate for digital signatures naming the
// issuer (CN and DNS or IP SAN its host, URI SAN its URL), with the mdoc document signer EKU, valid from notBefore
// to notAfter (within the CA's validity).
func (ca *CA) Issue(pub crypto.PublicKey, s Subject, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	ecPub, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("issue certificate: the key is not ECDSA")
	}
	name, dns, ips, uris, err := s.names()
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: name, DNSNames: dns, IPAddresses: ips, URIs: uris,
		NotBefore: notBefore.UTC().Truncate(time.Second), NotAfter: notAfter.UTC().Truncate(time.Second),
		KeyUsage: x509.KeyUsageDigitalSignature, UnknownExtKeyUsage: []asn1.ObjectIdentifier{OIDDocumentSigner},
		BasicConstraintsValid: true, SubjectKeyId: keyID(ecPub), AuthorityKeyId: ca.Cert.SubjectKeyId,
		SignatureAlgorithm: x509.ECDSAWithSHA256}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, ecPub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// PEM encodes certificates as a PEM bundle, in order.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// keyID is the SHA-256-based subject key identifier of pub (RFC 7093 method 1: the leftmost 160 bits).
func keyID(pub *ecdsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return sum[:20]
}

// serial is a random positive 128-bit serial number.
func serial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b)
}

// NewIntermediate makes a CA certified by ca (path length 0: it may certify only leaves), with a fresh P-256 key
// and ca's country unless opts name another.
func (ca *CA) NewIntermediate(commonName string, notBefore, notAfter time.Time, opts ...CAOption) (*CA, error) {
	return newCA(ca, commonName, notBefore, notAfter, opts)
}
