package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/internal/wallettest"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestCredentialNonceConsumedByTheWrite: the credential request reads no c_nonce; the transaction that records
// the issuance consumes it, and its condition (exists, unexpired, of no exchange or of this one) decides. A
// refused nonce is invalid_nonce and leaves the record as it was.
func TestCredentialNonceConsumedByTheWrite(t *testing.T) {
	f := newWalletStoreFixture(t)
	ctx := context.Background()
	fresh := func(t *testing.T, _ *oid4vci.TokenResponse) string {
		n, err := f.svc.NewNonce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n.Value
	}
	tests := []struct {
		name  string
		nonce func(t *testing.T, tok *oid4vci.TokenResponse) string
		want  string // OAuth error code, "" = issued
	}{
		{name: "nonce endpoint c_nonce", nonce: fresh},
		{name: "the token response's c_nonce", nonce: func(_ *testing.T, tok *oid4vci.TokenResponse) string { return tok.CNonce }},
		{name: "unknown", nonce: func(*testing.T, *oid4vci.TokenResponse) string { return "made-up" }, want: oid4vci.ErrInvalidNonce},
		// Stateless c_nonces are bound to no exchange (as the nonce endpoint's always were): another exchange's
		// unused one is accepted once.
		{name: "another exchange's unused c_nonce", nonce: func(t *testing.T, _ *oid4vci.TokenResponse) string {
			offerID, _ := f.offer(t, "")
			other, err := f.token(offerID, "")
			if err != nil {
				t.Fatal(err)
			}
			return other.CNonce
		}},
		{name: "expired", nonce: func(t *testing.T, tok *oid4vci.TokenResponse) string {
			n := fresh(t, tok)
			f.clock.add(wallet.DefaultNonceTTL + time.Second)
			return n
		}, want: oid4vci.ErrInvalidNonce},
		{name: "used by another exchange's request", nonce: func(t *testing.T, tok *oid4vci.TokenResponse) string {
			n := fresh(t, tok)
			offerID, _ := f.offer(t, "")
			other, err := f.token(offerID, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.RequestCredential(ctx, wallet.Bearer(other.AccessToken), storeCredentialRequest(t, storeProof(t, n, f.clock.now()))); err != nil {
				t.Fatal(err)
			}
			return n
		}, want: oid4vci.ErrInvalidNonce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			offerID, rec := f.offer(t, "")
			tok, err := f.token(offerID, "")
			if err != nil {
				t.Fatal(err)
			}
			nonce := tc.nonce(t, tok)
			before, err := f.st.GetExchange(ctx, rec.CredentialExchangeID)
			if err != nil {
				t.Fatal(err)
			}
			ans, err := f.svc.RequestCredential(ctx, wallet.Bearer(tok.AccessToken), storeCredentialRequest(t, storeProof(t, nonce, f.clock.now())))
			after, gerr := f.st.GetExchange(ctx, rec.CredentialExchangeID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tc.want == "" {
				if err != nil || len(ans.Issuance.Credentials) != 1 || after.Status != exchange.StatusCredentialIssued {
					t.Fatalf("credential: %v, record %s", err, after.Status)
				}
				return
			}
			if wallettest.OAuthCode(err) != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
			// The history record is as it was; only the internal count of requests refused for their c_nonce
			// (which bounds the KMS signatures stale nonces can waste) may have moved.
			bj, _ := json.Marshal(historyrecord.From(&before))
			aj, _ := json.Marshal(historyrecord.From(&after))
			if string(aj) != string(bj) || after.Status != before.Status {
				t.Errorf("a refused request changed the record:\n%s\n%s", bj, aj)
			}
			if after.FailedNonces > before.FailedNonces+1 {
				t.Errorf("failed c_nonce count %d -> %d", before.FailedNonces, after.FailedNonces)
			}
		})
	}
}

// TestUpdateExchangeConsumeConditions: a consuming delete fails on a pointer that is absent, expired or of
// another exchange, and the store says which pointer (PointerGoneError, also ErrConflict).
func TestUpdateExchangeConsumeConditions(t *testing.T) {
	f := newWalletStoreFixture(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		pointer *exchange.Pointer // stored before the update (nil: none)
		gone    bool
	}{
		{name: "pointer of no exchange", pointer: &exchange.Pointer{ExchangeID: ""}},
		{name: "pointer of this exchange", pointer: &exchange.Pointer{ExchangeID: "self"}},
		{name: "pointer of another exchange", pointer: &exchange.Pointer{ExchangeID: "other"}, gone: true},
		{name: "expired pointer", pointer: &exchange.Pointer{ExchangeID: "", ExpiresAt: -1}, gone: true},
		{name: "absent pointer", gone: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rec := f.offer(t, "")
			k := exchange.PointerKey(exchange.PointerNonce, "consume-"+rec.CredentialExchangeID+string(rune('a'+i)))
			if tc.pointer != nil {
				p := *tc.pointer
				p.Key = k
				if p.ExchangeID == "self" {
					p.ExchangeID = rec.CredentialExchangeID
				}
				p.ExpiresAt = f.clock.now().Add(time.Minute).Unix()
				if tc.pointer.ExpiresAt < 0 {
					p.ExpiresAt = f.clock.now().Unix() // expires now: present in the table, past its ttl
				}
				if err := f.st.PutPointer(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			next := rec.Clone()
			next.UpdatedAt++
			err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status},
				exchange.PointerOp{Consume: k})
			var gone *exchange.PointerGoneError
			if !tc.gone {
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				return
			}
			if !errors.As(err, &gone) || gone.Key != k || gone.Kind() != exchange.PointerNonce || !errors.Is(err, exchange.ErrConflict) {
				t.Fatalf("err = %v, want PointerGoneError for the nonce and ErrConflict", err)
			}
			if got, _ := f.st.GetExchange(ctx, rec.CredentialExchangeID); got.Version != rec.Version {
				t.Errorf("refused update wrote the record")
			}
		})
	}
}

func storeCredentialRequest(t *testing.T, proofs ...string) *oid4vci.CredentialRequest {
	t.Helper()
	body := `{"credential_configuration_id":"def-1","proofs":{"jwt":[`
	for i, p := range proofs {
		if i > 0 {
			body += ","
		}
		body += `"` + p + `"`
	}
	req, err := oid4vci.ParseCredentialRequest([]byte(body+`]}}`), "application/json", 10)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
