package sdjwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// localSigner is a test Signer over an in-memory P-256 key.
type localSigner struct {
	key *ecdsa.PrivateKey
	kid string
}

func (s *localSigner) KeyID() string                              { return s.kid }
func (s *localSigner) CryptoSigner(context.Context) crypto.Signer { return s.key }

func newLocalSigner(tb testing.TB) (*localSigner, jwk.Key) {
	tb.Helper()
	key, pub := newHolder(tb) // a P-256 key and its public JWK, made as a holder's
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		tb.Fatal(err)
	}
	kid := b64.EncodeToString(tp)
	if err := pub.Set(jwk.KeyIDKey, kid); err != nil {
		tb.Fatal(err)
	}
	return &localSigner{key: key, kid: kid}, pub
}

// newHolder returns a holder private key and its public JWK.
func newHolder(tb testing.TB) (*ecdsa.PrivateKey, jwk.Key) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := jwk.FromRaw(&key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return key, pub
}

// fixedSalts hands out salts in order.
type fixedSalts struct{ salts []string }

func (f *fixedSalts) NextSalt() (string, error) {
	if len(f.salts) == 0 {
		return "", errOutOfSalts
	}
	s := f.salts[0]
	f.salts = f.salts[1:]
	return s, nil
}

type testError string

func (e testError) Error() string { return string(e) }

const errOutOfSalts = testError("out of salts")

// referenceTime is inside the reference credential's validity.
var referenceTime = time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)

func clockAt(t time.Time) VerifyOption { return WithClock(func() time.Time { return t }) }

// issueReference issues the reference credential with a fresh holder key.
func issueReference(tb testing.TB, opts ...Option) (*Issued, *localSigner, jwk.Key, *ecdsa.PrivateKey) {
	tb.Helper()
	signer, pub := newLocalSigner(tb)
	holder, holderPub := newHolder(tb)
	vc, err := ReferenceCredential()
	if err != nil {
		tb.Fatal(err)
	}
	vc.HolderKey = holderPub
	iss, err := IssueVC(context.Background(), signer, vc, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return iss, signer, pub, holder
}

var t0ctx = context.Background()
