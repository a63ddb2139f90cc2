package wallet_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/wallettest"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestAttestationIgnoredWhenNoProviderIsTrusted: an issuer that trusts no wallet provider does not announce
// attest_jwt_client_auth, and a wallet that sends its client attestation anyway (the EUDI wallet library sends it
// on every token request of an attested client, whatever the metadata says) is served as if it had sent none: its
// token is issued, the exchange is not denied, and nothing of the attestation is recorded as if it had been
// checked. A definition that requires an attestation refuses the request without denying the exchange, saying
// that the issuer trusts no provider, at the token endpoint and at PAR (docs/security.md, "Attestation to an issuer
// that trusts no provider").
func TestAttestationIgnoredWhenNoProviderIsTrusted(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{}) // no wallet provider trusted
	provider := attesttest.NewProvider(t, "Some wallet provider")
	instance := attesttest.NewKey(t)
	cred := wallet.ClientCredentials{
		Attestation:    provider.ClientAttestationJWT(t, attesttest.ClientAttestation{Sub: "eudi-wallet", Instance: instance}),
		AttestationPoP: attesttest.PoPJWT(t, instance, attesttest.PoP{Audience: walletIssuer}),
	}
	ctx := context.Background()
	client, err := f.svc.AuthenticateClient(ctx, cred, walletIssuer+"/token")
	if err != nil {
		t.Fatal(err)
	}
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	req, err := wallettest.TokenRequest(offerID, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.svc.RedeemPreAuthorizedCode(ctx, req, client)
	if err != nil {
		t.Fatalf("token request with an attestation nobody is configured to check: %v", err)
	}
	if resp.TokenType != oid4vci.TokenTypeBearer {
		t.Errorf("token type %s", resp.TokenType)
	}
	got := f.store.record(rec.CredentialExchangeID)
	if got.Status != exchange.StatusOfferReceived || got.IssuanceDeniedReason != "" {
		t.Errorf("status %s, denied %q", got.Status, got.IssuanceDeniedReason)
	}
	if got.WalletUnitAttestation != "" || got.ClientAssertion != "" || got.ClientAssertionType != "" || got.DecodedWalletUnitAttestation != nil {
		t.Errorf("an unchecked attestation was recorded: %q %q %q", got.WalletUnitAttestation, got.ClientAssertionType, got.ClientAssertion)
	}

	// A definition that requires an attestation cannot be met by this issuer: refused, the exchange as it was.
	f.def.RequireClientAttestation = true // the offer snapshots the definition
	offerID, rec = f.offer(exchange.ModeInTime, "", erika())
	if req, err = wallettest.TokenRequest(offerID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.RedeemPreAuthorizedCode(ctx, req, client)
	if oauthCode(err) != oid4vci.ErrInvalidClient || !strings.Contains(err.Error(), "trusts no wallet provider") {
		t.Errorf("required attestation, nobody trusted: %v", err)
	}
	if got := f.store.record(rec.CredentialExchangeID); got.Status != exchange.StatusOfferSent || got.IssuanceDeniedReason != "" {
		t.Errorf("status %s, denied %q", got.Status, got.IssuanceDeniedReason)
	}
	// The authorization code grant's PAR says the same, not "send the headers" (which would be ignored again).
	if _, err := f.authzWallet().push("issuer_state", exchange.IssuerState(offerID)); oauthCode(err) != oid4vci.ErrInvalidClient ||
		!strings.Contains(err.Error(), "trusts no wallet provider") {
		t.Errorf("PAR, required attestation, nobody trusted: %v", err)
	}
}
