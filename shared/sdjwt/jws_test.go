package sdjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

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
	local, _ := newLocalSigner(t)
	pub := &local.key.PublicKey
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer Signer
	}{
		{"signer error", stubSigner{"k", &stubCryptoSigner{pub: pub, err: testError("kms throttled")}}},
		{"malformed DER", stubSigner{"k", &stubCryptoSigner{pub: pub, sig: []byte{0x30, 0x00}}}},
		{"raw r||s instead of DER", stubSigner{"k", &stubCryptoSigner{pub: pub, sig: bytes.Repeat([]byte{1}, 64)}}},
		{"not a P-256 key", stubSigner{"k", &stubCryptoSigner{pub: &p384.PublicKey}}},
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

// TestIssueJWSForm checks the compact JWS IssueVC has keys.SignJWS (jws.Sign) make: the exact protected header,
// the digest handed to the signer (SHA-256 of the signing input, one Sign call), r||s from the signer's DER, and
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
			if !bytes.Equal(rec.digest, want[:]) || rec.calls != 1 {
				t.Errorf("signer called %d times, want once with SHA-256 of the signing input", rec.calls)
			}
			sig, err := b64.DecodeString(parts[2])
			if err != nil || len(sig) != 64 {
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
	calls  int
}

func (r *recordingSigner) Public() crypto.PublicKey { return &r.key.PublicKey }
func (r *recordingSigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	r.digest = append([]byte(nil), digest...)
	r.calls++
	return r.key.Sign(rnd, digest, opts)
}
