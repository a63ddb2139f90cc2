package sdjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// fuzzIssuerKey is a fixed issuer key, so the seed corpus stays valid across runs.
func fuzzIssuerKey(tb testing.TB) (*localSigner, jwk.Key) {
	tb.Helper()
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), []byte("sdjwt fuzz issuer key, fixed....")) // 32 bytes
	if err != nil {
		tb.Fatal(err)
	}
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
		if name := sdStructureLeft(v.Claims, 0); name != "" {
			t.Fatalf("%s left in the reconstructed claims", name)
		}
		// Verification is a function of its input.
		again, err := Verify(s, WithIssuerKey(pub), WithClock(at))
		if err != nil || canonical(t, again.Claims) != canonical(t, v.Claims) {
			t.Fatalf("second verification differs: %v", err)
		}
	})
}

// sdStructureLeft returns the first SD-JWT structural name (_sd, _sd_alg, an {"...": digest} element) found
// anywhere in reconstructed claims, or "".
func sdStructureLeft(v any, depth int) string {
	if depth > maxJSONDepth+2 {
		return "nesting beyond the limit"
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range []string{sdKey, sdAlgKey, ellipsis} {
			if _, ok := x[k]; ok {
				return k
			}
		}
		for _, el := range x {
			if name := sdStructureLeft(el, depth+1); name != "" {
				return name
			}
		}
	case []any:
		for _, el := range x {
			if name := sdStructureLeft(el, depth+1); name != "" {
				return name
			}
		}
	}
	return ""
}
