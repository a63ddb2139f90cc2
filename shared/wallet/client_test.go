package wallet

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/clientattest"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

const clientTestIssuer = "https://issuer.example"

// noStore is a Store for use cases that must not touch it.
type noStore struct{ Store }

func newClientTestService(t *testing.T, cfg Config, trust *wallettrust.Anchors) *Service {
	t.Helper()
	return newClientTestServiceWith(t, cfg, func(d *Deps) { d.Trust = trust })
}

// newClientTestServiceWith is a service over no store with a local key and DPoP nonces, its Deps changed by deps.
func newClientTestServiceWith(t *testing.T, cfg Config, deps func(*Deps)) *Service {
	t.Helper()
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	nonces, err := dpop.NewNonces(0, []byte("client test nonce key, 32 bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.IssuerURL = clientTestIssuer
	d := Deps{Store: noStore{}, Signer: signer, DPoPNonces: nonces}
	deps(&d)
	svc, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestAdmitClient is the policy matrix of the token endpoint: what a definition requires against what the client
// showed. A failed attestation always denies; a missing requirement refuses without a reason to record.
func TestAdmitClient(t *testing.T) {
	yes, no := true, false
	proof := &dpop.Proof{Key: &jwtverify.PublicKey{Thumbprint: "jkt"}}
	verified := &clientattest.Result{ClientID: "c"}
	failed := &clientattest.Error{Kind: clientattest.Expired, Description: "the client attestation has expired (exp)"}
	cases := []struct {
		name       string
		spec       definition.Spec
		deployment bool
		client     Client
		deny, code string
	}{
		{name: "nothing required, nothing shown", client: Client{}},
		{name: "nothing required, everything shown", client: Client{DPoP: proof, Attestation: verified}},
		{name: "failed attestation denies even when not required", client: Client{AttestationFailure: failed},
			deny: "failed verification: the client attestation has expired", code: oid4vci.ErrInvalidClient},
		{name: "required attestation missing", spec: definition.Spec{RequireClientAttestation: true}, client: Client{DPoP: proof},
			code: oid4vci.ErrInvalidClient},
		{name: "required attestation shown", spec: definition.Spec{RequireClientAttestation: true}, client: Client{Attestation: verified}},
		{name: "required DPoP missing", spec: definition.Spec{RequireDPoP: &yes}, client: Client{Attestation: verified},
			code: dpop.ErrInvalidProof},
		{name: "deployment requires DPoP", deployment: true, client: Client{}, code: dpop.ErrInvalidProof},
		{name: "definition lifts the deployment's DPoP", spec: definition.Spec{RequireDPoP: &no}, deployment: true, client: Client{}},
		{name: "required DPoP shown", spec: definition.Spec{RequireDPoP: &yes}, client: Client{DPoP: proof}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newClientTestService(t, Config{RequireDPoP: tc.deployment}, nil)
			rec := &exchange.Record{Definition: definition.Definition{Spec: tc.spec}}
			deny, err := svc.admitClient(rec, &tc.client)
			if !strings.Contains(deny, tc.deny) || (tc.deny == "") != (deny == "") {
				t.Errorf("deny %q, want %q", deny, tc.deny)
			}
			if got := errorCode(err); got != tc.code {
				t.Errorf("error %v (code %q), want %q", err, got, tc.code)
			}
		})
	}
}

func errorCode(err error) string {
	var oe *oid4vci.Error
	var de *dpop.Error
	switch {
	case errors.As(err, &oe):
		return oe.Code
	case errors.As(err, &de):
		return de.Code
	}
	return ""
}

// TestCheckBinding: a DPoP-bound token only with the DPoP scheme and a proof by its key, a bearer token only as
// Bearer.
func TestCheckBinding(t *testing.T) {
	cases := []struct {
		name, jkt string
		access    Access
		code      string
	}{
		{"bearer token as Bearer", "", Bearer("t"), ""},
		{"bearer token as DPoP", "", Access{Token: "t", Scheme: oid4vci.TokenTypeDPoP, DPoPKey: "k"}, oid4vci.ErrInvalidToken},
		{"bound token with its key", "k", Access{Token: "t", Scheme: oid4vci.TokenTypeDPoP, DPoPKey: "k"}, ""},
		{"bound token as Bearer", "k", Bearer("t"), oid4vci.ErrInvalidToken},
		{"bound token with another key", "k", Access{Token: "t", Scheme: oid4vci.TokenTypeDPoP, DPoPKey: "other"}, dpop.ErrInvalidProof},
	}
	for _, tc := range cases {
		err := checkBinding(&exchange.Record{AccessTokenJKT: tc.jkt}, tc.access)
		if got := errorCode(err); got != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
}

// TestAuthenticateClientChecksDPoPBeforeRememberingThePoP: a token request refused for its DPoP nonce leaves the
// attestation PoP unremembered, so the retry with the nonce may carry the same PoP (wallets re-send the request as
// it was); a second success with that PoP is a replay.
func TestAuthenticateClientChecksDPoPBeforeRememberingThePoP(t *testing.T) {
	provider := attesttest.NewProvider(t, "Provider")
	trust := &wallettrust.Anchors{}
	if err := trust.Add("root.pem", provider.RootPEM()); err != nil {
		t.Fatal(err)
	}
	svc := newClientTestService(t, Config{}, trust)
	instance, dpopKey := attesttest.NewKey(t), attesttest.NewKey(t)
	cred := ClientCredentials{
		Attestation:    provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "c", Instance: instance}),
		AttestationPoP: attesttest.PoPJWT(t, instance, attesttest.PoP{Audience: clientTestIssuer}),
		DPoP:           dpopKey.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: clientTestIssuer + "/token"}),
	}
	ctx := context.Background()
	var de *dpop.Error
	if _, err := svc.AuthenticateClient(ctx, cred, clientTestIssuer+"/token"); !errors.As(err, &de) || de.Code != dpop.ErrUseNonce {
		t.Fatalf("without a nonce: %v, want use_dpop_nonce", err)
	}
	cred.DPoP = dpopKey.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: clientTestIssuer + "/token", Nonce: svc.DPoPNonce()})
	c, err := svc.AuthenticateClient(ctx, cred, clientTestIssuer+"/token")
	if err != nil || c.Attestation == nil || c.DPoP == nil || c.DPoP.Key.Thumbprint != dpopKey.Thumbprint() {
		t.Fatalf("retry with the nonce: %+v %v", c, err)
	}
	cred.DPoP = dpopKey.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: clientTestIssuer + "/token", Nonce: svc.DPoPNonce()})
	c, err = svc.AuthenticateClient(ctx, cred, clientTestIssuer+"/token")
	if err != nil || c.AttestationFailure == nil || c.AttestationFailure.Kind != clientattest.Replayed {
		t.Fatalf("the same PoP again: %+v %v, want a replayed attestation", c, err)
	}
}

// TestReplayMemoryFloodDoesNotLockOutWallets: anyone can make DPoP proofs that verify (a key of their own, the
// nonce every DPoP-Nonce header hands out) and send them to the token endpoint with a made-up code; each is
// remembered before the code is looked at. A container whose replay memory is full must go on serving wallets
// (forgetting its oldest proofs, which a replay to another container would get past anyway), not refuse every
// DPoP request until the flood's proofs age out (docs/security.md, "Replay memory flood").
func TestReplayMemoryFloodDoesNotLockOutWallets(t *testing.T) {
	const size = 8
	svc := newClientTestServiceWith(t, Config{}, func(d *Deps) { d.Replay = jwtverify.NewMemoryReplayCache(size) })
	ctx := context.Background()
	tokenURL := clientTestIssuer + "/token"
	attacker := attesttest.NewKey(t)
	for i := range size * 3 {
		proof := attacker.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: tokenURL, Nonce: svc.DPoPNonce()})
		if _, err := svc.AuthenticateClient(ctx, ClientCredentials{DPoP: proof}, tokenURL); err != nil {
			t.Fatalf("flood proof %d: %v", i, err)
		}
	}
	wallet := attesttest.NewKey(t)
	proof := wallet.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: tokenURL, Nonce: svc.DPoPNonce()})
	c, err := svc.AuthenticateClient(ctx, ClientCredentials{DPoP: proof}, tokenURL)
	if err != nil || c.DPoP == nil {
		t.Fatalf("a wallet after the flood: %+v %v", c, err)
	}
	// The memory still does its job for what it holds: the wallet's own proof, sent again, is a replay.
	var de *dpop.Error
	if _, err := svc.AuthenticateClient(ctx, ClientCredentials{DPoP: proof}, tokenURL); !errors.As(err, &de) || de.Code != dpop.ErrInvalidProof {
		t.Fatalf("the wallet's proof again: %v, want invalid_dpop_proof", err)
	}
}

// TestClientAttestationLifetimeIsBounded: the token endpoint (and PAR) refuse a client attestation valid for longer
// than CLIENT_ATTESTATION_MAX_LIFETIME_HOURS (Config.ClientAttestationMaxLifetime; default 30 days) as a failed
// attestation saying why; one within the bound verifies (docs/security.md 14i).
func TestClientAttestationLifetimeIsBounded(t *testing.T) {
	provider := attesttest.NewProvider(t, "Provider")
	trust := &wallettrust.Anchors{}
	if err := trust.Add("provider.pem", provider.RootPEM()); err != nil {
		t.Fatal(err)
	}
	instance := attesttest.NewKey(t)
	now := time.Now()
	for _, tc := range []struct {
		max      time.Duration
		lifetime time.Duration
		refused  bool
	}{
		{lifetime: 100 * 365 * 24 * time.Hour, refused: true},
		{lifetime: 29 * 24 * time.Hour},
		{max: 24 * time.Hour, lifetime: 48 * time.Hour, refused: true},
		{max: 24 * time.Hour, lifetime: time.Hour},
	} {
		svc := newClientTestService(t, Config{ClientAttestationMaxLifetime: tc.max}, trust)
		cred := ClientCredentials{
			Attestation: provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "c", Instance: instance,
				IssuedAt: now, Expires: now.Add(tc.lifetime)}),
			AttestationPoP: attesttest.PoPJWT(t, instance, attesttest.PoP{Audience: clientTestIssuer}),
		}
		c, err := svc.AuthenticateClient(context.Background(), cred, clientTestIssuer+"/token")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.AttestationFailure != nil; got != tc.refused {
			t.Errorf("max %v, lifetime %v: refused %v (%v), want %v", tc.max, tc.lifetime, got, c.AttestationFailure, tc.refused)
		}
		if tc.refused && c.AttestationFailure != nil && (c.AttestationFailure.Kind != clientattest.Lifetime || !strings.Contains(c.AttestationFailure.Description, "at most")) {
			t.Errorf("failure %+v", c.AttestationFailure)
		}
	}
}
