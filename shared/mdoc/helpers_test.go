package mdoc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// kmsLikeSigner behaves as the KMS adapter of shared/keys does: it signs only a SHA-256 digest whose hash the
// options name (nil options are refused), and counts its signatures.
type kmsLikeSigner struct {
	key   *ecdsa.PrivateKey
	calls int
	fail  error
}

func (s *kmsLikeSigner) CryptoSigner(context.Context) crypto.Signer { return s }
func (s *kmsLikeSigner) Public() crypto.PublicKey                   { return &s.key.PublicKey }
func (s *kmsLikeSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	if opts == nil || opts.HashFunc() != crypto.SHA256 || len(digest) != 32 {
		return nil, errors.New("want a SHA-256 digest")
	}
	s.calls++
	return s.key.Sign(r, digest, opts)
}

func newECKey(tb testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func publicJWK(tb testing.TB, k *ecdsa.PrivateKey) jwk.Key {
	tb.Helper()
	pub, err := jwk.FromRaw(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return pub
}

// testIssuer is an issuer over a fresh KMS-like key with a self-signed document signer certificate, and the
// pool that trusts it.
func testIssuer(tb testing.TB) (*Issuer, *kmsLikeSigner, *x509.CertPool) {
	tb.Helper()
	s := &kmsLikeSigner{key: newECKey(tb, elliptic.P256())}
	now := time.Now()
	der, err := SelfSignedCertificate(s, SelfSignedOptions{CommonName: "issuer.example", Country: "UT",
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)})
	if err != nil {
		tb.Fatal(err)
	}
	is, err := NewIssuer(s, [][]byte{der})
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	s.calls = 0
	return is, s, pool
}

// mdlDocument is a small mDL-shaped document bound to holder.
func mdlDocument(tb testing.TB, holder *ecdsa.PrivateKey) Document {
	tb.Helper()
	now := time.Now().Add(-time.Minute)
	return Document{
		DocType: "org.iso.18013.5.1.mDL",
		NameSpaces: map[string]map[string]any{
			"org.iso.18013.5.1": {
				"given_name":      "Erika",
				"family_name":     "Mustermann",
				"birth_date":      FullDate("1964-08-12"),
				"age_over_18":     true,
				"issuing_country": "UT",
				"height":          float64(175),
				"weight":          72.5,
				"driving_privileges": []any{
					map[string]any{"vehicle_category_code": "B", "issue_date": "2020-01-01"},
				},
				"portrait":  []byte{0xff, 0xd8, 0xff},
				"nick_name": nil,
			},
			"org.iso.18013.5.1.aamva": {"organ_donor": float64(1)},
		},
		DeviceKey:  publicJWK(tb, holder),
		Signed:     now,
		ValidUntil: now.Add(365 * 24 * time.Hour),
		Status:     &StatusReference{Index: 42, URI: "https://issuer.example/status-lists/1"},
	}
}
