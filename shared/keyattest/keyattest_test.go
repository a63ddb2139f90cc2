package keyattest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

func TestVerify(t *testing.T) {
	now := time.Now()
	provider := attesttest.NewProvider(t, "Trusted")
	stranger := attesttest.NewProvider(t, "Stranger")
	trust := &wallettrust.Anchors{}
	if err := trust.Add("root.pem", provider.RootPEM()); err != nil {
		t.Fatal(err)
	}
	if err := trust.Add("keys.json", provider.JWKS()); err != nil {
		t.Fatal(err)
	}
	k1, k2 := attesttest.NewKey(t), attesttest.NewKey(t)
	base := attesttest.KeyAttestation{Keys: []*attesttest.Key{k1, k2}, KeyStorage: []string{ISO18045High},
		UserAuthentication: []string{ISO18045Moderate}, Nonce: "c-nonce"}
	att := func(change func(a *attesttest.KeyAttestation)) string {
		a := base
		if change != nil {
			change(&a)
		}
		return provider.KeyAttestationJWT(t, a)
	}
	private := k1.PublicMap()
	private["d"] = "AAAA"
	many := make([]*attesttest.Key, 11)
	for i := range many {
		many[i] = k1
	}
	required := &Requirements{KeyStorage: []string{ISO18045High, ISO18045Moderate}, UserAuthentication: []string{ISO18045Moderate}}
	cases := []struct {
		name     string
		token    string
		change   func(o *Options)
		contains string
	}{
		{name: "valid by x5c", token: att(nil)},
		{name: "valid by JWKS", token: att(func(a *attesttest.KeyAttestation) { a.With = attesttest.ByJWKS })},
		{name: "valid legacy typ", token: provider.SignJWT(t, attesttest.ByX5C, "keyattestation+jwt", nil, map[string]any{
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "attested_keys": []any{k1.PublicMap(), k2.PublicMap()},
			"key_storage": []string{ISO18045High}, "user_authentication": []string{ISO18045Moderate}, "nonce": "c-nonce"})},
		{name: "valid without exp when not required", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"exp": nil} })},
		{name: "valid with requirements met", token: att(nil), change: func(o *Options) { o.Required = required }},
		{name: "valid with empty requirements", token: att(nil), change: func(o *Options) { o.Required = &Requirements{} }},
		{name: "not a JWT", token: "x", contains: "compact"},
		{name: "typ wrong", token: provider.SignJWT(t, attesttest.ByX5C, "openid4vci-proof+jwt", nil, map[string]any{}), contains: "typ must be key-attestation+jwt"},
		{name: "alg not allowed", token: att(nil), change: func(o *Options) { o.Algs = []string{"EdDSA"} }, contains: "alg ES256 is not supported"},
		{name: "signature broken", token: attesttest.BreakSignature(att(nil)), contains: "signature does not verify"},
		{name: "untrusted provider", token: stranger.KeyAttestationJWT(t, base), contains: "trusted root"},
		{name: "iat missing", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"iat": nil} }), contains: "must carry iat"},
		{name: "iat in the future", token: att(func(a *attesttest.KeyAttestation) { a.IssuedAt = now.Add(time.Hour) }), contains: "future"},
		{name: "too old for a set MaxAge", token: att(func(a *attesttest.KeyAttestation) { a.IssuedAt = now.Add(-time.Hour) }), change: func(o *Options) { o.Time.MaxAge = time.Minute }, contains: "older"},
		{name: "exp missing when required", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"exp": nil} }), change: func(o *Options) { o.RequireExp = true }, contains: "must carry exp"},
		{name: "expired", token: att(func(a *attesttest.KeyAttestation) { a.Expires = now.Add(-time.Hour) }), contains: "has expired"},
		{name: "attested_keys missing", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"attested_keys": nil} }), contains: "attested_keys"},
		{name: "attested_keys empty", token: att(func(a *attesttest.KeyAttestation) { a.Keys = nil }), contains: "non-empty array"},
		{name: "attested_keys too many", token: att(func(a *attesttest.KeyAttestation) { a.Keys = many }), contains: "at most 10"},
		{name: "attested key private", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"attested_keys": []any{private}} }), contains: "private key material"},
		{name: "attested key not a key", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"attested_keys": []any{"x"}} }), contains: "public JWK"},
		{name: "key_storage empty", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"key_storage": []string{}} }), contains: "key_storage must be a non-empty array"},
		{name: "key_storage not an array", token: att(func(a *attesttest.KeyAttestation) { a.Extra = map[string]any{"key_storage": "high"} }), contains: "/key_storage"},
		{name: "key_storage below the requirement", token: att(func(a *attesttest.KeyAttestation) { a.KeyStorage = []string{ISO18045Basic} }), change: func(o *Options) { o.Required = required }, contains: "key_storage must assert one of"},
		{name: "key_storage absent but required", token: att(func(a *attesttest.KeyAttestation) { a.KeyStorage = nil }), change: func(o *Options) { o.Required = required }, contains: "key_storage must assert"},
		{name: "user_authentication below the requirement", token: att(func(a *attesttest.KeyAttestation) { a.UserAuthentication = []string{ISO18045Basic} }), change: func(o *Options) { o.Required = required }, contains: "user_authentication must assert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Trust: trust, Time: jwtverify.Window{Now: now}}
			if tc.change != nil {
				tc.change(&o)
			}
			a, err := Verify(tc.token, o)
			if tc.contains == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(a.Keys) != 2 || a.Nonce != "c-nonce" || !a.Attests(&jwtverify.PublicKey{Thumbprint: k2.Thumbprint()}) {
					t.Errorf("attestation %+v", a)
				}
				return
			}
			var ke *Error
			if !errors.As(err, &ke) || !strings.Contains(ke.Description, tc.contains) {
				t.Errorf("Verify = %v, want *Error containing %q", err, tc.contains)
			}
		})
	}
}

func TestVerifyDropsRepeatedKeys(t *testing.T) {
	provider := attesttest.NewProvider(t, "Trusted")
	trust := &wallettrust.Anchors{}
	if err := trust.Add("root.pem", provider.RootPEM()); err != nil {
		t.Fatal(err)
	}
	k := attesttest.NewKey(t)
	tok := provider.KeyAttestationJWT(t, attesttest.KeyAttestation{Keys: []*attesttest.Key{k, k}})
	a, err := Verify(tok, Options{Trust: trust, Time: jwtverify.Window{Now: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Keys) != 1 || a.Attests(&jwtverify.PublicKey{Thumbprint: attesttest.NewKey(t).Thumbprint()}) {
		t.Errorf("keys %d", len(a.Keys))
	}
}
