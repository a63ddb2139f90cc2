package wallet_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// TestStatelessNonces (docs/security.md, "Nonce endpoint writes"): the anonymous nonce endpoint writes nothing
// (300 calls, 0 store calls); a c_nonce stays single use where it is consumed; a forged, tampered or expired one,
// or one minted under another key, is invalid_nonce before anything is signed or written.
func TestStatelessNonces(t *testing.T) {
	key := []byte(strings.Repeat("k", exchange.CNonceKeyBytes))
	f := newWalletFixture(t, wallet.Config{NonceKey: key})
	ctx := context.Background()
	f.store.countCalls()
	var nonces []string
	for range 300 {
		n, err := f.svc.NewNonce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nonces = append(nonces, n.Value)
	}
	if got := f.store.countCalls(); !maps.Equal(got, map[string]int{}) {
		t.Fatalf("300 nonce calls made store calls %v, want none", got)
	}
	if seen := map[string]bool{}; func() bool {
		for _, n := range nonces {
			if seen[n] {
				return true
			}
			seen[n] = true
		}
		return false
	}() {
		t.Fatal("two nonces alike")
	}

	request := func(nonce string) error {
		t.Helper()
		offerID, _ := f.offer(exchange.ModeInTime, "", erika())
		tok, err := f.token(offerID, "")
		if err != nil {
			t.Fatal(err)
		}
		h := newHolder(t)
		_, err = f.svc.RequestCredential(ctx, wallet.Bearer(tok.AccessToken), credentialRequest(t, f.def.ID, h.proof(t, nonce, "", f.clock.Now())))
		return err
	}
	invalidNonce := func(err error) bool {
		var oe *oid4vci.Error
		return errors.As(err, &oe) && oe.Code == oid4vci.ErrInvalidNonce
	}
	if err := request(nonces[0]); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := request(nonces[0]); !invalidNonce(err) {
		t.Fatalf("second use of one c_nonce: %v, want invalid_nonce", err)
	}
	other := newWalletFixture(t, wallet.Config{NonceKey: []byte(strings.Repeat("o", exchange.CNonceKeyBytes))})
	foreign, err := other.svc.NewNonce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(nonces[1])
	tampered[10] ^= 1
	for name, n := range map[string]string{"another key": foreign.Value, "tampered": string(tampered),
		"made up": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "empty-ish": "x"} {
		f.store.countCalls()
		if err := request(n); !invalidNonce(err) {
			t.Errorf("%s: %v, want invalid_nonce", name, err)
		}
		if got := f.store.countCalls()["UpdateExchange"]; got != 1 { // the token's write only
			t.Errorf("%s: %d exchange writes, want the token's only: refused after signing", name, got)
		}
	}
	f.clock.Advance(wallet.DefaultNonceTTL + time.Second)
	if err := request(nonces[2]); !invalidNonce(err) {
		t.Errorf("expired c_nonce: %v, want invalid_nonce", err)
	}
}
