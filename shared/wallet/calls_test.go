package wallet_test

import (
	"context"
	"maps"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestWalletStepStoreCalls pins the store round trips of each step of an InTime flow: every secret names its
// exchange, so a step reads the record once (no pointer lookups) and writes once; the c_nonce is checked by the
// credential write itself.
func TestWalletStepStoreCalls(t *testing.T) {
	f := newWalletFixture(t, wallet.Config{})
	offerID, _ := f.offer(exchange.ModeInTime, "", erika())
	ctx := context.Background()
	var tok *oid4vci.TokenResponse
	var nonce, notif string
	h := newHolder(t)
	steps := []struct {
		name string
		run  func() error
		want map[string]int
	}{
		{name: "offer", run: func() error { _, err := f.svc.FetchOffer(ctx, offerID); return err },
			want: map[string]int{"GetExchange": 1, "UpdateExchange": 1}},
		{name: "token", run: func() (err error) { tok, err = f.token(offerID, ""); return err },
			want: map[string]int{"GetExchange": 1, "UpdateExchange": 1}},
		{name: "nonce", run: func() error {
			n, err := f.svc.NewNonce(ctx)
			if err == nil {
				nonce = n.Value
			}
			return err
		}, want: map[string]int{}}, // docs/security.md, "Nonce endpoint writes": stateless
		{name: "credential", run: func() error {
			ans, err := f.svc.RequestCredential(ctx, wallet.Bearer(tok.AccessToken), credentialRequest(t, f.def.ID, h.proof(t, nonce, "", f.clock.Now())))
			if err == nil {
				notif = ans.Issuance.NotificationID
			}
			return err
		}, want: map[string]int{"GetExchange": 1, "UpdateExchange": 1}},
		{name: "notification", run: func() error {
			return f.svc.Notify(ctx, wallet.Bearer(tok.AccessToken), &oid4vci.NotificationRequest{NotificationID: notif,
				Event: oid4vci.EventCredentialAccepted})
		}, want: map[string]int{"GetExchange": 1, "UpdateExchange": 1}},
	}
	f.store.countCalls()
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := f.store.countCalls(); !maps.Equal(got, st.want) {
			t.Errorf("%s: store calls %v, want %v", st.name, got, st.want)
		}
	}
}
