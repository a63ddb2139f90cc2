package wallet_test

import (
	"context"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// complete makes a Deferred exchange ready (what the organisation's completion does) or denies it.
func (f *walletFixture) complete(id string, deny bool, subjects ...map[string]any) {
	f.t.Helper()
	cur := f.store.record(id)
	next := cur.Clone()
	if deny {
		if err := next.Transition(exchange.StatusIssuanceDenied, f.clock.Now().Unix()); err != nil {
			f.t.Fatal(err)
		}
		next.IssuanceDeniedReason = "not eligible"
	} else {
		var payloads []exchange.CredentialPayload
		for _, s := range subjects {
			payloads = append(payloads, exchange.CredentialPayload{CredentialSubject: s})
		}
		next.SetCredentials(payloads)
	}
	if err := f.store.UpdateExchange(context.Background(), next, exchange.Expect{Version: cur.Version, Status: cur.Status}); err != nil {
		f.t.Fatal(err)
	}
}

func TestDeferredFlow(t *testing.T) {
	tests := []struct {
		name    string
		body    func(p string) string
		dialect oid4vci.Dialect
	}{
		{name: "1.0", dialect: oid4vci.DialectV1, body: func(p string) string {
			return `{"credential_configuration_id":"def-pda1","proofs":{"jwt":["` + p + `"]}}`
		}},
		{name: "draft 13", dialect: oid4vci.DialectDraft13, body: func(p string) string {
			return `{"format":"vc+sd-jwt","vct":"PortableDocumentA1","proof":{"proof_type":"jwt","jwt":"` + p + `"}}`
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{DeferredInterval: 30})
			offerID, rec := f.offer(exchange.ModeDeferred, "")
			tok := f.mustToken(offerID, "")
			h := newHolder(t)
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				parseCredentialRequest(t, []byte(tc.body(h.proof(t, tok.CNonce, "", f.clock.Now())))))
			if err != nil {
				t.Fatal(err)
			}
			txn := ans.Issuance.TransactionID
			if txn == "" || ans.Issuance.Interval != 30 || len(ans.Issuance.Credentials) != 0 {
				t.Fatalf("issuance %+v", ans.Issuance)
			}
			if status, _, err := oid4vci.BuildCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance); err != nil ||
				(tc.dialect == oid4vci.DialectV1) != (status == 202) {
				t.Fatalf("status %d err %v", status, err)
			}
			got := f.store.record(rec.CredentialExchangeID)
			if got.Status != exchange.StatusOfferReceived || got.Cnf["jwk"] == nil || got.ProofType != "jwt" {
				t.Fatalf("record after deferral: %s %v", got.Status, got.Cnf)
			}
			// still pending: the same transaction id again
			pend, err := f.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(tok.AccessToken), &oid4vci.DeferredCredentialRequest{TransactionID: txn})
			if err != nil || pend.Issuance.TransactionID != txn || pend.Issuance.Interval != 30 {
				t.Fatalf("pending answer %+v %v", pend, err)
			}
			f.clock.Advance(2 * time.Hour) // longer than an InTime token lives
			f.complete(rec.CredentialExchangeID, false, erika())
			done, err := f.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(tok.AccessToken), &oid4vci.DeferredCredentialRequest{TransactionID: txn})
			if err != nil {
				t.Fatal(err)
			}
			if len(done.Issuance.Credentials) != 1 || done.Issuance.NotificationID != "" || done.Dialect != tc.dialect {
				t.Fatalf("ready answer %+v", done)
			}
			f.verifyBound(done.Issuance.Credentials[0], h)
			if got := f.store.record(rec.CredentialExchangeID); got.Status != exchange.StatusCredentialAcked || got.CredentialToken == "" {
				t.Errorf("status %s", got.Status)
			}
			// the answer was lost: the same token and transaction id get the recorded credentials again
			again, err := f.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(tok.AccessToken), &oid4vci.DeferredCredentialRequest{TransactionID: txn})
			if err != nil || len(again.Issuance.Credentials) != 1 || again.Issuance.Credentials[0] != done.Issuance.Credentials[0] {
				t.Errorf("second pick-up: %+v %v, want the recorded credential", again, err)
			}
		})
	}
}

func TestDeferredErrors(t *testing.T) {
	tests := []struct {
		name     string
		prepare  func(f *walletFixture, id string)
		txn      func(txn string) string
		token    func(tok string) string
		wantCode string
	}{
		{name: "unknown transaction id", txn: func(string) string { return "nope" }, wantCode: oid4vci.ErrInvalidTransactionID},
		{name: "empty transaction id", txn: func(string) string { return "" }, wantCode: oid4vci.ErrInvalidCredentialRequest},
		{name: "bad access token", token: func(string) string { return "nope" }, wantCode: oid4vci.ErrInvalidToken},
		{name: "denied", prepare: func(f *walletFixture, id string) { f.complete(id, true) }, wantCode: oid4vci.ErrCredentialRequestDenied},
		{name: "transaction id of another exchange", txn: nil, wantCode: oid4vci.ErrInvalidTransactionID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, rec := f.offer(exchange.ModeDeferred, "")
			tok := f.mustToken(offerID, "")
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				credentialRequest(t, f.def.ID, newHolder(t).proof(t, tok.CNonce, "", f.clock.Now())))
			if err != nil {
				t.Fatal(err)
			}
			token, txn := tok.AccessToken, ans.Issuance.TransactionID
			if tc.name == "transaction id of another exchange" {
				otherOffer, _ := f.offer(exchange.ModeDeferred, "")
				token = f.mustToken(otherOffer, "").AccessToken
			}
			if tc.prepare != nil {
				tc.prepare(f, rec.CredentialExchangeID)
			}
			if tc.txn != nil {
				txn = tc.txn(txn)
			}
			if tc.token != nil {
				token = tc.token(token)
			}
			_, err = f.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(token), &oid4vci.DeferredCredentialRequest{TransactionID: txn})
			if oauthCode(err) != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
		})
	}
}

func TestDeferredExchangeAlreadyReadyIssuesNow(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, rec := f.offer(exchange.ModeDeferred, "", erika())
	tok := f.mustToken(offerID, "")
	if tok.ExpiresIn != int(wallet.DefaultDeferredAccessTokenTTL/time.Second) {
		t.Errorf("expires_in %d", tok.ExpiresIn)
	}
	h := newHolder(t)
	ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken), credentialRequest(t, f.def.ID, h.proof(t, f.nonce(), "", f.clock.Now())))
	if err != nil || len(ans.Issuance.Credentials) != 1 || ans.Issuance.TransactionID != "" {
		t.Fatalf("answer %+v %v", ans, err)
	}
	f.verifyBound(ans.Issuance.Credentials[0], h)
	if got := f.store.record(rec.CredentialExchangeID); got.Status != exchange.StatusCredentialIssued {
		t.Errorf("status %s", got.Status)
	}
}

func TestNotify(t *testing.T) {
	type step struct {
		event, desc string
		wantCode    string
		wantStatus  exchange.Status
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "accepted twice", steps: []step{
			{event: "credential_accepted", wantStatus: exchange.StatusCredentialAccepted},
			{event: "credential_accepted", wantStatus: exchange.StatusCredentialAccepted}}},
		{name: "deleted after accepted", steps: []step{
			{event: "credential_accepted", wantStatus: exchange.StatusCredentialAccepted},
			{event: "credential_deleted", wantStatus: exchange.StatusCredentialDeleted}}},
		{name: "accepted after deleted refused", steps: []step{
			{event: "credential_deleted", wantStatus: exchange.StatusCredentialDeleted},
			{event: "credential_deleted", wantStatus: exchange.StatusCredentialDeleted},
			{event: "credential_accepted", wantCode: oid4vci.ErrInvalidNotificationRequest, wantStatus: exchange.StatusCredentialDeleted}}},
		{name: "failure keeps the status", steps: []step{
			{event: "credential_failure", desc: "storage full", wantStatus: exchange.StatusCredentialIssued},
			{event: "credential_failure", desc: "storage full", wantStatus: exchange.StatusCredentialIssued}}},
		{name: "unknown event", steps: []step{{event: "credential_lost", wantCode: oid4vci.ErrInvalidNotificationRequest,
			wantStatus: exchange.StatusCredentialIssued}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{})
			offerID, rec := f.offer(exchange.ModeInTime, "", erika())
			tok := f.mustToken(offerID, "")
			ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
				credentialRequest(t, f.def.ID, newHolder(t).proof(t, f.nonce(), "", f.clock.Now())))
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				before := f.store.record(rec.CredentialExchangeID).Version
				err := f.svc.Notify(context.Background(), wallet.Bearer(tok.AccessToken), &oid4vci.NotificationRequest{
					NotificationID: ans.Issuance.NotificationID, Event: s.event, EventDescription: s.desc})
				if oauthCode(err) != s.wantCode || (s.wantCode == "" && err != nil) {
					t.Fatalf("step %d: err = %v, want %q", i, err, s.wantCode)
				}
				got := f.store.record(rec.CredentialExchangeID)
				if got.Status != s.wantStatus {
					t.Errorf("step %d: status %s, want %s", i, got.Status, s.wantStatus)
				}
				if i > 0 && tc.steps[i-1] == s && got.Version != before {
					t.Errorf("step %d: a repeated event wrote the record", i)
				}
				if s.event == "credential_failure" && got.NotificationDescription != s.desc {
					t.Errorf("description %q", got.NotificationDescription)
				}
			}
		})
	}
}

// forged is a well-formed random part that was never issued.
const forged = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// exchangeOf is the exchange id a secret names.
func exchangeOf(t *testing.T, secret string) string {
	t.Helper()
	id, ok := exchange.SecretExchangeID(secret)
	if !ok {
		t.Fatalf("secret names no exchange")
	}
	return id
}

func TestNotifyErrors(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, _ := f.offer(exchange.ModeInTime, "", erika())
	tok := f.mustToken(offerID, "")
	ans, err := f.svc.RequestCredential(context.Background(), wallet.Bearer(tok.AccessToken),
		credentialRequest(t, f.def.ID, newHolder(t).proof(t, f.nonce(), "", f.clock.Now())))
	if err != nil {
		t.Fatal(err)
	}
	otherOffer, _ := f.offer(exchange.ModeInTime, "", erika())
	other := f.mustToken(otherOffer, "")
	tests := []struct {
		name, token, id, wantCode string
	}{
		{name: "bad token", token: "nope", id: ans.Issuance.NotificationID, wantCode: oid4vci.ErrInvalidToken},
		{name: "unknown id", token: tok.AccessToken, id: "nope", wantCode: oid4vci.ErrInvalidNotificationID},
		{name: "empty id", token: tok.AccessToken, id: "", wantCode: oid4vci.ErrInvalidNotificationRequest},
		{name: "id of another exchange", token: other.AccessToken, id: ans.Issuance.NotificationID, wantCode: oid4vci.ErrInvalidNotificationID},
		{name: "forged id naming the exchange", token: tok.AccessToken, id: exchangeOf(t, tok.AccessToken) + "." + forged,
			wantCode: oid4vci.ErrInvalidNotificationID},
		{name: "the access token as id", token: tok.AccessToken, id: tok.AccessToken, wantCode: oid4vci.ErrInvalidNotificationID},
		{name: "forged token naming the exchange", token: exchangeOf(t, tok.AccessToken) + "." + forged,
			id: ans.Issuance.NotificationID, wantCode: oid4vci.ErrInvalidToken},
		{name: "token with an extra part", token: tok.AccessToken + ".x", id: ans.Issuance.NotificationID,
			wantCode: oid4vci.ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.Notify(context.Background(), wallet.Bearer(tc.token), &oid4vci.NotificationRequest{NotificationID: tc.id, Event: "credential_accepted"})
			if oauthCode(err) != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
		})
	}
}
