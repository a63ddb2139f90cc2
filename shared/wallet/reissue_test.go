package wallet_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestRequestCredentialAfterLostAnswer: the credential write was applied but the wallet never got the answer.
// A retry on the same access token proving the same holder keys with a fresh c_nonce gets the recorded
// credentials again (same strings, no new signature); any other retry is refused and changes nothing.
func TestRequestCredentialAfterLostAnswer(t *testing.T) {
	type env struct {
		f      *walletFixture
		tok    string
		h1, h2 holder
		nonce  string // the nonce of the recorded request (consumed)
		id     string
	}
	tests := []struct {
		name     string
		retry    func(t *testing.T, e *env) *oid4vci.CredentialRequest
		wantCode string // "" = the recorded credentials
		wantDesc string
	}{
		{name: "same keys, fresh nonce", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			n := e.f.nonce()
			return credentialRequest(t, e.f.def.ID, e.h1.proof(t, n, "", e.f.clock.Now()), e.h2.proof(t, n, "", e.f.clock.Now()))
		}},
		{name: "same keys in another order", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			n := e.f.nonce()
			return credentialRequest(t, e.f.def.ID, e.h2.proof(t, n, "", e.f.clock.Now()), e.h1.proof(t, n, "", e.f.clock.Now()))
		}},
		{name: "one of the keys only", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h1.proof(t, e.f.nonce(), "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrCredentialRequestDenied, wantDesc: "other keys"},
		{name: "another key added", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			n := e.f.nonce()
			return credentialRequest(t, e.f.def.ID, e.h1.proof(t, n, "", e.f.clock.Now()),
				e.h2.proof(t, n, "", e.f.clock.Now()), newHolder(t).proof(t, n, "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrCredentialRequestDenied, wantDesc: "other keys"},
		{name: "replayed nonce of the recorded request", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h1.proof(t, e.nonce, "", e.f.clock.Now()), e.h2.proof(t, e.nonce, "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrInvalidNonce},
		{name: "unknown nonce", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			return credentialRequest(t, e.f.def.ID, e.h1.proof(t, "made-up", "", e.f.clock.Now()), e.h2.proof(t, "made-up", "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrInvalidNonce},
		{name: "other format (draft 13 vc+sd-jwt)", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			n := e.f.nonce()
			return parseCredentialRequest(t, []byte(`{"format":"vc+sd-jwt","vct":"`+e.f.def.VCT+`","proofs":{"jwt":["`+
				e.h1.proof(t, n, "", e.f.clock.Now())+`","`+e.h2.proof(t, n, "", e.f.clock.Now())+`"]}}`))
		}, wantCode: oid4vci.ErrCredentialRequestDenied, wantDesc: "format"},
		{name: "after the wallet accepted", retry: func(t *testing.T, e *env) *oid4vci.CredentialRequest {
			rec := e.f.store.record(e.id)
			next := rec.Clone()
			if err := next.Transition(exchange.StatusCredentialAccepted, e.f.clock.Now().Unix()); err != nil {
				t.Fatal(err)
			}
			if err := e.f.store.UpdateExchange(context.Background(), next, exchange.Expect{Version: rec.Version, Status: rec.Status}); err != nil {
				t.Fatal(err)
			}
			n := e.f.nonce()
			return credentialRequest(t, e.f.def.ID, e.h1.proof(t, n, "", e.f.clock.Now()), e.h2.proof(t, n, "", e.f.clock.Now()))
		}, wantCode: oid4vci.ErrCredentialRequestDenied, wantDesc: "already issued"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, rec := f.offer(exchange.ModeInTime, "", erika())
			tok := f.mustToken(offerID, "")
			e := &env{f: f, tok: tok.AccessToken, h1: newHolder(t), h2: newHolder(t), nonce: f.nonce(), id: rec.CredentialExchangeID}
			first, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(e.tok), credentialRequest(t, f.def.ID,
				e.h1.proof(t, e.nonce, "", f.clock.Now()), e.h2.proof(t, e.nonce, "", f.clock.Now())))
			if err != nil {
				t.Fatal(err)
			}
			// the answer is lost: the wallet retries
			req := tc.retry(t, e)
			before := f.store.record(rec.CredentialExchangeID)
			events := len(f.events.DetailTypes())
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(e.tok), req)
			after := f.store.record(rec.CredentialExchangeID)
			if after.CredentialToken != before.CredentialToken || after.IssuedCount != 2 || after.Proof != before.Proof {
				t.Errorf("the retry changed the recorded issuance")
			}
			if len(f.events.DetailTypes()) != events {
				t.Errorf("the retry published %v", f.events.DetailTypes()[events:])
			}
			if tc.wantCode != "" {
				if oauthCode(err) != tc.wantCode {
					t.Fatalf("err = %v, want %s", err, tc.wantCode)
				}
				var oe *oid4vci.Error
				errors.As(err, &oe)
				if !strings.Contains(oe.Description, tc.wantDesc) {
					t.Errorf("description %q, want it to mention %q", oe.Description, tc.wantDesc)
				}
				if after.Version != before.Version {
					t.Errorf("a refused retry wrote the record")
				}
				return
			}
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if !slices.Equal(ans.Issuance.Credentials, first.Issuance.Credentials) ||
				!slices.Equal(ans.Issuance.Credentials, splitCredentials(before.CredentialToken)) {
				t.Errorf("the retry got other credentials than the recorded ones")
			}
			if ans.Issuance.NotificationID == "" || ans.Issuance.NotificationID == first.Issuance.NotificationID {
				t.Errorf("notification_id %q, want a fresh one", ans.Issuance.NotificationID)
			}
			if err := f.svc.Notify(context.Background(), wallet.Bearer(e.tok), &oid4vci.NotificationRequest{
				NotificationID: ans.Issuance.NotificationID, Event: oid4vci.EventCredentialAccepted}); err != nil {
				t.Errorf("notify with the retry's notification_id: %v", err)
			}
			// the retry's nonce is spent: replaying the retry is invalid_nonce
			if _, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(e.tok), req); oauthCode(err) != oid4vci.ErrInvalidNonce &&
				oauthCode(err) != oid4vci.ErrCredentialRequestDenied {
				t.Errorf("replayed retry: %v", err)
			}
		})
	}
}
