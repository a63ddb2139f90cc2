package main

import (
	"context"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestHAIPBenchSetup runs one iteration of each HAIP measurement, so that a change of the wallet use cases that
// breaks the bench's setup (a measurement then runs no iteration) fails go test rather than make bench.
func TestHAIPBenchSetup(t *testing.T) {
	ctx := context.Background()
	h := newHAIPBench(t)
	if err := h.credentialRequest(ctx, ""); err != nil {
		t.Fatalf("bearer request: %v", err)
	}
	h.store.rec.AccessTokenJKT = h.dpopKey.Thumbprint()
	proof := h.dpopKey.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: benchIssuer + "/credential",
		AccessToken: h.token, Nonce: h.svc.DPoPNonce()})
	if err := h.credentialRequest(ctx, proof); err != nil {
		t.Fatalf("DPoP-bound request: %v", err)
	}
	cred := wallet.ClientCredentials{
		Attestation:    h.provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "bench-wallet", Instance: h.instance}),
		AttestationPoP: attesttest.PoPJWT(t, h.instance, attesttest.PoP{Audience: benchIssuer}),
		DPoP:           h.dpopKey.DPoPProof(t, attesttest.DPoP{Method: "POST", URL: benchIssuer + "/token", Nonce: h.svc.DPoPNonce()})}
	c, err := h.svc.AuthenticateClient(ctx, cred, benchIssuer+"/token")
	if err != nil || c.Attestation == nil {
		t.Fatalf("token checks: %v %+v", err, c)
	}
}
