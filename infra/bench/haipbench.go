package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// haipFigures are the CPU costs of benchHAIP, in microseconds.
type haipFigures struct {
	dpopRequest, bearerRequest, tokenChecks float64
}

const benchIssuer = "https://issuer.bench.example"

// oneExchangeStore serves one exchange record to the credential endpoint's use case and accepts every write
// without keeping it, so that every request meets the same record: what is measured is the request's CPU (token
// and binding checks, DPoP proof, key proof, SD-JWT issuance with a local key and its self-verification), not
// DynamoDB. The rest of the port is never called.
type oneExchangeStore struct {
	wallet.Store
	rec exchange.Record
}

func (s *oneExchangeStore) GetExchange(context.Context, string) (exchange.Record, error) {
	return s.rec.Clone(), nil
}

func (s *oneExchangeStore) UpdateExchange(context.Context, exchange.Record, exchange.Expect, ...exchange.PointerOp) error {
	return nil
}

// haipBench is what the HAIP measurements share: the wallet use cases over oneExchangeStore with a local key, a
// trusted wallet provider, the access token and the wallet's keys.
type haipBench struct {
	svc                       *wallet.Service
	store                     *oneExchangeStore
	provider                  *attesttest.Provider
	token                     string
	dpopKey, holder, instance *attesttest.Key
	body                      []byte
}

func newHAIPBench(tb testing.TB) *haipBench {
	tb.Helper()
	signer, err := keys.NewLocal()
	if err != nil {
		tb.Fatal(err)
	}
	nonces, err := dpop.NewNonces(0, []byte("bench dpop nonce key of 32 bytes!"))
	if err != nil {
		tb.Fatal(err)
	}
	h := &haipBench{provider: attesttest.NewProvider(tb, "Bench Wallet Provider"), dpopKey: attesttest.NewKey(tb),
		holder: attesttest.NewKey(tb), instance: attesttest.NewKey(tb)}
	trust := &wallettrust.Anchors{}
	if err := trust.Add("root.pem", h.provider.RootPEM()); err != nil {
		tb.Fatal(err)
	}
	exID := "00000000-0000-4000-8000-00000000be0c"
	if h.token, err = exchange.NewExchangeSecret(rand.Reader, exID); err != nil {
		tb.Fatal(err)
	}
	def, err := referenceDefinition()
	if err != nil {
		tb.Fatal(err)
	}
	rec := exchange.Record{CredentialExchangeID: exID, IssuanceMode: exchange.ModeInTime, Status: exchange.StatusOfferReceived,
		ConfigurationID: def.ID, Definition: def, CredentialType: []string{def.VCT},
		AccessTokenHash: exchange.HashSecret(h.token), AccessTokenExpiresAt: time.Now().Add(time.Hour).Unix(),
		ExpiresAt: time.Now().Add(24 * time.Hour).Unix()}
	rec.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika",
		"family_name": "Mustermann", "address": map[string]any{"street_address": "Heidestrasse 17", "locality": "Koeln"}}}})
	h.store = &oneExchangeStore{rec: rec}
	if h.svc, err = wallet.New(wallet.Config{IssuerURL: benchIssuer}, wallet.Deps{Store: h.store, Signer: signer,
		Trust: trust, DPoPNonces: nonces}); err != nil {
		tb.Fatal(err)
	}
	// A stateless c_nonce: the write that would consume it keeps nothing, so it serves every iteration.
	cNonce, err := h.svc.NewNonce(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	proof := attesttest.Sign(tb, h.holder.Private, "ES256", map[string]any{"typ": "openid4vci-proof+jwt", "jwk": h.holder.PublicMap()},
		map[string]any{"aud": benchIssuer, "iat": time.Now().Unix(), "nonce": cNonce.Value})
	h.body = []byte(`{"credential_configuration_id":"` + def.ID + `","proofs":{"jwt":["` + proof + `"]}}`)
	return h
}

// credentialRequest runs the credential endpoint's work for one request: the DPoP proof and the token's binding
// (dpopProof "" for a bearer token), the request's parsing, the key proof, issuance and self-verification.
func (h *haipBench) credentialRequest(ctx context.Context, dpopProof string) error {
	access := wallet.Bearer(h.token)
	if dpopProof != "" {
		p, err := h.svc.CheckDPoP(ctx, dpopProof, "POST", benchIssuer+"/credential", h.token)
		if err != nil {
			return err
		}
		access = wallet.Access{Token: h.token, Scheme: oid4vci.TokenTypeDPoP, DPoPKey: p.Key.Thumbprint}
	}
	req, err := oid4vci.ParseCredentialRequest(h.body, "application/json", 10)
	if err != nil {
		return err
	}
	_, err = h.svc.RequestCredential(ctx, access, req)
	return err
}

// benchHAIP measures, in this process with a local P-256 signing key and no store: a credential request with a
// DPoP-bound access token (the DPoP proof with ath and server nonce, the binding, the key proof, issuance and
// self-verification), the same request with a bearer token, and the token endpoint's checks of a DPoP proof and
// an OAuth client attestation (an x5c chain of two certificates to a trusted root, and its PoP). Each iteration
// gets fresh proofs (made outside the timing), so the replay memory works as in production.
func benchHAIP() (haipFigures, error) {
	var out haipFigures
	ctx := context.Background()
	var failed error // what stopped a measurement (testing.Benchmark keeps no message)
	fail := func(b *testing.B, err error) {
		failed = err
		b.Fatal(err)
	}
	request := func(dpopOn bool) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) {
			h := newHAIPBench(b)
			if dpopOn {
				h.store.rec.AccessTokenJKT = h.dpopKey.Thumbprint()
			}
			b.ResetTimer()
			for b.Loop() {
				var proof string
				if dpopOn {
					b.StopTimer()
					proof = h.dpopKey.DPoPProof(b, attesttest.DPoP{Method: "POST", URL: benchIssuer + "/credential",
						AccessToken: h.token, Nonce: h.svc.DPoPNonce()})
					b.StartTimer()
				}
				if err := h.credentialRequest(ctx, proof); err != nil {
					fail(b, err)
				}
			}
		})
	}
	withDPoP, bearer := request(true), request(false)
	checks := testing.Benchmark(func(b *testing.B) {
		h := newHAIPBench(b)
		attestation := h.provider.ClientAttestationJWT(b, attesttest.ClientAttestation{Sub: "bench-wallet", Instance: h.instance})
		b.ResetTimer()
		for b.Loop() {
			b.StopTimer()
			cred := wallet.ClientCredentials{Attestation: attestation,
				AttestationPoP: attesttest.PoPJWT(b, h.instance, attesttest.PoP{Audience: benchIssuer}),
				DPoP:           h.dpopKey.DPoPProof(b, attesttest.DPoP{Method: "POST", URL: benchIssuer + "/token", Nonce: h.svc.DPoPNonce()})}
			b.StartTimer()
			c, err := h.svc.AuthenticateClient(ctx, cred, benchIssuer+"/token")
			if err == nil && c.Attestation == nil {
				err = errors.New(c.AttestationFailure.Description)
			}
			if err != nil {
				fail(b, err)
			}
		}
	})
	if withDPoP.N == 0 || bearer.N == 0 || checks.N == 0 {
		return out, fmt.Errorf("bench haip: a measurement failed: %v", failed)
	}
	out.dpopRequest = float64(withDPoP.NsPerOp()) / 1000
	out.bearerRequest = float64(bearer.NsPerOp()) / 1000
	out.tokenChecks = float64(checks.NsPerOp()) / 1000
	return out, nil
}

// referenceDefinition is a definition shaped like the reference credential (12 selectively disclosable claims).
func referenceDefinition() (definition.Definition, error) {
	claims := []definition.Claim{{Path: []any{"given_name"}, LimitDisclosure: true}, {Path: []any{"family_name"}, LimitDisclosure: true},
		{Path: []any{"address"}, LimitDisclosure: true}, {Path: []any{"address", "street_address"}, LimitDisclosure: true},
		{Path: []any{"address", "locality"}, LimitDisclosure: true}}
	d := definition.Definition{ID: "bench-pid", Spec: definition.Spec{Label: "Bench PID", CredentialFormat: definition.FormatSDJWT,
		VCT: "urn:bench:pid", ExpirationInDays: 365, Claims: claims}}
	if err := d.Spec.Normalize(); err != nil {
		return d, fmt.Errorf("bench haip: definition: %w", err)
	}
	return d, nil
}
