package oid4vci

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

func TestValidateProofJWT(t *testing.T) {
	p256 := newECKey(t, elliptic.P256(), "ES256")
	p384 := newECKey(t, elliptic.P384(), "ES384")
	other := newECKey(t, elliptic.P256(), "ES256")
	ed := newEdKey(t)
	rsaSmall, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := testKey{alg: "RS256", signer: rsaSmall, jwk: publicJWK(t, rsaSmall.Public())}

	exp := ProofExpectations{Audience: testIssuer, Now: testNow, RequireNonce: true, ExpectedNonce: "n-123"}
	good := func(mod func(p *proofParts)) string {
		p := goodProofParts(p256, "n-123")
		if mod != nil {
			mod(&p)
		}
		return makeProof(t, p256, p)
	}
	withExp := func(mod func(e *ProofExpectations)) ProofExpectations {
		e := exp
		mod(&e)
		return e
	}

	tests := []struct {
		name     string
		token    string
		exp      ProofExpectations
		wantCode string // "" means valid
		wantDesc string // substring of the description
	}{
		{name: "valid", token: good(nil), exp: exp},
		{name: "aud array containing issuer", token: good(func(p *proofParts) {
			p.claims["aud"] = []string{"https://other.example", testIssuer}
		}), exp: exp},
		{name: "typ with application prefix", token: good(func(p *proofParts) {
			p.header["typ"] = "application/openid4vci-proof+jwt"
		}), exp: exp},
		{name: "EdDSA key when allowed", token: makeProof(t, ed, goodProofParts(ed, "n-123")),
			exp: withExp(func(e *ProofExpectations) { e.AllowedAlgs = []string{"ES256", "EdDSA"} })},
		{name: "nonce not required and absent", token: good(func(p *proofParts) { delete(p.claims, "nonce") }),
			exp: withExp(func(e *ProofExpectations) { e.RequireNonce, e.ExpectedNonce = false, "" })},
		{name: "fractional iat", token: good(func(p *proofParts) { p.claims["iat"] = float64(testNow.Unix()) - 0.5 }), exp: exp},

		{name: "not compact", token: "abc.def", exp: exp, wantCode: ErrInvalidProof, wantDesc: "compact serialization"},
		{name: "empty signature", token: good(nil)[:strings.LastIndex(good(nil), ".")+1], exp: exp, wantCode: ErrInvalidProof, wantDesc: "compact"},
		{name: "too long", token: strings.Repeat("a", MaxProofJWTLength+1), exp: exp, wantCode: ErrInvalidProof, wantDesc: "longer than"},
		{name: "header not JSON", token: "bm90anNvbg." + b64([]byte(`{}`)) + ".AA", exp: exp, wantCode: ErrInvalidProof, wantDesc: "header"},
		{name: "typ missing", token: good(func(p *proofParts) { delete(p.header, "typ") }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "typ"},
		{name: "typ JWT", token: good(func(p *proofParts) { p.header["typ"] = "JWT" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "typ"},
		{name: "alg none", token: good(func(p *proofParts) { p.header["alg"] = "none" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "none"},
		{name: "alg HS256", token: good(func(p *proofParts) { p.header["alg"] = "HS256" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "symmetric"},
		{name: "alg not allowed", token: makeProof(t, p384, goodProofParts(p384, "n-123")), exp: exp, wantCode: ErrInvalidProof, wantDesc: "ES384 is not supported"},
		{name: "HS256 refused even if listed", token: good(func(p *proofParts) { p.header["alg"] = "HS256" }),
			exp: withExp(func(e *ProofExpectations) { e.AllowedAlgs = []string{"HS256", "ES256"} }), wantCode: ErrInvalidProof, wantDesc: "symmetric"},
		{name: "alg and curve mismatch", token: good(func(p *proofParts) { p.header["jwk"] = p384.jwk }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "P-384"},
		{name: "kid only", token: good(func(p *proofParts) { delete(p.header, "jwk"); p.header["kid"] = "did:example:123#1" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "only jwk key binding"},
		{name: "x5c only", token: good(func(p *proofParts) { delete(p.header, "jwk"); p.header["x5c"] = []string{"MIIB"} }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "only jwk key binding"},
		{name: "jwk and kid", token: good(func(p *proofParts) { p.header["kid"] = "k1" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "exactly one of jwk, kid and x5c"},
		{name: "no key", token: good(func(p *proofParts) { delete(p.header, "jwk") }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "holder public key as jwk"},
		{name: "jwk not an object", token: good(func(p *proofParts) { p.header["jwk"] = "key" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "JSON object"},
		{name: "private jwk", token: good(func(p *proofParts) { p.header["jwk"] = privateJWK(t, p256) }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "private key material (d)"},
		{name: "symmetric jwk", token: good(func(p *proofParts) { p.header["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"} }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "private key material (k)"},
		{name: "unknown kty", token: good(func(p *proofParts) { p.header["jwk"] = map[string]any{"kty": "XX"} }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "EC, OKP or RSA"},
		{name: "crit header", token: good(func(p *proofParts) { p.header["crit"] = []string{"b64"}; p.header["b64"] = false }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "crit"},
		{name: "signature by another key", token: good(func(p *proofParts) { p.header["jwk"] = other.jwk }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "does not verify"},
		{name: "small RSA key", token: makeProof(t, rsaKey, goodProofParts(rsaKey, "n-123")),
			exp: withExp(func(e *ProofExpectations) { e.AllowedAlgs = []string{"RS256"} }), wantCode: ErrInvalidProof, wantDesc: "2048"},
		{name: "aud missing", token: good(func(p *proofParts) { delete(p.claims, "aud") }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "aud must be the credential issuer identifier"},
		{name: "aud other issuer", token: good(func(p *proofParts) { p.claims["aud"] = testIssuer + "/" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "byte for byte"},
		{name: "aud array without issuer", token: good(func(p *proofParts) { p.claims["aud"] = []string{"https://other.example"} }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "aud"},
		{name: "aud number", token: good(func(p *proofParts) { p.claims["aud"] = 7 }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "aud must be a string"},
		{name: "iat missing", token: good(func(p *proofParts) { delete(p.claims, "iat") }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "iat is required"},
		{name: "iat string", token: good(func(p *proofParts) { p.claims["iat"] = "1700000000" }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "iat is required"},
		{name: "iat in the future", token: good(func(p *proofParts) { p.claims["iat"] = testNow.Add(2 * time.Minute).Unix() }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "future"},
		{name: "iat within skew", token: good(func(p *proofParts) { p.claims["iat"] = testNow.Add(30 * time.Second).Unix() }), exp: exp},
		{name: "iat too old", token: good(func(p *proofParts) { p.claims["iat"] = testNow.Add(-6 * time.Minute).Unix() }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "older than 300 seconds"},
		{name: "custom max age", token: good(func(p *proofParts) { p.claims["iat"] = testNow.Add(-6 * time.Minute).Unix() }),
			exp: withExp(func(e *ProofExpectations) { e.MaxAge = 10 * time.Minute })},
		{name: "expired", token: good(func(p *proofParts) { p.claims["exp"] = testNow.Add(-2 * time.Minute).Unix() }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "expired"},
		{name: "not yet valid", token: good(func(p *proofParts) { p.claims["nbf"] = testNow.Add(2 * time.Minute).Unix() }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "nbf"},
		{name: "nonce missing", token: good(func(p *proofParts) { delete(p.claims, "nonce") }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "nonce endpoint"},
		{name: "nonce wrong", token: good(func(p *proofParts) { p.claims["nonce"] = "n-999" }), exp: exp, wantCode: ErrInvalidNonce, wantDesc: "fetch a new one"},
		{name: "nonce not a string", token: good(func(p *proofParts) { p.claims["nonce"] = 5 }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "nonce must be a string"},
		{name: "nonce rejected by check", token: good(nil),
			exp: withExp(func(e *ProofExpectations) {
				e.ExpectedNonce = ""
				e.NonceCheck = func(string) error { return ErrNonceRejected }
			}), wantCode: ErrInvalidNonce, wantDesc: "unknown, expired or used"},
		{name: "iss not a string", token: good(func(p *proofParts) { p.claims["iss"] = 1 }), exp: exp, wantCode: ErrInvalidProof, wantDesc: "iss"},
		{name: "payload not an object", token: signJWT(t, p256, "ES256", mustJSON(t, goodProofParts(p256, "").header), []byte(`[1]`)),
			exp: exp, wantCode: ErrInvalidProof, wantDesc: "payload"},
		{name: "duplicate alg in header", token: signJWT(t, p256, "ES256",
			[]byte(`{"typ":"openid4vci-proof+jwt","alg":"ES256","alg":"none","jwk":`+string(mustJSON(t, p256.jwk))+`}`),
			mustJSON(t, goodProofParts(p256, "n-123").claims)), exp: exp, wantCode: ErrInvalidProof, wantDesc: "alg appears more than once"},
		{name: "duplicate aud in payload", token: signJWT(t, p256, "ES256", mustJSON(t, goodProofParts(p256, "").header),
			[]byte(`{"aud":"https://evil.example","aud":"`+testIssuer+`","iat":`+itoa(testNow.Unix())+`,"nonce":"n-123"}`)),
			exp: exp, wantCode: ErrInvalidProof, wantDesc: "aud appears more than once"},
		{name: "signature not base64url", token: good(nil) + "!", exp: exp, wantCode: ErrInvalidProof, wantDesc: "signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ValidateProofJWT(tc.token, tc.exp)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if p.Raw != tc.token || p.Key == nil || p.Thumbprint == "" || p.IssuedAt.IsZero() {
					t.Fatalf("incomplete proof: %+v", p)
				}
				return
			}
			if p != nil {
				t.Fatalf("got a proof with error %v", err)
			}
			pe := protocolError(t, err, tc.wantCode)
			if !strings.Contains(pe.Description, tc.wantDesc) {
				t.Fatalf("description %q does not contain %q", pe.Description, tc.wantDesc)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestValidateProofJWTResult(t *testing.T) {
	key := newECKey(t, elliptic.P256(), "ES256")
	p := goodProofParts(key, "abc")
	p.header["jwk"] = withExtra(key.jwk, map[string]any{"kid": "wallet-key-7", "use": "sig"})
	p.claims["iss"] = "wallet-client"
	p.claims["jti"] = "jti-1"
	token := makeProof(t, key, p)
	got, err := ValidateProofJWT(token, ProofExpectations{Audience: testIssuer, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"kty", "crv", "x", "y"} {
		if got.JWK[m] != key.jwk[m] {
			t.Errorf("cnf member %s = %v, want %v", m, got.JWK[m], key.jwk[m])
		}
	}
	if len(got.JWK) != 4 {
		t.Errorf("cnf jwk carries extra members: %v", got.JWK)
	}
	pub, err := jwk.FromRaw(key.signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(tp); got.Thumbprint != want {
		t.Errorf("thumbprint = %s, want %s", got.Thumbprint, want)
	}
	if got.Nonce != "abc" || got.Issuer != "wallet-client" || got.JTI != "jti-1" || got.Algorithm != "ES256" {
		t.Errorf("claims not recorded: %+v", got)
	}
	if !got.IssuedAt.Equal(time.Unix(testNow.Unix()-10, 0)) {
		t.Errorf("iat = %v", got.IssuedAt)
	}
}

func TestValidateProofJWTInternalErrors(t *testing.T) {
	key := newECKey(t, elliptic.P256(), "ES256")
	token := makeProof(t, key, goodProofParts(key, "n"))
	storeDown := errors.New("store unavailable")
	tests := []struct {
		name string
		exp  ProofExpectations
		is   error
	}{
		{name: "no clock", exp: ProofExpectations{Audience: testIssuer}},
		{name: "no audience", exp: ProofExpectations{Now: testNow}},
		{name: "nonce check fails", exp: ProofExpectations{Audience: testIssuer, Now: testNow,
			NonceCheck: func(string) error { return storeDown }}, is: storeDown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateProofJWT(token, tc.exp)
			var pe *Error
			if err == nil || errors.As(err, &pe) {
				t.Fatalf("want an internal (non-protocol) error, got %v", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
}

func TestValidateProofs(t *testing.T) {
	k1 := newECKey(t, elliptic.P256(), "ES256")
	k2 := newECKey(t, elliptic.P256(), "ES256")
	p1 := makeProof(t, k1, goodProofParts(k1, "n"))
	p1again := makeProof(t, k1, goodProofParts(k1, "n"))
	p2 := makeProof(t, k2, goodProofParts(k2, "n"))
	bad := goodProofParts(k2, "n")
	bad.claims["aud"] = "https://other.example"
	p2bad := makeProof(t, k2, bad)

	tests := []struct {
		name       string
		jwts       []string
		wantKeys   int
		wantCode   string
		wantPrefix string
	}{
		{name: "two keys", jwts: []string{p1, p2}, wantKeys: 2},
		{name: "repeated key dropped", jwts: []string{p1, p1again, p2}, wantKeys: 2},
		{name: "second proof invalid", jwts: []string{p1, p2bad}, wantCode: ErrInvalidProof, wantPrefix: "proof 2: "},
		{name: "none", jwts: nil, wantCode: ErrInvalidProof},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			exp := ProofExpectations{Audience: testIssuer, Now: testNow, RequireNonce: true,
				NonceCheck: func(n string) error {
					calls++
					if n != "n" {
						return ErrNonceRejected
					}
					return nil
				}}
			got, err := ValidateProofs(tc.jwts, exp)
			if tc.wantCode != "" {
				pe := protocolError(t, err, tc.wantCode)
				if !strings.HasPrefix(pe.Description, tc.wantPrefix) {
					t.Fatalf("description %q lacks prefix %q", pe.Description, tc.wantPrefix)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantKeys {
				t.Fatalf("got %d proofs, want %d", len(got), tc.wantKeys)
			}
			if calls != 1 {
				t.Fatalf("nonce check ran %d times for one distinct nonce, want 1", calls)
			}
		})
	}
}

func withExtra(m, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func BenchmarkValidateProofJWT(b *testing.B) {
	key := newECKey(b, elliptic.P256(), "ES256")
	token := makeProof(b, key, goodProofParts(key, "n"))
	exp := ProofExpectations{Audience: testIssuer, Now: testNow, ExpectedNonce: "n", RequireNonce: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ValidateProofJWT(token, exp); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProofECKeyForms checks the EC holder key path against jwx: the thumbprint and cnf members of every NIST curve
// equal what jwx computes for the same key, coordinates with a dropped leading zero byte are padded back, and keys
// off the curve or signatures of the wrong shape are refused.
func TestProofECKeyForms(t *testing.T) {
	exp := ProofExpectations{Audience: testIssuer, Now: testNow, AllowedAlgs: []string{"ES256", "ES384", "ES512"}}
	leadingZero := func(curve elliptic.Curve, alg string) testKey {
		for {
			k := newECKey(t, curve, alg)
			if x, _ := base64.RawURLEncoding.DecodeString(k.jwk["x"].(string)); x[0] == 0 {
				return k
			}
		}
	}
	strip := func(k testKey) map[string]any {
		out := map[string]any{}
		for m, v := range k.jwk {
			out[m] = v
		}
		x, _ := base64.RawURLEncoding.DecodeString(k.jwk["x"].(string))
		out["x"] = base64.RawURLEncoding.EncodeToString(x[1:])
		return out
	}
	p256z := leadingZero(elliptic.P256(), "ES256")
	tests := []struct {
		name     string
		key      testKey
		jwk      map[string]any // header jwk; key.jwk when nil
		sigMod   func(sig []byte) []byte
		wantDesc string
	}{
		{name: "P-256", key: newECKey(t, elliptic.P256(), "ES256")},
		{name: "P-384", key: newECKey(t, elliptic.P384(), "ES384")},
		{name: "P-521", key: newECKey(t, elliptic.P521(), "ES512")},
		{name: "P-256 with leading zero x", key: p256z},
		{name: "P-256 with the leading zero dropped", key: p256z, jwk: strip(p256z)},
		{name: "point off the curve", key: p256z, jwk: withExtra(p256z.jwk, map[string]any{"y": p256z.jwk["x"]}), wantDesc: "not on curve"},
		{name: "coordinate too long", key: p256z, jwk: withExtra(p256z.jwk, map[string]any{"x": b64(make([]byte, 33))}), wantDesc: "coordinate"},
		{name: "coordinate not base64url", key: p256z, jwk: withExtra(p256z.jwk, map[string]any{"x": "a+b/"}), wantDesc: "coordinate"},
		{name: "y missing", key: p256z, jwk: map[string]any{"kty": "EC", "crv": "P-256", "x": p256z.jwk["x"]}, wantDesc: "not a valid public JWK"},
		{name: "crv not a string", key: p256z, jwk: withExtra(p256z.jwk, map[string]any{"crv": 1}), wantDesc: "not a valid public JWK"},
		{name: "signature one byte short", key: p256z, sigMod: func(s []byte) []byte { return s[:len(s)-1] }, wantDesc: "does not verify"},
		{name: "signature flipped", key: p256z, sigMod: func(s []byte) []byte { s[3] ^= 1; return s }, wantDesc: "does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := goodProofParts(tc.key, "")
			if tc.jwk != nil {
				parts.header["jwk"] = tc.jwk
			}
			token := makeProof(t, tc.key, parts)
			if tc.sigMod != nil {
				i := strings.LastIndexByte(token, '.')
				sig, _ := base64.RawURLEncoding.DecodeString(token[i+1:])
				token = token[:i+1] + b64(tc.sigMod(sig))
			}
			p, err := ValidateProofJWT(token, exp)
			if tc.wantDesc != "" {
				pe := protocolError(t, err, ErrInvalidProof)
				if !strings.Contains(pe.Description, tc.wantDesc) {
					t.Fatalf("description %q does not contain %q", pe.Description, tc.wantDesc)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := jwk.FromRaw(tc.key.signer.Public())
			if err != nil {
				t.Fatal(err)
			}
			tp, err := want.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if p.Thumbprint != b64(tp) {
				t.Errorf("thumbprint %s, jwx computes %s", p.Thumbprint, b64(tp))
			}
			if !reflect.DeepEqual(p.JWK, tc.key.jwk) {
				t.Errorf("cnf members %v, want the canonical %v", p.JWK, tc.key.jwk)
			}
			if got, _ := p.Key.Thumbprint(crypto.SHA256); !bytes.Equal(got, tp) {
				t.Errorf("Proof.Key is not the holder key")
			}
		})
	}
}

func TestProofNumericDate(t *testing.T) {
	tests := []struct {
		raw  string
		want int64
		ok   bool
		err  bool
	}{
		{`1700000000`, 1700000000, true, false},
		{`1.7e9`, 1700000000, true, false},
		{` 1700000000.5 `, 1700000000, true, false},
		{`null`, 0, false, false},
		{`"1700000000"`, 0, false, true},
		{`true`, 0, false, true},
		{`-1`, 0, false, true},
		{`1e400`, 0, false, true},
		{`[1]`, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, ok, err := numericDate(jsonObject{"iat": jsontext.Value(tc.raw)}, "iat")
			if ok != tc.ok || (err != nil) != tc.err || (ok && got.Unix() != tc.want) {
				t.Fatalf("numericDate(%s) = %v, %v, %v", tc.raw, got, ok, err)
			}
		})
	}
}
