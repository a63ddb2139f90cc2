package jwtverify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
)

func raw(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestParse(t *testing.T) {
	key := attesttest.NewKey(t)
	good := attesttest.Sign(t, key.Private, "", map[string]any{"typ": "test+jwt"}, map[string]any{"a": 1})
	rules := Rules{What: "the test JWT", Types: []string{"test+jwt"}}
	cases := []struct {
		name, token, contains string
		rules                 *Rules
	}{
		{name: "valid", token: good},
		{name: "valid typ with application prefix", token: raw(`{"typ":"application/TEST+jwt","alg":"ES256"}`, `{}`)},
		{name: "empty", token: "", contains: "is empty"},
		{name: "too long", token: good, rules: &Rules{What: "the test JWT", Types: []string{"test+jwt"}, MaxLength: 10}, contains: "longer than 10"},
		{name: "two parts", token: "a.b", contains: "compact"},
		{name: "empty signature", token: "a.b.", contains: "compact"},
		{name: "JSON serialization", token: `{"payload":"e30","signatures":[]}`, contains: "compact"},
		{name: "header not base64url", token: "a+b.e30.c2ln", contains: "header is not base64url"},
		{name: "header an array", token: raw(`[1]`, `{}`), contains: "header is not a JSON object"},
		{name: "header repeats a member", token: raw(`{"typ":"test+jwt","typ":"x","alg":"ES256"}`, `{}`), contains: "repeats a member name"},
		{name: "payload not base64url", token: base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"test+jwt","alg":"ES256"}`)) + ".a+b.c2ln", contains: "payload is not base64url"},
		{name: "payload not an object", token: raw(`{"typ":"test+jwt","alg":"ES256"}`, `[]`), contains: "payload is not a JSON object"},
		{name: "payload repeats a member", token: raw(`{"typ":"test+jwt","alg":"ES256"}`, `{"a":1,"a":2}`), contains: "repeats a member name"},
		{name: "payload with a lone surrogate", token: raw(`{"typ":"test+jwt","alg":"ES256"}`, `{"a":"\ud800"}`), contains: "surrogate"},
		{name: "typ missing", token: raw(`{"alg":"ES256"}`, `{}`), contains: "must carry typ test+jwt"},
		{name: "typ not a string", token: raw(`{"typ":1,"alg":"ES256"}`, `{}`), contains: "must carry typ"},
		{name: "typ wrong", token: raw(`{"typ":"JWT","alg":"ES256"}`, `{}`), contains: "typ must be test+jwt"},
		{name: "alg missing", token: raw(`{"typ":"test+jwt"}`, `{}`), contains: "must carry alg"},
		{name: "alg none", token: raw(`{"typ":"test+jwt","alg":"none"}`, `{}`), contains: "alg none"},
		{name: "alg NONE", token: raw(`{"typ":"test+jwt","alg":"NONE"}`, `{}`), contains: "alg none"},
		{name: "alg HS256", token: raw(`{"typ":"test+jwt","alg":"HS256"}`, `{}`), contains: "MAC algorithms"},
		{name: "alg unknown", token: raw(`{"typ":"test+jwt","alg":"<script>"}`, `{}`), contains: "(unrecognised)"},
		{name: "alg not allowed", token: raw(`{"typ":"test+jwt","alg":"RS256"}`, `{}`), contains: "alg RS256 is not supported"},
		{name: "crit", token: raw(`{"typ":"test+jwt","alg":"ES256","crit":["x"]}`, `{}`), contains: "must not carry crit"},
		{name: "b64", token: raw(`{"typ":"test+jwt","alg":"ES256","b64":false}`, `{}`), contains: "must not carry b64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rules
			if tc.rules != nil {
				r = *tc.rules
			}
			tok, err := Parse(tc.token, r)
			if tc.contains == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if tok.Alg != "ES256" || tok.What() != "the test JWT" {
					t.Errorf("token %+v", tok)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Reason, tc.contains) {
				t.Errorf("Parse = %v, want *Error containing %q", err, tc.contains)
			}
			if err != nil && tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Errorf("the reason quotes the token")
			}
		})
	}
}

func TestTokenVerifyAndClaims(t *testing.T) {
	key, other := attesttest.NewKey(t), attesttest.NewKey(t)
	s := attesttest.Sign(t, key.Private, "", map[string]any{"typ": "test+jwt", "kid": "k"}, map[string]any{"n": 5})
	tok, err := Parse(s, Rules{Types: []string{"test+jwt"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(key.Private.Public()); err != nil {
		t.Errorf("Verify with the signing key: %v", err)
	}
	if err := tok.Verify(other.Private.Public()); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("Verify with another key: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err := tok.Verify(p384.Public()); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("Verify with a P-384 key: %v", err)
	}
	var c struct {
		N int `json:"n"`
	}
	if err := tok.Claims(&c); err != nil || c.N != 5 {
		t.Errorf("Claims = %v, %v", c, err)
	}
	var wrong struct {
		N string `json:"n"`
	}
	if err := tok.Claims(&wrong); err == nil || !strings.Contains(err.Error(), "/n") {
		t.Errorf("Claims of the wrong type: %v", err)
	}
	var h map[string]any
	if err := tok.Header(&h); err != nil || h["kid"] != "k" {
		t.Errorf("Header = %v, %v", h, err)
	}
	if kid, ok, err := tok.String("kid"); kid != "k" || !ok || err != nil {
		t.Errorf("String(kid) = %q %v %v", kid, ok, err)
	}
	if _, ok, _ := tok.String("x5u"); ok {
		t.Error("absent member found")
	}
	if _, _, err := tok.String("alg"); err != nil {
		t.Error(err)
	}
	if _, ok, err := tok.X5C(); ok || err != nil {
		t.Errorf("X5C of a token without it: %v %v", ok, err)
	}
}

func TestX5C(t *testing.T) {
	provider := attesttest.NewProvider(t, "P")
	certs := provider.X5C()
	cases := map[string]struct {
		x5c      any
		contains string
	}{
		"valid":           {certs, ""},
		"not an array":    {"abc", "non-empty array"},
		"empty":           {[]string{}, "non-empty array"},
		"too many":        {[]string{certs[0], certs[0], certs[0], certs[0], certs[0], certs[0]}, "at most 5"},
		"base64url":       {[]string{strings.NewReplacer("+", "-", "/", "_").Replace(certs[0]) + "-_"}, "not base64"},
		"not certificate": {[]string{"bm90IGEgY2VydA=="}, "not a DER X.509"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := `{"typ":"t","alg":"ES256","x5c":` + string(mustJSON(tc.x5c)) + `}`
			tok, err := Parse(raw(h, `{}`), Rules{Types: []string{"t"}})
			if err != nil {
				t.Fatal(err)
			}
			chain, ok, err := tok.X5C()
			if !ok {
				t.Fatal("x5c not found")
			}
			if tc.contains == "" {
				if err != nil || len(chain) != 2 || chain[0].Subject.CommonName != "P Attestation Signer" {
					t.Errorf("chain %v %v", chain, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("X5C = %v, want %q", err, tc.contains)
			}
		})
	}
}

func TestParsePublicJWK(t *testing.T) {
	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	cases := map[string]struct {
		jwk, alg, contains string
	}{
		"EC P-256":          {`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`, "ES256", ""},
		"Ed25519":           {`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, "EdDSA", ""},
		"not JSON":          {`x`, "", "JSON object"},
		"private member":    {`{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}`, "", "private key material (d)"},
		"symmetric":         {`{"kty":"oct","k":"abc"}`, "", "private key material (k)"},
		"incomplete":        {`{"kty":"EC","crv":"P-256"}`, "", "not a valid public JWK"},
		"point off curve":   {`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}`, "", "not on its curve"},
		"alg does not fit":  {`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, "ES256", "does not fit"},
		"repeated member":   {`{"kty":"EC","kty":"RSA"}`, "", "JSON object"},
		"unsupported curve": {`{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			k, err := ParsePublicJWK([]byte(tc.jwk), tc.alg, "the key")
			if name == "unsupported curve" {
				if err == nil {
					t.Error("X25519 (not a signing key) accepted")
				}
				return
			}
			if tc.contains == "" {
				if err != nil || len(k.Thumbprint) != 43 || len(k.Members()) == 0 {
					t.Errorf("ParsePublicJWK = %+v, %v", k, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("ParsePublicJWK = %v, want %q", err, tc.contains)
			}
		})
	}
	t.Run("small RSA", func(t *testing.T) {
		if _, err := PublicKeyOf(&rsaSmall.PublicKey, "the key"); err == nil || !strings.Contains(err.Error(), "at least 2048") {
			t.Errorf("PublicKeyOf = %v", err)
		}
	})
	t.Run("members", func(t *testing.T) {
		k, err := ParsePublicJWK([]byte(`{"kty":"EC","crv":"P-256","kid":"x","use":"sig","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`), "", "k")
		if err != nil {
			t.Fatal(err)
		}
		if m := k.Members(); len(m) != 4 || m["kid"] != nil {
			t.Errorf("Members = %v", m)
		}
	})
}

func TestKeyFitsAlg(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 2048), E: 65537}
	cases := []struct {
		key any
		alg string
		ok  bool
	}{
		{p256.Public(), "ES256", true}, {p256.Public(), "ES384", false}, {p521.Public(), "ES512", true},
		{ed, "EdDSA", true}, {ed, "ES256", false}, {rsaKey, "RS256", true}, {rsaKey, "PS512", true},
		{rsaKey, "ES256", false}, {p256.Public(), "RS256", false}, {"not a key", "ES256", false},
	}
	for _, tc := range cases {
		if err := KeyFitsAlg(tc.key, tc.alg); (err == nil) != tc.ok {
			t.Errorf("KeyFitsAlg(%T, %s) = %v, want ok %v", tc.key, tc.alg, err, tc.ok)
		}
	}
}

func TestWindow(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := func(d time.Duration) *float64 { v := float64(now.Add(d).Unix()); return &v }
	bad := -1.0
	w := Window{Now: now}
	iat := []struct {
		name     string
		v        *float64
		required bool
		w        Window
		contains string
	}{
		{"now", f(0), true, w, ""},
		{"absent, optional", nil, false, w, ""},
		{"absent, required", nil, true, w, "must carry iat"},
		{"negative", &bad, true, w, "number of seconds"},
		{"within skew", f(50 * time.Second), true, w, ""},
		{"beyond skew", f(2 * time.Minute), true, w, "future"},
		{"at max age", f(-5 * time.Minute), true, w, ""},
		{"beyond max age", f(-6 * time.Minute), true, w, "older than 300 seconds"},
		{"no max age", f(-600 * time.Hour), true, Window{Now: now, MaxAge: -1}, ""},
	}
	for _, tc := range iat {
		if _, err := tc.w.IssuedAt(tc.v, tc.required, "the JWT"); (tc.contains == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.contains) {
			t.Errorf("IssuedAt %s: %v, want %q", tc.name, err, tc.contains)
		}
	}
	exp := []struct {
		name     string
		exp, nbf *float64
		required bool
		contains string
	}{
		{"future", f(time.Hour), nil, true, ""},
		{"absent, optional", nil, nil, false, ""},
		{"absent, required", nil, nil, true, "must carry exp"},
		{"passed within skew", f(-30 * time.Second), nil, true, ""},
		{"passed", f(-2 * time.Minute), nil, true, "has expired"},
		{"negative", &bad, nil, true, "number of seconds"},
		{"nbf passed", f(time.Hour), f(-time.Hour), true, ""},
		{"nbf ahead", f(time.Hour), f(time.Hour), true, "not valid yet"},
		{"nbf negative", f(time.Hour), &bad, true, "nbf must be"},
	}
	for _, tc := range exp {
		if _, err := w.Expiry(tc.exp, tc.nbf, tc.required, "the JWT"); (tc.contains == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.contains) {
			t.Errorf("Expiry %s: %v, want %q", tc.name, err, tc.contains)
		}
	}
	huge := float64(1 << 41)
	if _, _, err := Date(&huge); err == nil {
		t.Error("a date far beyond the year 30000 was accepted")
	}
	frac := 1.5
	if d, ok, err := Date(&frac); !ok || err != nil || d.Nanosecond() != 5e8 {
		t.Errorf("Date(1.5) = %v %v %v", d, ok, err)
	}
}

func TestMemoryReplayCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := now
	c := NewMemoryReplayCache(2).WithClock(func() time.Time { return clock })
	ctx := context.Background()
	remember := func(id string, until time.Time) (bool, error) { return c.Remember(ctx, id, until) }
	if fresh, err := remember("a", now.Add(time.Minute)); !fresh || err != nil {
		t.Fatalf("first a: %v %v", fresh, err)
	}
	if fresh, err := remember("a", now.Add(time.Minute)); fresh || err != nil {
		t.Fatalf("second a: %v %v", fresh, err)
	}
	if fresh, err := remember("b", now.Add(2*time.Minute)); !fresh || err != nil {
		t.Fatalf("b: %v %v", fresh, err)
	}
	// Full of live entries: the oldest (a) is forgotten, never a request refused (a flood of proofs anyone can
	// make must not shut wallets out; docs/security.md "Replay memory flood").
	if fresh, err := remember("c", now.Add(3*time.Minute)); !fresh || err != nil {
		t.Fatalf("c when full: %v %v", fresh, err)
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d after forgetting the oldest", c.Len())
	}
	for _, id := range []string{"b", "c"} {
		if fresh, err := remember(id, now.Add(time.Minute)); fresh || err != nil {
			t.Fatalf("%s still remembered: %v %v", id, fresh, err)
		}
	}
	// Once b has expired, it is swept and its id is usable again; c is still remembered.
	clock = now.Add(150 * time.Second)
	if fresh, err := remember("b", now.Add(5*time.Minute)); !fresh || err != nil {
		t.Fatalf("b after expiry: %v %v", fresh, err)
	}
	if fresh, err := remember("c", now.Add(5*time.Minute)); fresh || err != nil {
		t.Fatalf("c still remembered: %v %v", fresh, err)
	}
	// A long run through a small cache holds at most its size, and its order queue does not grow without bound.
	for i := range 10_000 {
		if fresh, err := remember(fmt.Sprint("flood-", i), clock.Add(time.Hour)); !fresh || err != nil {
			t.Fatalf("flood %d: %v %v", i, fresh, err)
		}
	}
	if c.Len() != 2 || len(c.order) > 4 {
		t.Errorf("Len = %d, order %d after the flood", c.Len(), len(c.order))
	}
	if NewMemoryReplayCache(0).max != DefaultReplayEntries {
		t.Error("default size")
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
