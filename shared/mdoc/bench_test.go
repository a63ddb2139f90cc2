package mdoc

import (
	"context"
	"crypto/elliptic"
	"testing"
)

// BenchmarkIssue issues an mDL-shaped document of 12 data elements with a local P-256 key through the crypto.Signer
// path the KMS key takes: salts, CBOR, digests, one COSE_Sign1.
func BenchmarkIssue(b *testing.B) {
	is, _, _ := testIssuer(b)
	doc := mdlDocument(b, newECKey(b, elliptic.P256()))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.Issue(ctx, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify verifies that document: COSE signature, certificate, digests.
func BenchmarkVerify(b *testing.B) {
	is, _, pool := testIssuer(b)
	out, err := is.Issue(context.Background(), mdlDocument(b, newECKey(b, elliptic.P256())))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(out.IssuerSigned, VerifyOptions{Roots: pool}); err != nil {
			b.Fatal(err)
		}
	}
}
