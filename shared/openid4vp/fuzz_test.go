package openid4vp

import (
	"context"
	"errors"
	"net/url"
	"testing"
)

// FuzzParseVPToken feeds ParseVPToken what a wallet posts as vp_token, in both shapes: a refusal is ErrResponse,
// an acceptance holds 1 to MaxPresentations non-empty presentations.
func FuzzParseVPToken(f *testing.F) {
	f.Add(`{"pid": ["a.b.c~d~e.f.g"]}`, true)
	f.Add(`["a~", "b~"]`, false)
	f.Add(`a.b.c~`, false)
	f.Add(`"a~"`, false)
	f.Fuzz(func(t *testing.T, raw string, dcql bool) {
		tok, err := ParseVPToken(raw, dcql)
		if err != nil {
			if !errors.Is(err, ErrResponse) {
				t.Fatalf("error %v is not ErrResponse", err)
			}
			return
		}
		if n := tok.Count(); n < 1 || n > MaxPresentations {
			t.Fatalf("accepted %d presentations", n)
		}
		if dcql == (tok.ByQuery == nil) {
			t.Fatalf("shape %+v for dcql %v", tok, dcql)
		}
	})
}

// FuzzParseResponse feeds ParseResponse a posted form body (direct_post, or direct_post.jwt with a JWE the ring
// cannot or can open): a refusal is ErrResponse, an acceptance has a state and a vp_token or an error.
func FuzzParseResponse(f *testing.F) {
	f.Add("state=s&vp_token=%7B%22a%22%3A%5B%22x%7E%22%5D%7D")
	f.Add("state=s&error=access_denied&error_description=no")
	f.Add("response=eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTEyOEdDTSIsImtpZCI6InZwci0xLWFiYyJ9..a.b.c")
	f.Add("state=s&state=t&vp_token=x")
	ring, pub := newRingKey(f)
	f.Add("response=" + url.QueryEscape(encrypt(f, pub, `{"state":"s","vp_token":{"a":["x~"]}}`)))
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r, err := ParseResponse(context.Background(), form, ring)
		if err != nil {
			if !errors.Is(err, ErrResponse) {
				t.Fatalf("error %v is not ErrResponse", err)
			}
			return
		}
		if r.State == "" || (r.VPToken == "" && r.Error == "") {
			t.Fatalf("accepted %+v", r)
		}
	})
}
