package clientattest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

const issuer = "https://issuer.example"

func TestVerify(t *testing.T) {
	now := time.Now()
	provider := attesttest.NewProvider(t, "Trusted")
	stranger := attesttest.NewProvider(t, "Stranger")
	expired := attesttest.NewProviderValid(t, "Expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	trust := &wallettrust.Anchors{}
	for _, p := range []*attesttest.Provider{provider, expired} {
		if err := trust.Add(p.Name+".pem", p.RootPEM()); err != nil {
			t.Fatal(err)
		}
		if err := trust.Add(p.Name+".json", p.JWKS()); err != nil {
			t.Fatal(err)
		}
	}
	instance, other := attesttest.NewKey(t), attesttest.NewKey(t)
	base := attesttest.ClientAttestation{Sub: "wallet-client", Instance: instance}
	att := func(p *attesttest.Provider, change func(a *attesttest.ClientAttestation)) string {
		a := base
		if change != nil {
			change(&a)
		}
		return p.ClientAttestationJWT(t, a)
	}
	pop := func(k *attesttest.Key, change func(p *attesttest.PoP)) string {
		p := attesttest.PoP{Audience: issuer, ClientID: "wallet-client"}
		if change != nil {
			change(&p)
		}
		return attesttest.PoPJWT(t, k, p)
	}
	privateCnf := instance.PublicMap()
	privateCnf["d"] = "AAAA"
	cases := []struct {
		name        string
		attestation string
		pop         string
		change      func(o *Options)
		kind        Kind
		contains    string
	}{
		{name: "valid by x5c", attestation: att(provider, nil), pop: pop(instance, nil)},
		{name: "valid by JWKS kid", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.With = attesttest.ByJWKS }), pop: pop(instance, nil)},
		{name: "valid PoP without iss (draft 08)", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.ClientID = "" })},
		{name: "valid PoP with aud array", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.Extra = map[string]any{"aud": []string{"x", issuer}} })},
		{name: "valid with matching client_id", attestation: att(provider, nil), pop: pop(instance, nil), change: func(o *Options) { o.ClientID = "wallet-client" }},
		{name: "both missing", kind: Missing, contains: "client authentication is required"},
		{name: "attestation missing", pop: pop(instance, nil), kind: Missing, contains: "OAuth-Client-Attestation header is missing"},
		{name: "PoP missing", attestation: att(provider, nil), kind: Missing, contains: "PoP header is missing"},
		{name: "two attestations", attestation: att(provider, nil) + ", " + att(provider, nil), pop: pop(instance, nil), kind: Malformed, contains: "sent once"},
		{name: "attestation not a JWT", attestation: "not-a-jwt", pop: pop(instance, nil), kind: Malformed, contains: "compact"},
		{name: "attestation typ wrong", attestation: provider.SignJWT(t, attesttest.ByX5C, "JWT", nil, map[string]any{"sub": "x"}), pop: pop(instance, nil), kind: Malformed, contains: "typ must be oauth-client-attestation+jwt"},
		{name: "attestation signature broken", attestation: attesttest.BreakSignature(att(provider, nil)), pop: pop(instance, nil), kind: Untrusted, contains: "signature does not verify"},
		{name: "attestation JWKS signature broken", attestation: attesttest.BreakSignature(att(provider, func(a *attesttest.ClientAttestation) { a.With = attesttest.ByJWKS })), pop: pop(instance, nil), kind: Untrusted, contains: "signature does not verify"},
		{name: "untrusted provider", attestation: att(stranger, nil), pop: pop(instance, nil), kind: Untrusted, contains: "does not lead to a trusted root"},
		{name: "untrusted JWKS key", attestation: att(stranger, func(a *attesttest.ClientAttestation) { a.With = attesttest.ByJWKS }), pop: pop(instance, nil), kind: Untrusted, contains: "no trusted key has its kid"},
		{name: "JWKS key for another issuer", attestation: att(provider, func(a *attesttest.ClientAttestation) {
			a.With = attesttest.ByJWKS
			a.Extra = map[string]any{"iss": "https://someone-else.example"}
		}), pop: pop(instance, nil), kind: Untrusted, contains: "iss is not the issuer"},
		{name: "expired provider certificate", attestation: att(expired, nil), pop: pop(instance, nil), kind: Untrusted, contains: "expired"},
		{name: "nobody trusted", attestation: att(provider, nil), pop: pop(instance, nil), change: func(o *Options) { o.Trust = &wallettrust.Anchors{} }, kind: Untrusted, contains: "trusts no wallet provider"},
		{name: "no sub", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Extra = map[string]any{"sub": nil} }), pop: pop(instance, nil), kind: Malformed, contains: "sub"},
		{name: "exp missing", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Extra = map[string]any{"exp": nil} }), pop: pop(instance, nil), kind: Expired, contains: "must carry exp"},
		{name: "exp in the past", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Expires = now.Add(-time.Hour) }), pop: pop(instance, nil), kind: Expired, contains: "has expired"},
		{name: "nbf in the future", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Extra = map[string]any{"nbf": now.Add(time.Hour).Unix()} }), pop: pop(instance, nil), kind: Expired, contains: "not valid yet"},
		// A lifetime past MaxLifetime (DefaultMaxLifetime, 30 days) is refused: the draft lets the server refuse an exp
		// "unreasonably far in the future", and an attestation valid for 100 years outlives any revocation of its
		// wallet instance by the provider (docs/security.md 14i).
		{name: "valid for 100 years", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Expires = now.AddDate(100, 0, 0) }), pop: pop(instance, nil), kind: Lifetime, contains: "at most 720 hours"},
		{name: "valid for 31 days", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Expires = now.Add(31 * 24 * time.Hour) }), pop: pop(instance, nil), kind: Lifetime, contains: "744 hours"},
		{name: "valid for 30 days", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Expires = now.Add(30 * 24 * time.Hour) }), pop: pop(instance, nil)},
		{name: "iat a year ago, exp tomorrow", attestation: att(provider, func(a *attesttest.ClientAttestation) {
			a.IssuedAt, a.Expires = now.AddDate(-1, 0, 0), now.Add(24*time.Hour)
		}), pop: pop(instance, nil), kind: Lifetime, contains: "from iat to exp"},
		{name: "no iat, exp in 100 years", attestation: att(provider, func(a *attesttest.ClientAttestation) {
			a.Expires, a.Extra = now.AddDate(100, 0, 0), map[string]any{"iat": nil}
		}), pop: pop(instance, nil), kind: Lifetime, contains: "at most"},
		{name: "a day under a 12-hour maximum", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Expires = now.Add(24 * time.Hour) }), pop: pop(instance, nil),
			change: func(o *Options) { o.MaxLifetime = 12 * time.Hour }, kind: Lifetime, contains: "at most 12 hours"},
		{name: "iat in the future", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.IssuedAt = now.Add(time.Hour) }), pop: pop(instance, nil), kind: Malformed, contains: "future"},
		{name: "cnf missing", attestation: att(provider, func(a *attesttest.ClientAttestation) { a.Extra = map[string]any{"cnf": nil} }), pop: pop(instance, nil), kind: Malformed, contains: "cnf.jwk"},
		{name: "cnf private key", attestation: att(provider, func(a *attesttest.ClientAttestation) {
			a.Extra = map[string]any{"cnf": map[string]any{"jwk": privateCnf}}
		}), pop: pop(instance, nil), kind: Malformed, contains: "private key material"},
		{name: "PoP typ wrong", attestation: att(provider, nil), pop: attesttest.Sign(t, instance.Private, "", map[string]any{"typ": "JWT"}, map[string]any{"aud": issuer}), kind: Malformed, contains: "typ must be oauth-client-attestation-pop+jwt"},
		{name: "PoP key mismatch", attestation: att(provider, nil), pop: pop(other, nil), kind: KeyMismatch, contains: "cnf.jwk"},
		{name: "PoP signature broken", attestation: att(provider, nil), pop: attesttest.BreakSignature(pop(instance, nil)), kind: KeyMismatch, contains: "does not verify"},
		{name: "PoP wrong aud", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.Audience = "https://other.example" }), kind: Audience, contains: "aud must be"},
		{name: "PoP aud missing", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.Extra = map[string]any{"aud": nil} }), kind: Audience, contains: "aud must be"},
		{name: "PoP jti missing", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.Extra = map[string]any{"jti": nil} }), kind: Malformed, contains: "jti"},
		{name: "PoP iat missing", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.Extra = map[string]any{"iat": nil} }), kind: Stale, contains: "iat"},
		{name: "PoP too old", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.IssuedAt = now.Add(-time.Hour) }), kind: Stale, contains: "older"},
		{name: "PoP expired", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.Extra = map[string]any{"exp": now.Add(-time.Hour).Unix()} }), kind: Stale, contains: "expired"},
		{name: "PoP iss is not sub", attestation: att(provider, nil), pop: pop(instance, func(p *attesttest.PoP) { p.ClientID = "someone-else" }), kind: ClientID, contains: "iss must be"},
		{name: "client_id is not sub", attestation: att(provider, nil), pop: pop(instance, nil), change: func(o *Options) { o.ClientID = "someone-else" }, kind: ClientID, contains: "client_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Trust: trust, Audience: issuer, Time: jwtverify.Window{Now: now}, Replay: jwtverify.NewMemoryReplayCache(0)}
			if tc.change != nil {
				tc.change(&o)
			}
			res, err := Verify(context.Background(), tc.attestation, tc.pop, o)
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.ClientID != "wallet-client" || res.InstanceKey.Thumbprint != instance.Thumbprint() || res.Provider == nil {
					t.Errorf("result %+v", res)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *Error %s", err, tc.kind)
			}
			if ce.Kind != tc.kind || !strings.Contains(ce.Description, tc.contains) {
				t.Errorf("got %s %q, want %s containing %q", ce.Kind, ce.Description, tc.kind, tc.contains)
			}
		})
	}
}

func TestVerifyRefusesReplayedPoP(t *testing.T) {
	now := time.Now()
	provider := attesttest.NewProvider(t, "Trusted")
	trust := &wallettrust.Anchors{}
	if err := trust.Add("root.pem", provider.RootPEM()); err != nil {
		t.Fatal(err)
	}
	instance := attesttest.NewKey(t)
	a := provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "c", Instance: instance})
	p := attesttest.PoPJWT(t, instance, attesttest.PoP{Audience: issuer})
	o := Options{Trust: trust, Audience: issuer, Time: jwtverify.Window{Now: now}, Replay: jwtverify.NewMemoryReplayCache(0)}
	if _, err := Verify(context.Background(), a, p, o); err != nil {
		t.Fatalf("first: %v", err)
	}
	var ce *Error
	if _, err := Verify(context.Background(), a, p, o); !errors.As(err, &ce) || ce.Kind != Replayed {
		t.Fatalf("replay: %v, want %s", err, Replayed)
	}
	// The attestation itself may be reused with a fresh PoP (draft section "Reuse of a Client Attestation JWT").
	p2 := attesttest.PoPJWT(t, instance, attesttest.PoP{Audience: issuer})
	if _, err := Verify(context.Background(), a, p2, o); err != nil {
		t.Fatalf("fresh PoP: %v", err)
	}
}

func TestDecoded(t *testing.T) {
	provider := attesttest.NewProvider(t, "Trusted")
	a := provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "c", Instance: attesttest.NewKey(t)})
	d := Decoded(a)
	payload, _ := d["payload"].(map[string]any)
	header, _ := d["header"].(map[string]any)
	if payload["sub"] != "c" || header["typ"] != AttestationType {
		t.Errorf("Decoded = %v", d)
	}
	if Decoded("junk") != nil {
		t.Error("junk decoded")
	}
}
