package statuslist

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// testSigner is a local P-256 key behind an opaque crypto.Signer that returns ASN.1 DER signatures, as the KMS
// signer does, so that the tests go through jwx's crypto.Signer path rather than its *ecdsa.PrivateKey shortcut.
type testSigner struct {
	kid string
	key *ecdsa.PrivateKey
}

type opaqueSigner struct{ key *ecdsa.PrivateKey }

func (o opaqueSigner) Public() crypto.PublicKey { return &o.key.PublicKey }

func (o opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 || len(digest) != 32 {
		return nil, errors.New("test signer signs SHA-256 digests only")
	}
	return ecdsa.SignASN1(r, o.key, digest)
}

func (s testSigner) KeyID() string { return s.kid }

func (s testSigner) CryptoSigner(context.Context) crypto.Signer { return opaqueSigner{s.key} }

func newTestSigner(t testing.TB, curve elliptic.Curve) (testSigner, jwk.Key) {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Set(jwk.KeyIDKey, "test-key-1"); err != nil {
		t.Fatal(err)
	}
	return testSigner{kid: "test-key-1", key: key}, pub
}

var (
	testURI = "https://issuer.example/status-lists/0-0"
	testNow = time.Unix(1_800_000_000, 0)
)

func sampleList(t testing.TB) *List {
	t.Helper()
	l, err := New(2, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	for idx, s := range map[int]Status{1: Invalid, 2: Suspended, 1023: Invalid} {
		if err := l.Set(idx, s); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestIssueAndVerifyToken(t *testing.T) {
	signer, pub := newTestSigner(t, elliptic.P256())
	tok, err := IssueToken(context.Background(), signer, sampleList(t), TokenOptions{
		URI: testURI, Issuer: "https://issuer.example", IssuedAt: testNow, Validity: 24 * time.Hour, TTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Header and payload as the draft shows them.
	parts := strings.Split(tok, ".")
	var hdr map[string]any
	decodeSegment(t, parts[0], &hdr)
	if hdr["alg"] != "ES256" || hdr["typ"] != TokenType || hdr["kid"] != "test-key-1" {
		t.Errorf("header %v", hdr)
	}
	var payload map[string]any
	decodeSegment(t, parts[1], &payload)
	sl, _ := payload["status_list"].(map[string]any)
	if payload["sub"] != testURI || payload["iat"] != float64(testNow.Unix()) ||
		payload["exp"] != float64(testNow.Add(24*time.Hour).Unix()) || payload["ttl"] != float64(3600) ||
		payload["iss"] != "https://issuer.example" || sl["bits"] != float64(2) || sl["lst"] == "" {
		t.Errorf("payload %v", payload)
	}
	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(sig) != 64 {
		t.Errorf("signature is %d bytes, want 64 (r||s)", len(sig))
	}

	v, err := VerifyToken(tok, pub, VerifyOptions{URI: testURI, Now: testNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		idx  int
		want Status
	}{{0, Valid}, {1, Invalid}, {2, Suspended}, {3, Valid}, {1023, Invalid}} {
		got, err := v.Status(Reference{Idx: c.idx, URI: testURI})
		if err != nil || got != c.want {
			t.Errorf("Status(%d) = %s, %v; want %s", c.idx, got, err, c.want)
		}
	}
	if _, err := v.Status(Reference{Idx: 1024, URI: testURI}); !errors.Is(err, ErrIndexOutOfRange) {
		t.Errorf("Status(1024) error %v, want ErrIndexOutOfRange", err)
	}
	if _, err := v.Status(Reference{Idx: 1, URI: testURI + "x"}); !errors.Is(err, ErrInvalidReference) {
		t.Errorf("Status with another uri: error %v, want ErrInvalidReference", err)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// signRaw signs any header and payload with key, to build tokens our issuer would never produce.
func signRaw(t *testing.T, alg jwa.SignatureAlgorithm, key any, headers map[string]any, payload any) string {
	t.Helper()
	hdr := jws.NewHeaders()
	for k, v := range headers {
		if err := hdr.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.Sign(b, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestVerifyTokenRejects(t *testing.T) {
	signer, pub := newTestSigner(t, elliptic.P256())
	_, otherPub := newTestSigner(t, elliptic.P256())
	lst := sampleList(t).Encode()
	goodHdr := map[string]any{"typ": TokenType, "kid": "test-key-1"}
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{
			"sub": testURI, "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(), "ttl": 600,
			"status_list": map[string]any{"bits": 2, "lst": lst},
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	good := signRaw(t, jwa.ES256, signer.key, goodHdr, claims(nil))
	tests := []struct {
		name  string
		token string
		key   jwk.Key
		opts  VerifyOptions
	}{
		{"wrong key", good, otherPub, VerifyOptions{URI: testURI, Now: testNow}},
		{"other uri", good, pub, VerifyOptions{URI: testURI + "1", Now: testNow}},
		{"expired", good, pub, VerifyOptions{URI: testURI, Now: testNow.Add(2 * time.Hour)}},
		{"issued in the future", good, pub, VerifyOptions{URI: testURI, Now: testNow.Add(-time.Minute)}},
		{"list over the bound", good, pub, VerifyOptions{URI: testURI, Now: testNow, MaxListBytes: 100}},
		{"tampered payload", tamper(t, good), pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"not compact", "a.b", pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"no key", good, nil, VerifyOptions{URI: testURI, Now: testNow}},
		{"typ JWT", signRaw(t, jwa.ES256, signer.key, map[string]any{"typ": "JWT"}, claims(nil)), pub,
			VerifyOptions{URI: testURI, Now: testNow}},
		{"no typ", signRaw(t, jwa.ES256, signer.key, map[string]any{"kid": "test-key-1"}, claims(nil)), pub,
			VerifyOptions{URI: testURI, Now: testNow}},
		{"other kid", signRaw(t, jwa.ES256, signer.key, map[string]any{"typ": TokenType, "kid": "k2"}, claims(nil)),
			pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"MAC algorithm", signRaw(t, jwa.HS256, []byte("0123456789abcdef0123456789abcdef"), goodHdr, claims(nil)),
			pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"no iat", signRaw(t, jwa.ES256, signer.key, goodHdr, claims(func(c map[string]any) { delete(c, "iat") })),
			pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"ttl 0", signRaw(t, jwa.ES256, signer.key, goodHdr, claims(func(c map[string]any) { c["ttl"] = 0 })),
			pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"bits 3", signRaw(t, jwa.ES256, signer.key, goodHdr, claims(func(c map[string]any) {
			c["status_list"] = map[string]any{"bits": 3, "lst": lst}
		})), pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"lst not zlib", signRaw(t, jwa.ES256, signer.key, goodHdr, claims(func(c map[string]any) {
			c["status_list"] = map[string]any{"bits": 2, "lst": "AAAA"}
		})), pub, VerifyOptions{URI: testURI, Now: testNow}},
		{"sub missing", signRaw(t, jwa.ES256, signer.key, goodHdr, claims(func(c map[string]any) { delete(c, "sub") })),
			pub, VerifyOptions{URI: "", Now: testNow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := VerifyToken(tt.token, tt.key, tt.opts)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("VerifyToken = %v, %v; want ErrInvalidToken", v, err)
			}
		})
	}
	// The same token passes with the right options, so each rejection above is due to its one change.
	if _, err := VerifyToken(good, pub, VerifyOptions{URI: testURI, Now: testNow}); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
	// Leeway absorbs clock skew.
	if _, err := VerifyToken(good, pub, VerifyOptions{URI: testURI, Now: testNow.Add(-time.Minute), Leeway: 2 * time.Minute}); err != nil {
		t.Fatalf("token within leeway rejected: %v", err)
	}
}

func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `"ttl":600`, `"ttl":601`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

type nilSigner struct{}

func (nilSigner) KeyID() string                              { return "k" }
func (nilSigner) CryptoSigner(context.Context) crypto.Signer { return nil }

func TestSignTokenRejects(t *testing.T) {
	p256, _ := newTestSigner(t, elliptic.P256())
	p384, _ := newTestSigner(t, elliptic.P384())
	noKid := p256
	noKid.kid = ""
	claims, err := NewClaims(sampleList(t), TokenOptions{URI: testURI, IssuedAt: testNow, Validity: time.Hour, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		signer Signer
	}{
		{"P-384 key", context.Background(), p384},
		{"no kid", context.Background(), noKid},
		{"no crypto.Signer", context.Background(), nilSigner{}},
		{"canceled context", canceled, p256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := SignToken(tt.ctx, tt.signer, claims); err == nil {
				t.Fatalf("SignToken = %q, want an error", tok)
			}
		})
	}
}

func TestNewClaimsRejects(t *testing.T) {
	l := sampleList(t)
	ok := TokenOptions{URI: testURI, IssuedAt: testNow, Validity: time.Hour, TTL: time.Minute}
	tests := []struct {
		name string
		list *List
		mod  func(*TokenOptions)
	}{
		{"no list", nil, func(*TokenOptions) {}},
		{"no uri", l, func(o *TokenOptions) { o.URI = "" }},
		{"no iat", l, func(o *TokenOptions) { o.IssuedAt = time.Time{} }},
		{"ttl 0", l, func(o *TokenOptions) { o.TTL = 0 }},
		{"validity under 1s", l, func(o *TokenOptions) { o.Validity = time.Millisecond }},
		{"ttl over validity", l, func(o *TokenOptions) { o.TTL = 2 * time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.mod(&o)
			if _, err := NewClaims(tt.list, o); err == nil {
				t.Fatal("NewClaims accepted bad options")
			}
		})
	}
	if _, err := NewClaims(l, ok); err != nil {
		t.Fatalf("control options rejected: %v", err)
	}
}

func BenchmarkIssueToken(b *testing.B) {
	signer, _ := newTestSigner(b, elliptic.P256())
	l, err := New(2, 1<<17)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 1<<17; i += 97 {
		if err := l.Set(i, Invalid); err != nil {
			b.Fatal(err)
		}
	}
	o := TokenOptions{URI: testURI, IssuedAt: testNow, Validity: time.Hour, TTL: time.Minute}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := IssueToken(ctx, signer, l, o); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCachingHelpers(t *testing.T) {
	c := TokenClaims{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix(), TTL: 600}
	tests := []struct {
		name    string
		now     time.Time
		maxAge  time.Duration
		reissue bool
	}{
		{"fresh", testNow, 10 * time.Minute, false},
		{"ttl cut at exp", testNow.Add(55 * time.Minute), 5 * time.Minute, true},
		{"expired", testNow.Add(2 * time.Hour), 0, true},
		{"outside the margin", testNow.Add(30 * time.Minute), 10 * time.Minute, false},
	}
	for _, tt := range tests {
		if got := c.MaxAge(tt.now); got != tt.maxAge {
			t.Errorf("%s: MaxAge = %s, want %s", tt.name, got, tt.maxAge)
		}
		if got := c.NeedsReissue(tt.now, 15*time.Minute); got != tt.reissue {
			t.Errorf("%s: NeedsReissue = %v, want %v", tt.name, got, tt.reissue)
		}
	}
}

// signCompact signs raw header and payload JSON as given (repeated members included, which no JSON encoder
// writes), with jwx's ES256 signer: an attacker's token.
func signCompact(t *testing.T, key *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	signer, err := jws.NewSigner(jwa.ES256)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign([]byte(input), key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// A token whose header or claims repeat a member, or name a claim in another letter case, is refused: parsers
// that keep the first or the last of two members would read different statuses from it.
func TestVerifyTokenRefusesAmbiguousJSON(t *testing.T) {
	signer, pub := newTestSigner(t, elliptic.P256())
	lst := sampleList(t).Encode()
	hdr := `{"alg":"ES256","kid":"test-key-1","typ":"statuslist+jwt"}`
	claims := func(extra string) string {
		return fmt.Sprintf(`{"sub":%q,"iat":%d,"exp":%d,"ttl":600,"status_list":{"bits":2,"lst":%q}%s}`,
			testURI, testNow.Unix(), testNow.Add(time.Hour).Unix(), lst, extra)
	}
	opts := VerifyOptions{URI: testURI, Now: testNow}
	if _, err := VerifyToken(signCompact(t, signer.key, hdr, claims("")), pub, opts); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
	tests := []struct {
		name, header, payload string
	}{
		{"repeated alg", `{"alg":"ES256","alg":"none","kid":"test-key-1","typ":"statuslist+jwt"}`, claims("")},
		{"repeated typ", `{"alg":"ES256","kid":"test-key-1","typ":"JWT","typ":"statuslist+jwt"}`, claims("")},
		{"repeated sub", hdr, claims(`,"sub":"https://issuer.example/status-lists/other"`)},
		{"repeated status_list", hdr, claims(`,"status_list":{"bits":2,"lst":"eNrbuRgAAhcBXQ"}`)},
		{"repeated lst", hdr, strings.Replace(claims(""), `"bits":2,`, `"bits":2,"lst":"eNrbuRgAAhcBXQ",`, 1)},
		{"SUB for sub", hdr, strings.Replace(claims(""), `"sub"`, `"SUB"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := VerifyToken(signCompact(t, signer.key, tt.header, tt.payload), pub, opts)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("VerifyToken = %v, %v; want ErrInvalidToken", v, err)
			}
		})
	}
}
