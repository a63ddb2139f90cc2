package wallet_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// guessRaceStore lets other requests' wrong tx_code guesses land between a request's read and its write: before
// each of the first `races` UpdateExchange calls it counts one wrong attempt on the record itself (as a
// concurrent token request would), so the caller's write loses against it.
type guessRaceStore struct {
	*walletMem
	mu    sync.Mutex
	races int
	cap   int
	code  string // the pointer key of the offer's code guard
}

func (r *guessRaceStore) UpdateExchange(ctx context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	r.mu.Lock()
	race := r.races > 0
	if race {
		r.races--
	}
	r.mu.Unlock()
	if race {
		cur, err := r.walletMem.GetExchange(ctx, rec.CredentialExchangeID)
		if err == nil && (cur.Status == exchange.StatusOfferSent || cur.Status == exchange.StatusOfferReceived) {
			next := cur.Clone()
			next.TxCode.Attempts++
			var kill []exchange.PointerOp
			if next.TxCode.Attempts >= r.cap {
				if err := next.Transition(exchange.StatusIssuanceDenied, next.UpdatedAt); err != nil {
					return err
				}
				next.IssuanceDeniedReason = wallet.TxCodeAttemptsExhaustedReason
				kill = append(kill, exchange.PointerOp{Consume: r.code})
			}
			if err := r.walletMem.UpdateExchange(ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status}, kill...); err != nil {
				return err
			}
		}
	}
	return r.walletMem.UpdateExchange(ctx, rec, expect, ops...)
}

// TestTxCodeGuessesLosingRaces: a guess whose write keeps losing against other requests' wrong guesses is still
// decided on the record as it ends up: a wrong guess is counted (never answered uncounted), a right one gets its
// token while the code lives and is refused like every other guess once the cap killed it. Before, a request
// that lost more than the retry bound answered differently for a right guess (invalid_grant) than for a wrong
// one (an error, uncounted), so a burst of parallel guesses could test far more tx_codes than the cap allows.
func TestTxCodeGuessesLosingRaces(t *testing.T) {
	tests := []struct {
		name         string
		cap, races   int
		pin          string
		wantToken    bool
		wantAttempts int
		wantStatus   exchange.Status
	}{
		{name: "wrong guess is counted", cap: 100, races: 8, pin: "0000", wantAttempts: 9, wantStatus: exchange.StatusOfferSent},
		{name: "right guess gets its token", cap: 100, races: 8, pin: "4821", wantToken: true, wantAttempts: 8,
			wantStatus: exchange.StatusOfferReceived},
		{name: "right guess after the cap is refused", cap: 5, races: 8, pin: "4821", wantAttempts: 5,
			wantStatus: exchange.StatusIssuanceDenied},
		{name: "wrong guess after the cap is refused", cap: 5, races: 8, pin: "0000", wantAttempts: 5,
			wantStatus: exchange.StatusIssuanceDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWalletFixture(t, wallet.Config{MaxTxCodeAttempts: tc.cap})
			offerID, rec := f.offer(exchange.ModeInTime, "4821", erika())
			racing := &guessRaceStore{walletMem: f.store, races: tc.races, cap: tc.cap,
				code: exchange.PointerKey(exchange.PointerCode, exchange.PreAuthorizedCode(offerID))}
			svc, err := wallet.New(wallet.Config{IssuerURL: walletIssuer, MaxTxCodeAttempts: tc.cap},
				wallet.Deps{Store: racing, Signer: f.signer}, exchange.WithClock(f.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			f.svc = svc
			resp, err := f.token(offerID, tc.pin)
			if tc.wantToken {
				if err != nil || resp == nil || resp.AccessToken == "" {
					t.Fatalf("token: %v", err)
				}
			} else if oauthCode(err) != oid4vci.ErrInvalidGrant {
				t.Fatalf("err = %v, want invalid_grant", err)
			}
			got := f.store.record(rec.CredentialExchangeID)
			if got.TxCode.Attempts != tc.wantAttempts || got.Status != tc.wantStatus {
				t.Errorf("attempts %d status %s, want %d %s", got.TxCode.Attempts, got.Status,
					tc.wantAttempts, tc.wantStatus)
			}
		})
	}
}
