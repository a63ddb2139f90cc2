package sdjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// derSig encodes r and s as an ASN.1 ECDSA-Sig-Value with encoding/asn1, the reference encoder.
func derSig(t testing.TB, r, s *big.Int) []byte {
	t.Helper()
	b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJoseFromDER(t *testing.T) {
	n := func(hex string) *big.Int { v, _ := new(big.Int).SetString(hex, 16); return v }
	max256 := n(strings.Repeat("ff", 32))
	tests := []struct {
		name string
		der  func(t *testing.T) []byte
		r, s *big.Int // wanted when ok
		ok   bool
	}{
		{"small values", func(t *testing.T) []byte { return derSig(t, big.NewInt(1), big.NewInt(2)) }, big.NewInt(1), big.NewInt(2), true},
		{"high bit set (sign padding byte)", func(t *testing.T) []byte { return derSig(t, max256, max256) }, max256, max256, true},
		{"31-byte r", func(t *testing.T) []byte { return derSig(t, n(strings.Repeat("7f", 31)), big.NewInt(9)) }, n(strings.Repeat("7f", 31)), big.NewInt(9), true},
		{"empty", func(*testing.T) []byte { return nil }, nil, nil, false},
		{"not a sequence", func(*testing.T) []byte { return []byte{0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"length mismatch", func(*testing.T) []byte { return []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"trailing data in sequence", func(*testing.T) []byte { return []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00} }, nil, nil, false},
		{"one integer", func(*testing.T) []byte { return []byte{0x30, 0x03, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"zero r", func(*testing.T) []byte { return []byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"negative s", func(*testing.T) []byte { return []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x80} }, nil, nil, false},
		{"needless padding", func(*testing.T) []byte { return []byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"empty integer", func(*testing.T) []byte { return []byte{0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"integer longer than sequence", func(*testing.T) []byte { return []byte{0x30, 0x06, 0x02, 0x09, 0x01, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"wrong tag", func(*testing.T) []byte { return []byte{0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"long-form length", func(*testing.T) []byte { return []byte{0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01} }, nil, nil, false},
		{"r wider than 32 bytes", func(t *testing.T) []byte { return derSig(t, n("01"+strings.Repeat("00", 32)), big.NewInt(1)) }, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := bytes.Repeat([]byte{0xAA}, es256SigSize) // stale bytes must be cleared
			err := joseFromDER(out, tc.der(t))
			if !tc.ok {
				if !errors.Is(err, ErrSignature) {
					t.Fatalf("err = %v, want ErrSignature", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, es256SigSize)
			tc.r.FillBytes(want[:32])
			tc.s.FillBytes(want[32:])
			if !bytes.Equal(out, want) {
				t.Errorf("r||s = %x, want %x", out, want)
			}
		})
	}
}

// FuzzJoseFromDER checks the DER reader against encoding/asn1: whatever joseFromDER accepts,
// encoding/asn1 decodes to the same r and s and re-encodes to the same bytes (strict DER).
func FuzzJoseFromDER(f *testing.F) {
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02})
	f.Add(derSig(f, new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(7)))
	f.Add([]byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		out := make([]byte, es256SigSize)
		if err := joseFromDER(out, der); err != nil {
			return
		}
		var sig struct{ R, S *big.Int }
		rest, err := asn1.Unmarshal(der, &sig)
		if err != nil || len(rest) != 0 {
			t.Fatalf("accepted %x that encoding/asn1 refuses: %v", der, err)
		}
		if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 {
			t.Fatalf("accepted non-positive integer in %x", der)
		}
		if !bytes.Equal(derSig(t, sig.R, sig.S), der) {
			t.Fatalf("accepted non-canonical DER %x", der)
		}
		if new(big.Int).SetBytes(out[:32]).Cmp(sig.R) != 0 || new(big.Int).SetBytes(out[32:]).Cmp(sig.S) != 0 {
			t.Fatalf("r||s %x does not match %x", out, der)
		}
	})
}

// stubCryptoSigner returns a fixed signature or error, recording the digest it was given.
type stubCryptoSigner struct {
	pub    crypto.PublicKey
	sig    []byte
	err    error
	digest []byte
}

func (s *stubCryptoSigner) Public() crypto.PublicKey { return s.pub }
func (s *stubCryptoSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	s.digest = append([]byte(nil), digest...)
	return s.sig, s.err
}

type stubSigner struct {
	kid string
	cs  crypto.Signer
}

func (s stubSigner) KeyID() string                              { return s.kid }
func (s stubSigner) CryptoSigner(context.Context) crypto.Signer { return s.cs }

func TestIssueSignerFailures(t *testing.T) {
	vc, err := ReferenceCredential()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer Signer
	}{
		{"signer error", stubSigner{"k", &stubCryptoSigner{err: testError("kms throttled")}}},
		{"malformed DER", stubSigner{"k", &stubCryptoSigner{sig: []byte{0x30, 0x00}}}},
		{"raw r||s instead of DER", stubSigner{"k", &stubCryptoSigner{sig: bytes.Repeat([]byte{1}, 64)}}},
		{"no crypto signer", stubSigner{"k", nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss, err := IssueVC(context.Background(), tc.signer, vc)
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
			if iss != nil {
				t.Error("a credential came back with the error")
			}
			if tc.name == "signer error" && !strings.Contains(err.Error(), "kms throttled") {
				t.Errorf("err = %v, does not wrap the signer's error", err)
			}
		})
	}
}

// TestIssueJWSForm checks the compact JWS IssueVC assembles: the exact protected header, the
// digest handed to the signer (SHA-256 of the signing input), r||s from the signer's DER, and
// that jwx verifies it.
func TestIssueJWSForm(t *testing.T) {
	local, pub := newLocalSigner(t)
	tests := []struct {
		name    string
		kid     string
		format  Format
		extra   string // length of an extra clear claim: payloads of several base64 chunks
		wantHdr string
	}{
		{"dc+sd-jwt with kid", local.kid, FormatDCSDJWT, "", `{"alg":"ES256","kid":"` + local.kid + `","typ":"dc+sd-jwt"}`},
		{"vc+sd-jwt with kid", local.kid, FormatVCSDJWT, "", `{"alg":"ES256","kid":"` + local.kid + `","typ":"vc+sd-jwt"}`},
		{"no kid", "", FormatDCSDJWT, "", `{"alg":"ES256","typ":"dc+sd-jwt"}`},
		{"kid needing escapes", "a\"b\\c", FormatDCSDJWT, "", `{"alg":"ES256","kid":"a\"b\\c","typ":"dc+sd-jwt"}`},
		{"payload of many chunks", local.kid, FormatDCSDJWT, strings.Repeat("x", 5000), `{"alg":"ES256","kid":"` + local.kid + `","typ":"dc+sd-jwt"}`},
		{"payload of many chunks, odd length", local.kid, FormatDCSDJWT, strings.Repeat("y", 5001), `{"alg":"ES256","kid":"` + local.kid + `","typ":"dc+sd-jwt"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vc, err := ReferenceCredential()
			if err != nil {
				t.Fatal(err)
			}
			if tc.extra != "" {
				vc.Claims["note"] = tc.extra
			}
			rec := &recordingSigner{key: local.key}
			iss, err := IssueVC(context.Background(), stubSigner{tc.kid, rec}, vc, WithFormat(tc.format))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(iss.SDJWT, iss.JWT+"~") {
				t.Fatal("SDJWT does not start with JWT~")
			}
			parts := strings.Split(iss.JWT, ".")
			if len(parts) != 3 {
				t.Fatalf("JWT has %d parts", len(parts))
			}
			hdr, err := b64.DecodeString(parts[0])
			if err != nil || string(hdr) != tc.wantHdr {
				t.Errorf("header = %s (%v), want %s", hdr, err, tc.wantHdr)
			}
			want := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
			if !bytes.Equal(rec.digest, want[:]) {
				t.Error("signer was not given SHA-256 of the signing input")
			}
			sig, err := b64.DecodeString(parts[2])
			if err != nil || len(sig) != es256SigSize {
				t.Fatalf("signature %d bytes (%v)", len(sig), err)
			}
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if !ecdsa.Verify(&local.key.PublicKey, want[:], r, s) {
				t.Error("r||s does not verify")
			}
			if _, err := jws.Verify([]byte(iss.JWT), jws.WithKey(jwa.ES256, pub)); err != nil {
				t.Errorf("jwx refuses the JWS: %v", err)
			}
		})
	}
}

// recordingSigner signs with key and records the digest.
type recordingSigner struct {
	key    *ecdsa.PrivateKey
	digest []byte
}

func (r *recordingSigner) Public() crypto.PublicKey { return &r.key.PublicKey }
func (r *recordingSigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	r.digest = append([]byte(nil), digest...)
	return r.key.Sign(rnd, digest, opts)
}

// TestIssueAllocations guards the allocation budget of issuing the reference credential, the
// part besides the signature (a signer returning a fixed DER signature): one allocation per kind
// of buffer, none per disclosure. Before the arenas it was 215.
func TestIssueAllocations(t *testing.T) {
	local, _ := newLocalSigner(t)
	digest := sha256.Sum256([]byte("x"))
	der, err := local.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	signer := stubSigner{kid: local.kid, cs: fixedDERSigner{pub: &local.key.PublicKey, der: der}}
	tests := []struct {
		name   string
		mutate func(*VC)
		max    float64
	}{
		{"reference credential", func(*VC) {}, 16},
		{"reference credential, 40 array elements", func(vc *VC) {
			els := make([]any, 40)
			for i := range els {
				els[i] = "XX"
			}
			vc.Claims["nationalities"] = els
		}, 18},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vc, err := ReferenceCredential()
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(&vc)
			ctx := context.Background()
			allocs := testing.AllocsPerRun(50, func() {
				if _, err := IssueVC(ctx, signer, vc); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%.0f allocations", allocs)
			if allocs > tc.max {
				t.Errorf("IssueVC allocates %.0f times, budget %.0f", allocs, tc.max)
			}
		})
	}
}
