package sdjwt

import (
	"context"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
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

// BenchmarkES256Sign is the floor IssueVC is measured against: one ES256 JWS (jwx) over the
// reference credential's issuer-signed payload.
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
	p, err := Parse(iss.SDJWT)
	if err != nil {
		b.Fatal(err)
	}
	payload, err := (jsonEncoder{}).appendValue(nil, p.Payload, 0)
	if err != nil {
		b.Fatal(err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, string(FormatDCSDJWT))
	_ = hdr.Set(jws.KeyIDKey, signer.kid)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jws.Sign(payload, jws.WithKey(jwa.ES256, signer.key, jws.WithProtectedHeaders(hdr))); err != nil {
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
