package sdjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// fuzzIssuerKey is a fixed issuer key, so the seed corpus stays valid across runs.
func fuzzIssuerKey(tb testing.TB) (*localSigner, jwk.Key) {
	tb.Helper()
	d := new(big.Int).SetBytes([]byte("sdjwt fuzz issuer key, fixed....")) // 32 bytes
	key := &ecdsa.PrivateKey{D: d}
	key.Curve = elliptic.P256()
	key.X, key.Y = elliptic.P256().ScalarBaseMult(d.Bytes())
	pub, err := jwk.FromRaw(&key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return &localSigner{key: key, kid: "fuzz"}, pub
}

// fuzzSeeds are real issued credentials and presentations.
func fuzzSeeds(tb testing.TB) []string {
	signer, _ := fuzzIssuerKey(tb)
	holder, holderPub := newHolder(tb)
	vc, err := ReferenceCredential()
	if err != nil {
		tb.Fatal(err)
	}
	vc.HolderKey = holderPub
	iss, err := IssueVC(t0ctx, signer, vc)
	if err != nil {
		tb.Fatal(err)
	}
	pres, err := Present(iss.SDJWT, func(d Disclosure) bool { return d.Name == "street_address" || d.ArrayElement },
		&KeyBindingInput{Key: holder, Audience: "aud", Nonce: "nonce", IssuedAt: referenceTime})
	if err != nil {
		tb.Fatal(err)
	}
	return []string{
		iss.SDJWT, pres, iss.JWT + "~",
		rfcIssuerJWT + "~" + rfcVectors[0].encoded + "~" + rfcVectors[8].encoded + "~",
		"", "~", "a.b.c~", "a.b.c~~", strings.Repeat("~", 8),
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		// Invariants of a successful parse.
		if !strings.HasPrefix(s, p.JWT+"~") || !strings.HasSuffix(s, "~"+p.KeyBindingJWT) {
			t.Fatalf("parts do not reassemble the input")
		}
		for _, d := range p.Disclosures {
			if Digest(d.Encoded) != d.Digest {
				t.Fatalf("digest mismatch")
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	_, pub := fuzzIssuerKey(f)
	at := func() time.Time { return referenceTime }
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Verify(s, WithIssuerKey(pub), WithClock(at))
		if err != nil {
			return
		}
		// Anything accepted carries the SD-JWT VC claims and no SD-JWT structure.
		if v.Claims["iss"] == nil || v.Claims["vct"] == nil {
			t.Fatalf("accepted without iss or vct")
		}
		if _, ok := v.Claims["_sd"]; ok {
			t.Fatalf("_sd left in claims")
		}
		if _, ok := v.Claims["_sd_alg"]; ok {
			t.Fatalf("_sd_alg left in claims")
		}
	})
}
