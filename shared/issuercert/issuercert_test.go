package issuercert_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/issuercert"
)

const issuerURL = "https://issuer.example.com"

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// pki is a root, an intermediate and the signing key, valid around now.
type pki struct {
	root, inter *issuercert.CA
	key         *ecdsa.PrivateKey
}

func newPKI(t *testing.T) pki {
	t.Helper()
	root, err := issuercert.NewCA("Test Root", now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Test Issuing CA", now.AddDate(-1, 0, 0), now.AddDate(3, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pki{root: root, inter: inter, key: key}
}

func (p pki) leaf(t *testing.T, s issuercert.Subject, nb, na time.Time) *x509.Certificate {
	t.Helper()
	c, err := p.inter.Issue(&p.key.PublicKey, s, nb, na)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (p pki) good(t *testing.T) *x509.Certificate {
	return p.leaf(t, issuercert.Subject{IssuerURL: issuerURL, Country: "UT"}, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
}

func validate(t *testing.T, chainPEM []byte, pub any, url string) error {
	t.Helper()
	c, err := issuercert.ParsePEM(chainPEM)
	if err != nil {
		return err
	}
	return c.Validate(issuercert.Options{Public: pub, IssuerURL: url, Now: now})
}

// A leaf of the signing key under an intermediate and a root validates; x5c and DER hold the leaf and the
// intermediate, never the root.
func TestValidChain(t *testing.T) {
	p := newPKI(t)
	leaf := p.good(t)
	c, err := issuercert.ParsePEM(issuercert.PEM(leaf, p.inter.Cert, p.root.Cert))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(issuercert.Options{Public: &p.key.PublicKey, IssuerURL: issuerURL, Now: now}); err != nil {
		t.Fatal(err)
	}
	x5c := c.X5C()
	if len(x5c) != 2 || x5c[0] != base64.StdEncoding.EncodeToString(leaf.Raw) ||
		x5c[1] != base64.StdEncoding.EncodeToString(p.inter.Cert.Raw) {
		t.Fatalf("x5c %v", x5c)
	}
	if der := c.DER(); len(der) != 2 || string(der[0]) != string(leaf.Raw) {
		t.Fatalf("DER chain of %d", len(der))
	}
	if !c.Root().Equal(p.root.Cert) || !c.Leaf().Equal(leaf) {
		t.Fatal("root or leaf")
	}
	// A leaf issued by the root directly, and a loopback issuer named by its IP, validate too.
	local := p.root
	ipLeaf, err := local.Issue(&p.key.PublicKey, issuercert.Subject{IssuerURL: "http://127.0.0.1:3000"}, now.AddDate(0, -1, 0), now.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, issuercert.PEM(ipLeaf, p.root.Cert), &p.key.PublicKey, "http://127.0.0.1:3000"); err != nil {
		t.Fatal(err)
	}
}

// Every fault of a chain is refused at cold start with the reason.
func TestChainRefused(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	leaf := p.good(t)
	expiredLeaf := p.leaf(t, issuercert.Subject{IssuerURL: issuerURL}, now.AddDate(-2, 0, 0), now.AddDate(0, 0, -1))
	futureLeaf := p.leaf(t, issuercert.Subject{IssuerURL: issuerURL}, now.AddDate(0, 0, 1), now.AddDate(1, 0, 0))
	otherHost := p.leaf(t, issuercert.Subject{IssuerURL: "https://other.example.com"}, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	expiredInter, err := p.root.NewIntermediate("Old Issuing CA", now.AddDate(-3, 0, 0), now.AddDate(0, 0, -2))
	if err != nil {
		t.Fatal(err)
	}
	underExpired, err := expiredInter.Issue(&p.key.PublicKey, issuercert.Subject{IssuerURL: issuerURL}, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	foreignLeaf, err := other.inter.Issue(&p.key.PublicKey, issuercert.Subject{IssuerURL: issuerURL}, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := p.root.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		chain []byte
		pub   any
		url   string
		want  string
	}{
		{"wrong key", issuercert.PEM(leaf, p.inter.Cert, p.root.Cert), &other.key.PublicKey, issuerURL, "does not certify the signing key"},
		{"expired leaf", issuercert.PEM(expiredLeaf, p.inter.Cert, p.root.Cert), &p.key.PublicKey, issuerURL, "certificate 1 (CN=issuer.example.com) expired"},
		{"leaf not yet valid", issuercert.PEM(futureLeaf, p.inter.Cert, p.root.Cert), &p.key.PublicKey, issuerURL, "not valid before"},
		{"expired intermediate", issuercert.PEM(underExpired, expiredInter.Cert, p.root.Cert), &p.key.PublicKey, issuerURL, "certificate 2 (CN=Old Issuing CA) expired"},
		{"root missing", issuercert.PEM(leaf, p.inter.Cert), &p.key.PublicKey, issuerURL, "not a self-signed root"},
		{"leaf only", issuercert.PEM(leaf), &p.key.PublicKey, issuerURL, "1 certificate(s)"},
		{"another CA's root", issuercert.PEM(leaf, p.inter.Cert, other.root.Cert), &p.key.PublicKey, issuerURL, "does not verify"},
		{"leaf of another CA", issuercert.PEM(foreignLeaf, p.inter.Cert, p.root.Cert), &p.key.PublicKey, issuerURL, "does not verify"},
		{"intermediate missing", issuercert.PEM(leaf, p.root.Cert), &p.key.PublicKey, issuerURL, "does not verify"},
		{"CA as leaf", issuercert.PEM(p.inter.Cert, p.root.Cert), &p.inter.Key.(*ecdsa.PrivateKey).PublicKey, issuerURL, "CA certificate"},
		{"other host", issuercert.PEM(otherHost, p.inter.Cert, p.root.Cert), &p.key.PublicKey, issuerURL, "names neither"},
		{"other issuer URL", issuercert.PEM(leaf, p.inter.Cert, p.root.Cert), &p.key.PublicKey, "https://evil.example.com", "names neither"},
		{"a key in the chain", append(issuercert.PEM(leaf, p.inter.Cert), keyPEM...), &p.key.PublicKey, issuerURL, "never a key"},
		{"not PEM", []byte("MIIB..."), &p.key.PublicKey, issuerURL, "not a PEM block"},
		{"garbage certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}), &p.key.PublicKey, issuerURL, "certificate 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(t, tc.chain, tc.pub, tc.url)
			if !errors.Is(err, issuercert.ErrInvalidChain) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY-----") {
				t.Fatal("the error quotes the key")
			}
		})
	}
}

// The CSR is signed by the key it names and carries the issuer's names.
func TestCertificateRequest(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := issuercert.CertificateRequest(key, issuercert.Subject{IssuerURL: issuerURL, Organization: "Example", Country: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(out)
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(csr.PublicKey) || csr.Subject.CommonName != "issuer.example.com" ||
		len(csr.DNSNames) != 1 || csr.DNSNames[0] != "issuer.example.com" || len(csr.URIs) != 1 ||
		csr.URIs[0].String() != issuerURL || csr.Subject.Country[0] != "DE" {
		t.Fatalf("CSR %+v", csr)
	}
	if _, err := issuercert.CertificateRequest(key, issuercert.Subject{IssuerURL: "no-host"}); err == nil {
		t.Fatal("a CSR without an issuer host")
	}
}

// The local CA is saved and loaded by its PEM files.
func TestLoadCA(t *testing.T) {
	p := newPKI(t)
	keyPEM, err := p.root.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := issuercert.LoadCA(issuercert.PEM(p.root.Cert), keyPEM)
	if err != nil || !ca.Cert.Equal(p.root.Cert) {
		t.Fatalf("LoadCA: %v", err)
	}
	otherKey, _ := newPKI(t).root.KeyPEM()
	if _, err := issuercert.LoadCA(issuercert.PEM(p.root.Cert), otherKey); err == nil {
		t.Fatal("a CA with another key loaded")
	}
}

// TestCACountry: a CA made WithCountry names it in its subject, an intermediate inherits it, and the leaves they
// issue carry it in their issuer name, as ISO/IEC 18013-5 asks of an mdoc document signer's CA (verifiers read
// the C of the document signer's issuer name). A country that is not two letters is refused.
func TestCACountry(t *testing.T) {
	now := time.Now()
	root, err := issuercert.NewCA("Root", now.Add(-time.Hour), now.AddDate(1, 0, 0), issuercert.WithCountry("UT"))
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Issuing CA", now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf, err := inter.Issue(&key.PublicKey, issuercert.Subject{IssuerURL: issuerURL, Country: "UT"}, now.Add(-time.Hour), now.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]string{"root": root.Cert.Subject.Country, "intermediate": inter.Cert.Subject.Country,
		"leaf's issuer": leaf.Issuer.Country, "leaf": leaf.Subject.Country} {
		if len(got) != 1 || got[0] != "UT" {
			t.Errorf("%s country %v, want UT", name, got)
		}
	}
	if c, _ := issuercert.NewCA("Root", now, now.AddDate(1, 0, 0)); len(c.Cert.Subject.Country) != 0 {
		t.Errorf("a CA without WithCountry names %v", c.Cert.Subject.Country)
	}
	for _, bad := range []string{"", "U", "UTX"} {
		if _, err := issuercert.NewCA("Root", now, now.AddDate(1, 0, 0), issuercert.WithCountry(bad)); err == nil {
			t.Errorf("country %q accepted", bad)
		}
	}
}
