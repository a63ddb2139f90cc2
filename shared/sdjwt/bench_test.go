package sdjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// BenchmarkIssueReference issues the reference credential (12 disclosures) with a local P-256
// signer: build, one signature, serialise.
func BenchmarkIssueReference(b *testing.B) {
	signer, _ := newLocalSigner(b)
	vc, err := ReferenceCredential()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := IssueVC(ctx, signer, vc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkES256Sign is the floor IssueVC is measured against: one ES256 JWS over the reference credential's
// issuer-signed payload through the same path (keys.SignJWS, jws.Sign with the key as a crypto.Signer).
func BenchmarkES256Sign(b *testing.B) {
	signer, _ := newLocalSigner(b)
	vc, err := ReferenceCredential()
	if err != nil {
		b.Fatal(err)
	}
	iss, err := IssueVC(context.Background(), signer, vc)
	if err != nil {
		b.Fatal(err)
	}
	_, payload, _, err := jws.SplitCompactString(iss.JWT)
	if err != nil {
		b.Fatal(err)
	}
	if payload, err = b64.DecodeString(string(payload)); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		hdr := jws.NewHeaders()
		_ = hdr.Set(jws.TypeKey, string(FormatDCSDJWT))
		if _, err := keys.SignJWS(ctx, signer, payload, hdr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyReference verifies the reference credential with all disclosures.
func BenchmarkVerifyReference(b *testing.B) {
	iss, _, pub, _ := issueReference(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(iss.SDJWT, WithIssuerKey(pub), clockAt(referenceTime)); err != nil {
			b.Fatal(err)
		}
	}
}

// fixedDERSigner returns one precomputed DER signature: BenchmarkIssueReferenceNoSign uses it to
// measure everything IssueVC does besides the signature itself.
type fixedDERSigner struct {
	pub crypto.PublicKey
	der []byte
}

func (f fixedDERSigner) Public() crypto.PublicKey { return f.pub }
func (f fixedDERSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return f.der, nil
}

// BenchmarkIssueReferenceNoSign issues the reference credential with a signer that costs
// nothing: salts, decoys, digests, JSON, base64 and jws.Sign around the signature, the part IssueVC
// adds to the signature itself.
func BenchmarkIssueReferenceNoSign(b *testing.B) {
	local, _ := newLocalSigner(b)
	digest := sha256.Sum256([]byte("x"))
	der, err := local.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	signer := stubSigner{kid: local.kid, cs: fixedDERSigner{pub: &local.key.PublicKey, der: der}}
	vc, err := ReferenceCredential()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := IssueVC(ctx, signer, vc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkES256SignDigest is one P-256 signature of a SHA-256 digest through crypto.Signer,
// with nothing around it: the cost no issuance can go below with a local key.
func BenchmarkES256SignDigest(b *testing.B) {
	local, _ := newLocalSigner(b)
	digest := sha256.Sum256([]byte("header.payload"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := local.key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
