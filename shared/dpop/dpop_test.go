package dpop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
)

const tokenURL = "https://issuer.example/token"

var testNonceKey = []byte("0123456789abcdef0123456789abcdef")

// rawToken assembles a token with the given header and payload JSON and a junk signature: for checks that come
// before the signature.
func rawToken(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("signature"))
}

func TestVerify(t *testing.T) {
	now := time.Now()
	nonces, err := NewNonces(0, testNonceKey)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewNonces(0, []byte("another key of thirty-two bytes!!"))
	key, stranger := attesttest.NewKey(t), attesttest.NewKey(t)
	good := attesttest.DPoP{Method: "POST", URL: tokenURL, Nonce: nonces.Issue(now)}
	sign := func(d attesttest.DPoP) string { return key.DPoPProof(t, d) }
	with := func(change func(d *attesttest.DPoP)) string {
		d := good
		change(&d)
		return sign(d)
	}
	otherKeySigned := attesttest.Sign(t, stranger.Private, "ES256", map[string]any{"typ": "dpop+jwt", "jwk": key.PublicMap()},
		map[string]any{"jti": "x", "htm": "POST", "htu": tokenURL, "iat": now.Unix(), "nonce": good.Nonce})
	privateJWK := key.PublicMap()
	privateJWK["d"] = "AAAA"
	cases := []struct {
		name     string
		proof    string
		change   func(c *Check)
		code     string
		contains string
	}{
		{name: "valid", proof: sign(good)},
		{name: "valid with query in htu", proof: with(func(d *attesttest.DPoP) { d.URL = tokenURL + "?a=b#f" })},
		{name: "valid with normalised htu", proof: with(func(d *attesttest.DPoP) { d.URL = "HTTPS://Issuer.Example:443/./token" })},
		{name: "valid application typ", proof: with(func(d *attesttest.DPoP) { d.Header = map[string]any{"typ": "application/dpop+jwt"} })},
		{name: "valid resource request", proof: with(func(d *attesttest.DPoP) { d.AccessToken = "tok" }), change: func(c *Check) { c.AccessToken = "tok" }},
		{name: "valid without nonce when none required", proof: with(func(d *attesttest.DPoP) { d.Nonce = "" }), change: func(c *Check) { c.Nonces = nil }},
		{name: "empty", proof: "", code: ErrInvalidProof, contains: "empty"},
		{name: "two proofs", proof: sign(good) + "," + sign(good), code: ErrInvalidProof, contains: "exactly one"},
		{name: "not compact", proof: "a.b", code: ErrInvalidProof, contains: "compact"},
		{name: "too long", proof: strings.Repeat("a", MaxProofLength+1), code: ErrInvalidProof, contains: "longer"},
		{name: "header not json", proof: "bm90.e30.c2ln", code: ErrInvalidProof, contains: "header is not a JSON object"},
		{name: "repeated header member", proof: rawToken(`{"typ":"dpop+jwt","alg":"ES256","alg":"none"}`, `{}`), code: ErrInvalidProof, contains: "repeats a member name"},
		{name: "repeated claim", proof: rawToken(`{"typ":"dpop+jwt","alg":"ES256"}`, `{"htm":"POST","htm":"GET"}`), code: ErrInvalidProof, contains: "repeats a member name"},
		{name: "typ missing", proof: with(func(d *attesttest.DPoP) { d.Header = map[string]any{"typ": nil} }), code: ErrInvalidProof, contains: "typ dpop+jwt"},
		{name: "typ wrong", proof: with(func(d *attesttest.DPoP) { d.Header = map[string]any{"typ": "JWT"} }), code: ErrInvalidProof, contains: "typ must be dpop+jwt"},
		{name: "alg none", proof: rawToken(`{"typ":"dpop+jwt","alg":"none"}`, `{}`), code: ErrInvalidProof, contains: "alg none"},
		{name: "alg HS256", proof: rawToken(`{"typ":"dpop+jwt","alg":"HS256"}`, `{}`), code: ErrInvalidProof, contains: "MAC"},
		{name: "alg not allowed", proof: sign(good), change: func(c *Check) { c.Algs = []string{"EdDSA"} }, code: ErrInvalidProof, contains: "alg ES256 is not supported"},
		{name: "alg does not fit key", proof: rawToken(`{"typ":"dpop+jwt","alg":"ES384","jwk":`+jsonOf(key.PublicMap())+`}`, `{}`), code: ErrInvalidProof, contains: "does not fit"},
		{name: "crit", proof: with(func(d *attesttest.DPoP) { d.Header = map[string]any{"crit": []string{"exp"}} }), code: ErrInvalidProof, contains: "crit"},
		{name: "jwk missing", proof: with(func(d *attesttest.DPoP) { d.Header = map[string]any{"jwk": nil} }), code: ErrInvalidProof, contains: "as jwk"},
		{name: "kid instead", proof: with(func(d *attesttest.DPoP) { d.Header = map[string]any{"kid": "k1"} }), code: ErrInvalidProof, contains: "not kid"},
		{name: "private jwk", proof: rawToken(`{"typ":"dpop+jwt","alg":"ES256","jwk":`+jsonOf(privateJWK)+`}`, `{}`), code: ErrInvalidProof, contains: "private key material"},
		{name: "jwk not a key", proof: rawToken(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC"}}`, `{}`), code: ErrInvalidProof, contains: "not a valid public JWK"},
		{name: "bad signature", proof: attesttest.BreakSignature(sign(good)), code: ErrInvalidProof, contains: "signature does not verify"},
		{name: "signed by another key", proof: otherKeySigned, code: ErrInvalidProof, contains: "signature does not verify"},
		{name: "jti missing", proof: with(func(d *attesttest.DPoP) { d.Extra = map[string]any{"jti": nil} }), code: ErrInvalidProof, contains: "jti"},
		{name: "jti empty", proof: with(func(d *attesttest.DPoP) { d.Extra = map[string]any{"jti": ""} }), code: ErrInvalidProof, contains: "jti"},
		{name: "jti too long", proof: with(func(d *attesttest.DPoP) { d.JTI = strings.Repeat("j", 300) }), code: ErrInvalidProof, contains: "longer"},
		{name: "jti not a string", proof: with(func(d *attesttest.DPoP) { d.Extra = map[string]any{"jti": 7} }), code: ErrInvalidProof, contains: "/jti"},
		{name: "htm wrong", proof: with(func(d *attesttest.DPoP) { d.Method = "GET" }), code: ErrInvalidProof, contains: "htm must be POST"},
		{name: "htm lower case", proof: with(func(d *attesttest.DPoP) { d.Method = "post" }), code: ErrInvalidProof, contains: "htm"},
		{name: "htu missing", proof: with(func(d *attesttest.DPoP) { d.Extra = map[string]any{"htu": nil} }), code: ErrInvalidProof, contains: "htu"},
		{name: "htu other endpoint", proof: with(func(d *attesttest.DPoP) { d.URL = "https://issuer.example/credential" }), code: ErrInvalidProof, contains: "htu must be https://issuer.example/token"},
		{name: "htu other host", proof: with(func(d *attesttest.DPoP) { d.URL = "https://evil.example/token" }), code: ErrInvalidProof, contains: "htu"},
		{name: "htu http", proof: with(func(d *attesttest.DPoP) { d.URL = "http://issuer.example/token" }), code: ErrInvalidProof, contains: "htu"},
		{name: "htu relative", proof: with(func(d *attesttest.DPoP) { d.URL = "/token" }), code: ErrInvalidProof, contains: "htu"},
		{name: "iat missing", proof: with(func(d *attesttest.DPoP) { d.Extra = map[string]any{"iat": nil} }), code: ErrInvalidProof, contains: "iat"},
		{name: "iat in the future", proof: with(func(d *attesttest.DPoP) { d.IssuedAt = now.Add(5 * time.Minute) }), code: ErrInvalidProof, contains: "future"},
		{name: "iat too old", proof: with(func(d *attesttest.DPoP) { d.IssuedAt = now.Add(-10 * time.Minute) }), code: ErrInvalidProof, contains: "older"},
		{name: "iat not a number", proof: with(func(d *attesttest.DPoP) { d.Extra = map[string]any{"iat": "now"} }), code: ErrInvalidProof, contains: "/iat"},
		{name: "ath missing", proof: sign(good), change: func(c *Check) { c.AccessToken = "tok" }, code: ErrInvalidProof, contains: "must carry ath"},
		{name: "ath of another token", proof: with(func(d *attesttest.DPoP) { d.AccessToken = "other" }), change: func(c *Check) { c.AccessToken = "tok" }, code: ErrInvalidProof, contains: "ath is not"},
		{name: "nonce missing", proof: with(func(d *attesttest.DPoP) { d.Nonce = "" }), code: ErrUseNonce, contains: "server nonce is required"},
		{name: "nonce expired", proof: with(func(d *attesttest.DPoP) { d.Nonce = nonces.Issue(now.Add(-6 * time.Minute)) }), code: ErrUseNonce, contains: "expired"},
		{name: "nonce of another server", proof: with(func(d *attesttest.DPoP) { d.Nonce = other.Issue(now) }), code: ErrUseNonce, contains: "not one this server issued"},
		{name: "nonce garbage", proof: with(func(d *attesttest.DPoP) { d.Nonce = "abc" }), code: ErrUseNonce, contains: "not one this server issued"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Check{Method: "POST", URL: tokenURL, Time: jwtverify.Window{Now: now}, Nonces: nonces,
				Replay: jwtverify.NewMemoryReplayCache(0)}
			if tc.change != nil {
				tc.change(&c)
			}
			p, err := Verify(context.Background(), tc.proof, c)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if p.Key.Thumbprint != key.Thumbprint() {
					t.Errorf("thumbprint %s, want %s", p.Key.Thumbprint, key.Thumbprint())
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *Error %s", err, tc.code)
			}
			if de.Code != tc.code || !strings.Contains(de.Description, tc.contains) {
				t.Errorf("got %s %q, want %s containing %q", de.Code, de.Description, tc.code, tc.contains)
			}
		})
	}
}

func jsonOf(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func TestVerifyReplay(t *testing.T) {
	now := time.Now()
	key := attesttest.NewKey(t)
	clock := now
	cache := jwtverify.NewMemoryReplayCache(0).WithClock(func() time.Time { return clock })
	c := Check{Method: "POST", URL: tokenURL, Time: jwtverify.Window{Now: now}, Replay: cache}
	proof := key.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: tokenURL, JTI: "same"})
	if _, err := Verify(context.Background(), proof, c); err != nil {
		t.Fatalf("first use: %v", err)
	}
	var de *Error
	if _, err := Verify(context.Background(), proof, c); !errors.As(err, &de) || !strings.Contains(de.Description, "already used") {
		t.Fatalf("replay: %v, want already used", err)
	}
	// The same jti from another key is not a replay.
	other := attesttest.NewKey(t).DPoPProof(t, attesttest.DPoP{Method: "POST", URL: tokenURL, JTI: "same"})
	if _, err := Verify(context.Background(), other, c); err != nil {
		t.Fatalf("same jti, other key: %v", err)
	}
	// Once the proof window is over, the memory forgets the jti; the proof itself is refused by iat then.
	clock = now.Add(7 * time.Minute)
	c.Time.Now = clock
	if _, err := Verify(context.Background(), proof, c); !errors.As(err, &de) || !strings.Contains(de.Description, "older") {
		t.Fatalf("after the window: %v, want older", err)
	}
}

func TestVerifyNeedsCheck(t *testing.T) {
	if _, err := Verify(context.Background(), "x", Check{}); err == nil {
		t.Fatal("an empty Check was accepted")
	}
}

func TestNormalizeURI(t *testing.T) {
	cases := map[string]string{
		"https://issuer.example/token":          "https://issuer.example/token",
		"HTTPS://ISSUER.example/token":          "https://issuer.example/token",
		"https://issuer.example:443/token":      "https://issuer.example/token",
		"http://127.0.0.1:80/token":             "http://127.0.0.1/token",
		"http://127.0.0.1:3000/token":           "http://127.0.0.1:3000/token",
		"https://issuer.example":                "https://issuer.example/",
		"https://issuer.example/a/../token":     "https://issuer.example/token",
		"https://issuer.example/%74oken":        "https://issuer.example/token",
		"https://issuer.example/a%2fb":          "https://issuer.example/a%2Fb",
		"https://issuer.example/token?x=1#frag": "https://issuer.example/token",
		"https://[::1]:8443/token":              "https://[::1]:8443/token",
	}
	for in, want := range cases {
		got, err := NormalizeURI(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/token", "ftp://issuer.example/x", "https://user@issuer.example/", "mailto:a@b", "https://issuer.example/%zz", "https://issuer.example/%4"} {
		if got, err := NormalizeURI(bad); err == nil {
			t.Errorf("NormalizeURI(%q) = %q, want an error", bad, got)
		}
	}
}
