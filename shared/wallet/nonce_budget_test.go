package wallet_test

import (
	"context"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestStaleNoncesWasteBoundedSignatures: the credential write is a c_nonce's only check on the cheap path, so a
// request with a stale nonce is refused after signing. A holder of an access token looping stale nonces must not
// be able to spend the account's KMS signing quota: after a few such failures the nonces are read before signing.
// A wallet with a fresh nonce still gets its credential.
func TestStaleNoncesWasteBoundedSignatures(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	signer, err := domaintest.NewCountingSigner()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := wallet.New(wallet.Config{IssuerURL: walletIssuer}, wallet.Deps{Store: f.store, Signer: signer},
		exchange.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	offerID, rec := f.offer(exchange.ModeInTime, "", erika())
	tok := f.mustToken(offerID, "")
	h := newHolder(t)
	for i := 0; i < 10; i++ {
		_, err := svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
			credentialRequest(t, f.def.ID, h.proof(t, "stale-nonce", "", f.clock.Now())))
		if code := oauthCode(err); code != oid4vci.ErrInvalidNonce {
			t.Fatalf("request %d: %v, want invalid_nonce", i, err)
		}
	}
	if got := signer.Signs(); got > 3 {
		t.Errorf("10 requests with stale nonces made %d signatures; at most 3 may be wasted", got)
	}
	if got := f.store.record(rec.CredentialExchangeID); got.Status != exchange.StatusOfferReceived || got.CredentialToken != "" {
		t.Fatalf("stale-nonce requests changed the exchange: %s %q", got.Status, got.CredentialToken)
	}
	before := signer.Signs()
	ans, err := svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
		credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.Now())))
	if err != nil {
		t.Fatalf("fresh nonce after the stale ones: %v", err)
	}
	if len(ans.Issuance.Credentials) != 1 || signer.Signs()-before != 1 {
		t.Fatalf("credentials %d, signatures %d; want 1 and exactly 1 signature", len(ans.Issuance.Credentials), signer.Signs()-before)
	}
	f.signer = signer.LocalSigner
	f.verifyBound(ans.Issuance.Credentials[0], h)
}
