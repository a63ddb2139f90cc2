package sdjwt

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// disc encodes a disclosure from its parts.
func disc(t testing.TB, parts ...any) string {
	t.Helper()
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(b)
}

// craft signs an arbitrary payload (a JSON string) with signer and appends disclosures.
func craft(t testing.TB, s *localSigner, typ, payload string, disclosures ...string) string {
	t.Helper()
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, typ)
	_ = hdr.Set(jws.KeyIDKey, s.kid)
	out, err := jws.Sign([]byte(payload), jws.WithKey(jwa.ES256, s.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out) + "~" + strings.Join(append(disclosures, ""), "~")
}

func TestVerifyRejects(t *testing.T) {
	signer, pub := newLocalSigner(t)
	other, otherPub := newLocalSigner(t)
	_ = other
	now := time.Unix(1700000000, 0)
	base := `"iss":"https://i.example","vct":"T","iat":1700000000`
	gn := disc(t, "salt-given-name-000001", "given_name", "Erika")
	fn := disc(t, "salt-family-name-00001", "family_name", "M")
	el := disc(t, "salt-element-000000001", "DE")
	vctD := disc(t, "salt-vct-0000000000001", "vct", "T")
	sdName := disc(t, "salt-sd-00000000000001", "_sd", "x")
	gn2 := disc(t, "salt-given-name-000002", "given_name", "Other")
	iatD := disc(t, "salt-iat-0000000000001", "iat", 1700000000)
	iatFuture := disc(t, "salt-iat-0000000000002", "iat", 1700001000)
	issD := disc(t, "salt-iss-0000000000001", "iss", "https://i.example")
	statusD := disc(t, "salt-status-0000000001", "status", map[string]any{"status_list": map[string]any{"idx": 1, "uri": "https://i.example/s"}})
	cnfD := disc(t, "salt-cnf-0000000000001", "cnf", map[string]any{"jwk": map[string]any{"kty": "EC"}})
	expD := disc(t, "salt-exp-0000000000001", "exp", 1800000000)
	d := Digest
	good := craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(gn)+`"]}`, gn)
	jwtPart := good[:strings.IndexByte(good, '~')]

	tests := []struct {
		name string
		in   string
		opts []VerifyOption
		want error
	}{
		{"control: valid", good, nil, nil},
		{"tampered signature", jwtPart[:len(jwtPart)-4] + "AAAA~" + gn + "~", nil, ErrSignature},
		{"wrong issuer key", good, []VerifyOption{WithIssuerKey(otherPub)}, ErrSignature},
		{"key set without the kid", good, []VerifyOption{WithIssuerKey(nil), WithIssuerKeySet(setOf(t, otherPub))}, ErrSignature},
		{"typ JWT", craft(t, signer, "JWT", `{`+base+`}`), nil, ErrUnexpectedType},
		{"typ missing", craft(t, signer, "", `{`+base+`}`), nil, ErrUnexpectedType},
		{"alg none", b64.EncodeToString([]byte(`{"alg":"none","typ":"dc+sd-jwt"}`)) + "." + b64.EncodeToString([]byte(`{`+base+`}`)) + ".AAAA~", nil, ErrUnexpectedType},
		{"alg HS256", b64.EncodeToString([]byte(`{"alg":"HS256","typ":"dc+sd-jwt"}`)) + "." + b64.EncodeToString([]byte(`{`+base+`}`)) + ".AAAA~", nil, ErrUnexpectedType},
		{"duplicate disclosure", good + gn + "~", nil, ErrDuplicateDisclosure},
		{"unreferenced disclosure", good + fn + "~", nil, ErrUnreferencedDisclosure},
		{"duplicate digest in _sd", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(gn)+`","`+d(gn)+`"]}`, gn), nil, ErrDuplicateDigest},
		{"duplicate undisclosed digest", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["x","x"]}`), nil, ErrDuplicateDigest},
		{"digest in _sd and array", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(el)+`"],"a":[{"...":"`+d(el)+`"}]}`, el), nil, ErrDuplicateDigest},
		{"collision with clear claim", craft(t, signer, "dc+sd-jwt", `{`+base+`,"given_name":"X","_sd":["`+d(gn)+`"]}`, gn), nil, ErrClaimCollision},
		{"collision between disclosures", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(gn)+`","`+d(gn2)+`"]}`, gn, gn2), nil, ErrClaimCollision},
		{"_sd not an array", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":"`+d(gn)+`"}`, gn), nil, ErrSDMisuse},
		{"_sd holds a number", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":[1]}`), nil, ErrSDMisuse},
		{"... with other members", craft(t, signer, "dc+sd-jwt", `{`+base+`,"a":[{"...":"`+d(el)+`","b":1}]}`, el), nil, ErrSDMisuse},
		{"... as object member", craft(t, signer, "dc+sd-jwt", `{`+base+`,"o":{"...":"x"}}`), nil, ErrSDMisuse},
		{"... digest not a string", craft(t, signer, "dc+sd-jwt", `{`+base+`,"a":[{"...":1}]}`), nil, ErrSDMisuse},
		{"element disclosure in _sd", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(el)+`"]}`, el), nil, ErrSDMisuse},
		{"property disclosure in array", craft(t, signer, "dc+sd-jwt", `{`+base+`,"a":[{"...":"`+d(gn)+`"}]}`, gn), nil, ErrSDMisuse},
		{"_sd_alg sha-512", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd_alg":"sha-512"}`), nil, ErrSDMisuse},
		{"nested _sd_alg", craft(t, signer, "dc+sd-jwt", `{`+base+`,"o":{"_sd_alg":"sha-256"}}`), nil, ErrSDMisuse},
		{"disclosure named _sd", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(sdName)+`"]}`, sdName), nil, ErrSDMisuse},
		{"vct disclosed", craft(t, signer, "dc+sd-jwt", `{"iss":"https://i.example","iat":1700000000,"_sd":["`+d(vctD)+`"]}`, vctD), nil, ErrReservedClaim},
		{"vct missing", craft(t, signer, "dc+sd-jwt", `{"iss":"https://i.example","iat":1700000000}`), nil, ErrMissingClaim},
		{"iss missing", craft(t, signer, "dc+sd-jwt", `{"vct":"T","iat":1700000000}`), nil, ErrMissingClaim},
		// SD-JWT VC (draft 08 and later): iat is OPTIONAL and MAY be selectively disclosed; iss, nbf, exp, cnf,
		// vct, vct#integrity and status MUST NOT be.
		{"iat absent is fine", craft(t, signer, "dc+sd-jwt", `{"iss":"https://i.example","vct":"T"}`), nil, nil},
		{"iat disclosed is fine", craft(t, signer, "dc+sd-jwt", `{"iss":"https://i.example","vct":"T","_sd":["`+d(iatD)+`"]}`, iatD), nil, nil},
		{"disclosed iat in the future", craft(t, signer, "dc+sd-jwt", `{"iss":"https://i.example","vct":"T","_sd":["`+d(iatFuture)+`"]}`, iatFuture), nil, ErrNotYetValid},
		{"iss disclosed", craft(t, signer, "dc+sd-jwt", `{"vct":"T","_sd":["`+d(issD)+`"]}`, issD), nil, ErrReservedClaim},
		{"status disclosed", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(statusD)+`"]}`, statusD), nil, ErrReservedClaim},
		{"cnf disclosed", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(cnfD)+`"]}`, cnfD), nil, ErrReservedClaim},
		{"exp disclosed", craft(t, signer, "dc+sd-jwt", `{`+base+`,"_sd":["`+d(expD)+`"]}`, expD), nil, ErrReservedClaim},
		{"exp not a number", craft(t, signer, "dc+sd-jwt", `{`+base+`,"exp":"tomorrow"}`), nil, ErrMissingClaim},
		{"expired", craft(t, signer, "dc+sd-jwt", `{`+base+`,"exp":1699999000}`), nil, ErrExpired},
		{"expired within leeway is fine", craft(t, signer, "dc+sd-jwt", `{`+base+`,"exp":1699999990}`), nil, nil},
		{"expired with zero leeway", craft(t, signer, "dc+sd-jwt", `{`+base+`,"exp":1699999990}`), []VerifyOption{WithLeeway(0)}, ErrExpired},
		{"nbf in the future", craft(t, signer, "dc+sd-jwt", `{`+base+`,"nbf":1700001000}`), nil, ErrNotYetValid},
		{"iat in the future", craft(t, signer, "dc+sd-jwt", `{"iss":"https://i.example","vct":"T","iat":1700001000}`), nil, ErrNotYetValid},
		{"no separator", jwtPart, nil, ErrMalformed},
		{"empty disclosure", good + "~", nil, ErrMalformed},
		{"padded disclosure", strings.TrimSuffix(good, gn+"~") + gn + "=~", nil, ErrMalformed},
		{"disclosure of 4 elements", good + disc(t, "s", "a", "b", "c") + "~", nil, ErrMalformed},
		{"disclosure not JSON", good + b64.EncodeToString([]byte("not json")) + "~", nil, ErrMalformed},
		{"disclosure salt not a string", good + disc(t, 1, "a", "b") + "~", nil, ErrMalformed},
		{"jwt with two parts", "a.b~", nil, ErrMalformed},
		{"payload not an object", craft(t, signer, "dc+sd-jwt", `[1,2]`), nil, ErrMalformed},
		{"duplicate JSON member", craft(t, signer, "dc+sd-jwt", `{`+base+`,"vct":"U"}`), nil, ErrMalformed},
		{"trailing JSON", craft(t, signer, "dc+sd-jwt", `{`+base+`} {}`), nil, ErrMalformed},
		{"too large", good, []VerifyOption{WithLimits(Limits{MaxBytes: 100, MaxDisclosures: 10})}, ErrTooLarge},
		{"too many disclosures", good + fn + "~", []VerifyOption{WithLimits(Limits{MaxBytes: 1 << 20, MaxDisclosures: 1})}, ErrTooLarge},
		{"nesting too deep", craft(t, signer, "dc+sd-jwt", `{`+base+`,"deep":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`), nil, ErrTooLarge},
		{"no key configured", good, []VerifyOption{WithIssuerKey(nil)}, ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]VerifyOption{WithIssuerKey(pub), clockAt(now)}, tc.opts...)
			_, err := Verify(tc.in, opts...)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "Erika") || strings.Contains(err.Error(), "salt-")) {
				t.Errorf("error leaks a claim value or salt: %v", err)
			}
		})
	}
}

func setOf(t testing.TB, keys ...jwk.Key) jwk.Set {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	return set
}

func TestVerifyWithKeySet(t *testing.T) {
	iss, _, pub, _ := issueReference(t)
	_, otherPub := newLocalSigner(t)
	if _, err := Verify(iss.SDJWT, WithIssuerKeySet(setOf(t, otherPub, pub)), clockAt(referenceTime)); err != nil {
		t.Fatalf("key set with the issuer key: %v", err)
	}
	if _, err := Verify(iss.SDJWT, WithIssuerKeySet(setOf(t, otherPub)), clockAt(referenceTime)); !errors.Is(err, ErrSignature) {
		t.Fatalf("key set without the issuer key: err = %v", err)
	}
}

func TestKeyBinding(t *testing.T) {
	iss, _, pub, holder := issueReference(t)
	stranger, _ := newHolder(t)
	const aud, nonce = "https://verifier.example", "n-0S6_WzA2Mj"
	at := referenceTime
	present := func(include func(Disclosure) bool, kb *KeyBindingInput) string {
		t.Helper()
		s, err := Present(iss.SDJWT, include, kb)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	only := func(names ...string) func(Disclosure) bool {
		return func(d Disclosure) bool {
			for _, n := range names {
				if d.Name == n {
					return true
				}
			}
			return false
		}
	}
	kb := &KeyBindingInput{Key: holder, Audience: aud, Nonce: nonce, IssuedAt: at}
	valid := present(only("given_name", "street_address"), kb)
	otherSel := present(only("family_name"), nil)
	kbOf := func(s string) string { return s[strings.LastIndexByte(s, '~')+1:] }
	withTyp := func(typ string) string {
		hdr := jws.NewHeaders()
		_ = hdr.Set(jws.TypeKey, typ)
		base := present(only("given_name"), nil)
		payload := `{"iat":` + jsonInt(at.Unix()) + `,"aud":"` + aud + `","nonce":"` + nonce + `","sd_hash":"` + Digest(base) + `"}`
		out, _ := jws.Sign([]byte(payload), jws.WithKey(jwa.ES256, holder, jws.WithProtectedHeaders(hdr)))
		return base + string(out)
	}
	tests := []struct {
		name string
		in   string
		opts []VerifyOption
		want error
	}{
		{"valid", valid, []VerifyOption{WithKeyBinding(aud, nonce)}, nil},
		{"valid without expectations", valid, nil, nil},
		{"required but missing", present(only("given_name"), nil), []VerifyOption{WithKeyBinding(aud, nonce)}, ErrKeyBinding},
		{"wrong nonce", valid, []VerifyOption{WithKeyBinding(aud, "other")}, ErrKeyBinding},
		{"wrong audience", valid, []VerifyOption{WithKeyBinding("https://evil.example", nonce)}, ErrKeyBinding},
		{"sd_hash of another presentation", otherSel + kbOf(valid), nil, ErrKeyBinding},
		{"signed by a stranger", present(only("given_name"), &KeyBindingInput{Key: stranger, Audience: aud, Nonce: nonce, IssuedAt: at}), nil, ErrKeyBinding},
		{"typ JWT", withTyp("JWT"), nil, ErrKeyBinding},
		{"typ kb+jwt control", withTyp("kb+jwt"), nil, nil},
		{"too old", present(nil, &KeyBindingInput{Key: holder, Audience: aud, Nonce: nonce, IssuedAt: at.Add(-time.Hour)}), nil, ErrKeyBinding},
		{"in the future", present(nil, &KeyBindingInput{Key: holder, Audience: aud, Nonce: nonce, IssuedAt: at.Add(time.Hour)}), nil, ErrKeyBinding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]VerifyOption{WithIssuerKey(pub), clockAt(at)}, tc.opts...)
			v, err := Verify(tc.in, opts...)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), nonce) {
				t.Error("error leaks the nonce")
			}
			if err == nil && tc.name == "valid" {
				if v.KeyBinding == nil || v.KeyBinding.Audience != aud {
					t.Errorf("key binding = %+v", v.KeyBinding)
				}
				// Present added the parent (address) of street_address.
				addr, ok := v.Claims["address"].(map[string]any)
				if !ok || addr["street_address"] != "Heidestrasse 17" || addr["locality"] != nil {
					t.Errorf("address = %v", v.Claims["address"])
				}
				if v.Claims["family_name"] != nil {
					t.Error("family_name disclosed but not selected")
				}
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestKeyBindingNeedsHolderKey(t *testing.T) {
	signer, pub := newLocalSigner(t)
	holder, _ := newHolder(t)
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name    string
		payload string
	}{
		{"no cnf", `{"iss":"https://i.example","vct":"T","iat":1700000000}`},
		{"private cnf.jwk", `{"iss":"https://i.example","vct":"T","iat":1700000000,"cnf":{"jwk":` + rfcHolderPrivateJWK + `}}`},
		{"cnf.jwk not a key", `{"iss":"https://i.example","vct":"T","iat":1700000000,"cnf":{"jwk":{"kty":"nope"}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := craft(t, signer, "dc+sd-jwt", tc.payload)
			pres, err := Present(s, nil, &KeyBindingInput{Key: holder, Audience: "a", Nonce: "n", IssuedAt: now})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(pres, WithIssuerKey(pub), clockAt(now)); !errors.Is(err, ErrKeyBinding) {
				t.Fatalf("err = %v, want ErrKeyBinding", err)
			}
		})
	}
}
