package keys_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// A certified key signs through SignJWS with x5c (leaf and intermediates, never the root) next to kid; the x5c
// leaf verifies the JWS; once the leaf expired the key refuses to sign.
func TestCertifiedSignsWithX5C(t *testing.T) {
	local, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	root, err := issuercert.NewCA("Root", start.AddDate(-1, 0, 0), start.AddDate(2, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Issuing", start.AddDate(-1, 0, 0), start.AddDate(2, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	cs := local.CryptoSigner(context.Background())
	leaf, err := inter.Issue(cs.Public(), issuercert.Subject{IssuerURL: "https://issuer.example.com"}, start.Add(-time.Hour), start.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	clock := start
	c, err := keys.Certify(local, issuercert.PEM(leaf, inter.Cert, root.Cert), "https://issuer.example.com", func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyID() != local.KeyID() || len(c.CertificateChain()) != 2 {
		t.Fatalf("kid %s, chain of %d", c.KeyID(), len(c.CertificateChain()))
	}
	signed, err := keys.SignJWS(context.Background(), c, []byte(`{"iss":"https://issuer.example.com"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := jws.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	x5c := h.X509CertChain()
	if h.KeyID() != local.KeyID() || x5c == nil || x5c.Len() != 2 {
		t.Fatalf("header kid %s x5c %v", h.KeyID(), x5c)
	}
	first, _ := x5c.Get(0)
	der, err := base64.StdEncoding.DecodeString(string(first))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil || !cert.Equal(leaf) {
		t.Fatalf("x5c[0] is not the leaf: %v", err)
	}
	if _, err := jws.Verify(signed, jws.WithKey(jwa.ES256, cert.PublicKey)); err != nil {
		t.Fatalf("the x5c leaf does not verify the JWS: %v", err)
	}
	clock = leaf.NotAfter.Add(time.Second)
	if _, err := keys.SignJWS(context.Background(), c, []byte(`{}`), nil); !errors.Is(err, keys.ErrKeyUnusable) {
		t.Fatalf("signing after the leaf expired: %v", err)
	}
	// A chain of another key is refused at once.
	other, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Certify(other, issuercert.PEM(leaf, inter.Cert, root.Cert), "https://issuer.example.com", time.Now); !errors.Is(err, issuercert.ErrInvalidChain) {
		t.Fatalf("a chain of another key: %v", err)
	}
}
