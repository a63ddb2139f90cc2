package issuance_test

import (
	"context"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/issuance"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// TestStaleNoncesWasteBoundedSignatures: the credential write is a c_nonce's only check on the cheap path, so a
// request with a stale nonce is refused after signing. A holder of an access token looping stale nonces must not
// be able to spend the account's KMS signing quota: after a few such failures the nonces are read before signing.
// A wallet with a fresh nonce still gets its credential.
func TestStaleNoncesWasteBoundedSignatures(t *testing.T) {
	f := newWalletFixture(t, issuance.WalletConfig{})
	signer, err := newCountingSigner()
	if err != nil {
		t.Fatal(err)
	}
	signs := &signer.signs
	svc, err := issuance.NewWalletService(issuance.WalletConfig{IssuerURL: walletIssuer}, f.store, signer,
		issuance.WithWalletClock(f.clock.now), issuance.WithWalletEvents(f.events))
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	offerID, rec := f.offer(issuance.ModeInTime, "", erika())
	tok := f.mustToken(offerID, "")
	h := newHolder(t)
	for i := 0; i < 10; i++ {
		_, err := svc.RequestCredential(context.Background(), tok.AccessToken,
			credentialRequest(t, f.def.ID, h.proof(t, "stale-nonce", "", f.clock.now())))
		if code := oauthCode(err); code != oid4vci.ErrInvalidNonce {
			t.Fatalf("request %d: %v, want invalid_nonce", i, err)
		}
	}
	if got := signs.Load(); got > 3 {
		t.Errorf("10 requests with stale nonces made %d signatures; at most 3 may be wasted", got)
	}
	if got := f.store.record(rec.CredentialExchangeID); got.Status != issuance.StatusOfferReceived || got.CredentialToken != "" {
		t.Fatalf("stale-nonce requests changed the exchange: %s %q", got.Status, got.CredentialToken)
	}
	before := signs.Load()
	ans, err := svc.RequestCredential(context.Background(), tok.AccessToken,
		credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.now())))
	if err != nil {
		t.Fatalf("fresh nonce after the stale ones: %v", err)
	}
	if len(ans.Issuance.Credentials) != 1 || signs.Load()-before != 1 {
		t.Fatalf("credentials %d, signatures %d; want 1 and exactly 1 signature", len(ans.Issuance.Credentials), signs.Load()-before)
	}
	f.signer = signer.LocalSigner
	f.verifyBound(ans.Issuance.Credentials[0], h)
}
