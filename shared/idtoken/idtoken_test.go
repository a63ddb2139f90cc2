package idtoken_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/mr-tron/base58"

	"github.com/sdjwt-issuer/issuer/shared/idtoken"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
)

const issuer = "https://issuer.example"

var now = time.Unix(1_800_000_000, 0)

// holder is a wallet key with its DIDs.
type holder struct {
	priv crypto.Signer
	alg  jwa.SignatureAlgorithm
	pub  jwk.Key
}

func newP256(t *testing.T) *holder {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &holder{priv: k, alg: jwa.ES256, pub: pub}
}

func newEd25519(t *testing.T) *holder {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &holder{priv: priv, alg: jwa.EdDSA, pub: k}
}

func multibase(code uint64, body []byte) string {
	return "z" + base58.Encode(append(binary.AppendUvarint(nil, code), body...))
}

// didKey is the did:key of the holder's key (P-256 compressed, or Ed25519).
func (h *holder) didKey() string {
	switch k := h.priv.Public().(type) {
	case *ecdsa.PublicKey:
		b, err := k.Bytes() // 04 || x || y
		if err != nil {
			panic(err)
		}
		return "did:key:" + multibase(0x1200, append([]byte{2 | b[64]&1}, b[1:33]...))
	case ed25519.PublicKey:
		return "did:key:" + multibase(0xed, k)
	}
	panic("key type")
}

// didKeyJCS is the did:key of the holder's key as a jwk_jcs-pub (EBSI's natural persons).
func (h *holder) didKeyJCS(t *testing.T) string {
	b := h.jwkJSON(t)
	return "did:key:" + multibase(0xeb51, b)
}

func (h *holder) jwkJSON(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(h.pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h *holder) didJWK(t *testing.T) string {
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString(h.jwkJSON(t))
}

func (h *holder) thumbprint(t *testing.T) string {
	tp, err := h.pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func (h *holder) sign(t *testing.T, header map[string]any, claims map[string]any) string {
	t.Helper()
	hdr := jws.NewHeaders()
	for k, v := range header {
		if err := hdr.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.Sign(payload, jws.WithKey(h.alg, h.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func claimsFor(sub string) map[string]any {
	return map[string]any{"iss": sub, "sub": sub, "aud": issuer, "nonce": "n-0S6_WzA2Mj",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
}

func expect() idtoken.Expect {
	return idtoken.Expect{Audience: issuer, Nonce: "n-0S6_WzA2Mj", Time: jwtverify.Window{Now: now}}
}

func TestVerifyAccepts(t *testing.T) {
	p := newP256(t)
	ed := newEd25519(t)
	cases := []struct {
		name    string
		h       *holder
		subject string
		header  map[string]any
		claims  func(map[string]any)
	}{
		{name: "did:key P-256 with kid", h: p, subject: p.didKey(), header: map[string]any{"typ": "JWT",
			"kid": p.didKey() + "#" + strings.TrimPrefix(p.didKey(), "did:key:")}},
		{name: "did:key without fragment, no typ", h: p, subject: p.didKey(), header: map[string]any{"kid": p.didKey()}},
		{name: "did:key Ed25519", h: ed, subject: ed.didKey(), header: map[string]any{"kid": ed.didKey()}},
		{name: "did:key jwk_jcs-pub (EBSI)", h: p, subject: p.didKeyJCS(t), header: map[string]any{"kid": p.didKeyJCS(t)}},
		{name: "did:jwk", h: p, subject: p.didJWK(t), header: map[string]any{"kid": p.didJWK(t) + "#0"}},
		{name: "did in sub only", h: p, subject: p.didKey(), header: map[string]any{}},
		{name: "jwk header with thumbprint sub", h: p, subject: p.thumbprint(t), header: map[string]any{"jwk": p.pub}},
		{name: "jwk header with thumbprint URI sub", h: p, subject: "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + p.thumbprint(t),
			header: map[string]any{"jwk": p.pub}},
		{name: "jwk header with did sub", h: p, subject: p.didJWK(t), header: map[string]any{"jwk": p.pub}},
		{name: "aud array", h: p, subject: p.didKey(), header: map[string]any{"kid": p.didKey()},
			claims: func(c map[string]any) { c["aud"] = []string{"other", issuer} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := claimsFor(tc.subject)
			if tc.claims != nil {
				tc.claims(c)
			}
			v, err := idtoken.Verify(tc.h.sign(t, tc.header, c), expect())
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.Subject != tc.subject || v.Key.Thumbprint != tc.h.thumbprint(t) {
				t.Fatalf("subject %q key %q", v.Subject, v.Key.Thumbprint)
			}
			if v.Claims["nonce"] != "n-0S6_WzA2Mj" || v.Header["alg"] != string(tc.h.alg) {
				t.Fatalf("decoded %v %v", v.Header, v.Claims)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	p := newP256(t)
	other := newP256(t)
	good := map[string]any{"kid": p.didKey()}
	cases := []struct {
		name   string
		token  func() string
		expect func(*idtoken.Expect)
		reason string
	}{
		{name: "wrong aud", token: func() string {
			c := claimsFor(p.didKey())
			c["aud"] = "https://other.example"
			return p.sign(t, good, c)
		}, reason: "aud"},
		{name: "no aud", token: func() string {
			c := claimsFor(p.didKey())
			delete(c, "aud")
			return p.sign(t, good, c)
		}, reason: "aud"},
		{name: "wrong nonce", token: func() string { return p.sign(t, good, claimsFor(p.didKey())) },
			expect: func(e *idtoken.Expect) { e.Nonce = "another" }, reason: "nonce"},
		{name: "no nonce", token: func() string {
			c := claimsFor(p.didKey())
			delete(c, "nonce")
			return p.sign(t, good, c)
		}, reason: "nonce"},
		{name: "expired", token: func() string {
			c := claimsFor(p.didKey())
			c["exp"] = now.Add(-10 * time.Minute).Unix()
			return p.sign(t, good, c)
		}, reason: "expired"},
		{name: "no exp", token: func() string {
			c := claimsFor(p.didKey())
			delete(c, "exp")
			return p.sign(t, good, c)
		}, reason: "exp"},
		{name: "iat in the future", token: func() string {
			c := claimsFor(p.didKey())
			c["iat"] = now.Add(time.Hour).Unix()
			return p.sign(t, good, c)
		}, reason: "future"},
		{name: "iss differs from sub", token: func() string {
			c := claimsFor(p.didKey())
			c["iss"] = "https://idp.example"
			return p.sign(t, good, c)
		}, reason: "self-issued"},
		{name: "kid of another DID than sub", token: func() string {
			return p.sign(t, map[string]any{"kid": p.didKey()}, claimsFor(other.didKey()))
		}, reason: "DID in sub"},
		{name: "signed by another key than the DID's", token: func() string {
			return other.sign(t, good, claimsFor(p.didKey()))
		}, reason: "signature"},
		{name: "jwk header of another key than sub", token: func() string {
			return p.sign(t, map[string]any{"jwk": p.pub}, claimsFor(other.thumbprint(t)))
		}, reason: "thumbprint"},
		{name: "jwk and did kid both", token: func() string {
			return p.sign(t, map[string]any{"jwk": p.pub, "kid": p.didKey()}, claimsFor(p.didKey()))
		}, reason: "twice"},
		{name: "no key named", token: func() string {
			return p.sign(t, map[string]any{"kid": "key-1"}, claimsFor("holder"))
		}, reason: "name its key"},
		{name: "did:web", token: func() string {
			return p.sign(t, map[string]any{"kid": "did:web:wallet.example#k"}, claimsFor("did:web:wallet.example"))
		}, reason: "did:key or did:jwk"},
		{name: "did:key not base58btc", token: func() string {
			return p.sign(t, map[string]any{"kid": "did:key:m0000"}, claimsFor("did:key:m0000"))
		}, reason: "multibase"},
		{name: "did:key of an unknown codec", token: func() string {
			d := "did:key:" + multibase(0xe7, make([]byte, 33)) // secp256k1
			return p.sign(t, map[string]any{"kid": d}, claimsFor(d))
		}, reason: "multicodec"},
		{name: "did:key point off the curve", token: func() string {
			d := "did:key:" + multibase(0x1200, append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...))
			return p.sign(t, map[string]any{"kid": d}, claimsFor(d))
		}, reason: "point"},
		{name: "did:key wrong fragment", token: func() string {
			return p.sign(t, map[string]any{"kid": p.didKey() + "#other"}, claimsFor(p.didKey()))
		}, reason: "verification method"},
		{name: "did:jwk with a private key", token: func() string {
			k, _ := jwk.FromRaw(p.priv)
			b, _ := json.Marshal(k)
			d := "did:jwk:" + base64.RawURLEncoding.EncodeToString(b)
			return p.sign(t, map[string]any{"kid": d + "#0"}, claimsFor(d))
		}, reason: "private"},
		{name: "wrong typ", token: func() string {
			return p.sign(t, map[string]any{"kid": p.didKey(), "typ": "dpop+jwt"}, claimsFor(p.didKey()))
		}, reason: "typ"},
		{name: "alg none", token: func() string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + p.didKey() + `"}`))
			b, _ := json.Marshal(claimsFor(p.didKey()))
			return h + "." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
		}, reason: "none"},
		{name: "repeated claim", token: func() string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"` + p.didKey() + `"}`))
			return h + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"a","sub":"b"}`)) + ".c2ln"
		}, reason: "JSON"},
		{name: "not a JWT", token: func() string { return "id-token" }, reason: "compact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := expect()
			if tc.expect != nil {
				tc.expect(&e)
			}
			_, err := idtoken.Verify(tc.token(), e)
			var je *jwtverify.Error
			if !errors.As(err, &je) {
				t.Fatalf("err = %v, want a *jwtverify.Error", err)
			}
			if !strings.Contains(je.Reason, tc.reason) {
				t.Fatalf("reason %q does not say %q", je.Reason, tc.reason)
			}
		})
	}
}

func TestRequestClaims(t *testing.T) {
	r := idtoken.Request{Issuer: issuer, Audience: "wallet", ResponseURI: issuer + "/direct_post", Nonce: "n", State: "s",
		IssuedAt: now, Expires: now.Add(time.Minute)}
	c := r.Claims()
	for k, want := range map[string]any{"iss": issuer, "aud": "wallet", "client_id": issuer, "response_type": "id_token",
		"response_mode": "direct_post", "redirect_uri": issuer + "/direct_post", "scope": "openid", "nonce": "n", "state": "s",
		"exp": now.Add(time.Minute).Unix()} {
		if c[k] != want {
			t.Errorf("%s = %v, want %v", k, c[k], want)
		}
	}
	q := r.Query("jwt")
	if q["request"] != "jwt" || q["nonce"] != "n" || q["client_id"] != issuer || q["aud"] != "" {
		t.Fatalf("query %v", q)
	}
}
