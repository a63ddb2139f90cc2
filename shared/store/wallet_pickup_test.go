package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/wallettest"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// deferredPickedUp stores a Deferred exchange without claims, redeems it, asks for its credential (202), completes
// it and picks it up once; it returns the access token, the transaction id and the picked-up credentials.
func (f *walletStoreFixture) deferredPickedUp(t *testing.T) (rec exchange.Record, token, txn string, creds []string) {
	t.Helper()
	ctx := context.Background()
	offerID, rec := f.offer(t, "")
	deferred := rec.Clone()
	deferred.IssuanceMode = exchange.ModeDeferred
	deferred.SetCredentials(nil)
	if err := f.st.UpdateExchange(ctx, deferred, exchange.Expect{Version: rec.Version, Status: rec.Status}); err != nil {
		t.Fatal(err)
	}
	tok, err := f.token(offerID, "")
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.NewNonce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, err := oid4vci.ParseCredentialRequest([]byte(`{"credential_configuration_id":"def-1","proofs":{"jwt":["`+
		storeProof(t, n.Value, f.clock.now())+`"]}}`), "application/json", 10)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := f.svc.RequestCredential(ctx, wallet.Bearer(tok.AccessToken), req)
	if err != nil || ans.Issuance.TransactionID == "" {
		t.Fatalf("deferral: %+v %v", ans, err)
	}
	cur, err := f.st.GetExchange(ctx, rec.CredentialExchangeID)
	if err != nil {
		t.Fatal(err)
	}
	ready := cur.Clone()
	ready.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika"}}})
	if err := f.st.UpdateExchange(ctx, ready, exchange.Expect{Version: cur.Version, Status: cur.Status}); err != nil {
		t.Fatal(err)
	}
	done, err := f.svc.RequestDeferredCredential(ctx, wallet.Bearer(tok.AccessToken), &oid4vci.DeferredCredentialRequest{TransactionID: ans.Issuance.TransactionID})
	if err != nil || len(done.Issuance.Credentials) != 1 {
		t.Fatalf("pick-up: %+v %v", done, err)
	}
	if rec, err = f.st.GetExchange(ctx, rec.CredentialExchangeID); err != nil || rec.Status != exchange.StatusCredentialAcked {
		t.Fatalf("record after the pick-up: %s %v", rec.Status, err)
	}
	return rec, tok.AccessToken, ans.Issuance.TransactionID, done.Issuance.Credentials
}

// TestDeferredPickupPointer runs the deferred pick-up against DynamoDB Local: its transaction consumes the TXN
// pointer and writes the PICKUP pointer (the answer's dialect, shape and format, no holder keys, living as long as
// the access token, listed among the record's pointers), which answers a retry with the recorded credentials until
// the token expires and goes with the exchange.
func TestDeferredPickupPointer(t *testing.T) {
	f := newWalletStoreFixture(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		after func(t *testing.T, rec exchange.Record)
		// wantCode is the retry's OAuth error; "" the recorded credentials.
		wantCode string
		// wantPointer says whether the PICKUP pointer is still read.
		wantPointer bool
	}{
		{name: "retry with the same token and transaction id", wantPointer: true},
		{name: "retry after the access token expired", wantCode: oid4vci.ErrInvalidToken,
			after: func(_ *testing.T, rec exchange.Record) {
				f.clock.add(time.Duration(rec.AccessTokenExpiresAt-f.clock.now().Unix()) * time.Second)
			}},
		{name: "retry after the exchange was deleted", wantCode: oid4vci.ErrInvalidToken,
			after: func(t *testing.T, rec exchange.Record) {
				if err := f.st.DeleteExchange(ctx, rec.CredentialExchangeID); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, token, txn, creds := f.deferredPickedUp(t)
			if _, err := f.st.GetPointer(ctx, exchange.PointerKey(exchange.PointerTransaction, txn)); !errors.Is(err, exchange.ErrNotFound) {
				t.Errorf("TXN pointer after the pick-up: %v, want consumed", err)
			}
			key := exchange.PointerKey(exchange.PointerPickup, txn)
			p, err := f.st.GetPointer(ctx, key)
			if err != nil {
				t.Fatalf("PICKUP pointer: %v", err)
			}
			if p.ExchangeID != rec.CredentialExchangeID || p.ExpiresAt != rec.AccessTokenExpiresAt ||
				p.Attributes["dialect"] == "" || p.Attributes["shape"] == "" || p.Attributes["format"] != "dc+sd-jwt" ||
				p.Attributes["keys"] != "" {
				t.Errorf("PICKUP pointer %s ttl %d attributes %v; want of the exchange, ttl %d, dialect, shape and format only",
					p.ExchangeID, p.ExpiresAt, p.Attributes, rec.AccessTokenExpiresAt)
			}
			if !slices.Contains(rec.Pointers, key) {
				t.Errorf("the record does not list its PICKUP pointer, so deleting the exchange would leave it")
			}
			if tc.after != nil {
				tc.after(t, rec)
			}
			ans, err := f.svc.RequestDeferredCredential(ctx, wallet.Bearer(token), &oid4vci.DeferredCredentialRequest{TransactionID: txn})
			switch {
			case tc.wantCode != "":
				if wallettest.OAuthCode(err) != tc.wantCode {
					t.Errorf("retry: %v, want %s", err, tc.wantCode)
				}
			case err != nil:
				t.Fatalf("retry: %v", err)
			case !slices.Equal(ans.Issuance.Credentials, creds):
				t.Errorf("the retry got other credentials than the picked-up ones")
			}
			if _, err := f.st.GetPointer(ctx, key); (err == nil) != tc.wantPointer {
				t.Errorf("PICKUP pointer read after the retry: %v, want present %v", err, tc.wantPointer)
			}
		})
	}
}
