package jwtvc

import (
	"context"
	"testing"
)

// BenchmarkIssue issues a bound, revocable JWT VC with a KMS-like local key through keys.SignJWS: one signature.
func BenchmarkIssue(b *testing.B) {
	s, _ := newSigner(b)
	c := credential(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Issue(ctx, s, c); err != nil {
			b.Fatal(err)
		}
	}
}
