package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/delivery"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// deferredFixture is the admin service over the DynamoDB store of f, and one Deferred exchange without claims.
func deferredFixture(t *testing.T) (*fixture, *admin.Service, exchange.Record) {
	t.Helper()
	f := newFixture(t)
	deliverer, err := delivery.New(delivery.NewHTTPClient(time.Second, false), 0)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := admin.New(admin.Config{IssuerURL: "https://issuer.example"}, admin.Deps{Store: f.st, Deliverer: deliverer},
		exchange.WithClock(f.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	def, err := svc.DefineCredential(ctx, definition.Spec{Label: "Badge", VCT: "Badge", ExpirationInDays: 30,
		Claims: []definition.Claim{{Path: []any{"given_name"}, LimitDisclosure: true}}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := svc.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "Deferred", CredentialDefinitionID: def.ID})
	if err != nil {
		t.Fatal(err)
	}
	return f, svc, rec
}

func deferredClaims(name string) admin.DeferredRequest {
	return admin.DeferredRequest{Credential: &admin.CredentialInput{CredentialSubject: map[string]any{"given_name": name}}}
}

// TestDeferredCompletionConditionalWrites runs completions and denials concurrently against DynamoDB Local:
// exactly one write applies, every other call either finds its own request already applied (no write) or is
// refused, and the stored record is the winner's.
func TestDeferredCompletionConditionalWrites(t *testing.T) {
	tests := []struct {
		name string
		reqs func(i int) admin.DeferredRequest
	}{
		{name: "same completion", reqs: func(int) admin.DeferredRequest { return deferredClaims("Erika") }},
		{name: "different completions", reqs: func(i int) admin.DeferredRequest { return deferredClaims(fmt.Sprintf("person-%d", i)) }},
		{name: "completions and denials", reqs: func(i int) admin.DeferredRequest {
			if i%2 == 0 {
				return admin.DeferredRequest{IssuanceDenied: true, IssuanceDeniedReason: "not eligible"}
			}
			return deferredClaims("Erika")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, svc, rec := deferredFixture(t)
			ctx := context.Background()
			const n = 8
			var wg sync.WaitGroup
			res := make([]admin.DeferredResult, n)
			errs := make([]error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					res[i], errs[i] = svc.ApplyDeferred(ctx, rec.CredentialExchangeID, tc.reqs(i))
				}(i)
			}
			wg.Wait()
			stored, err := f.st.GetExchange(ctx, rec.CredentialExchangeID)
			if err != nil {
				t.Fatal(err)
			}
			changed := 0
			for i := 0; i < n; i++ {
				switch {
				case errs[i] == nil:
					if res[i].Changed {
						changed++
					}
					if res[i].Record.Status != stored.Status || res[i].Record.CredentialStatus != stored.CredentialStatus {
						t.Errorf("call %d answered %s/%s, stored is %s/%s", i, res[i].Record.Status,
							res[i].Record.CredentialStatus, stored.Status, stored.CredentialStatus)
					}
				case !errors.Is(errs[i], admin.ErrCompletionRefused):
					t.Errorf("call %d: %v", i, errs[i])
				}
			}
			if changed != 1 || stored.Version != rec.Version+1 {
				t.Fatalf("%d calls changed the record (version %d -> %d), want exactly one", changed,
					rec.Version, stored.Version)
			}
			denied := stored.Status == exchange.StatusIssuanceDenied
			if denied == (stored.CredentialStatus == exchange.CredentialReady) {
				t.Fatalf("stored record is both or neither denied and ready: %s/%s", stored.Status, stored.CredentialStatus)
			}
		})
	}
}

// TestDeferredCompletionRacesWalletWrites: the wallet's writes (offer fetched, code redeemed) interleave with a
// completion; the completion is never lost and never undoes the wallet's status.
func TestDeferredCompletionRacesWalletWrites(t *testing.T) {
	f, svc, rec := deferredFixture(t)
	ctx := context.Background()
	id := rec.CredentialExchangeID
	var wg sync.WaitGroup
	wg.Add(2)
	var walletErr, completeErr error
	go func() {
		defer wg.Done()
		// The wallet's side: move offer_sent -> offer_received, retrying lost writes as the wallet service does.
		for attempt := 0; attempt < 20; attempt++ {
			cur, err := f.st.GetExchange(ctx, id)
			if err != nil {
				walletErr = err
				return
			}
			next := cur.Clone()
			if err := next.Transition(exchange.StatusOfferReceived, f.clock.now().Unix()); err != nil {
				walletErr = err
				return
			}
			err = f.st.UpdateExchange(ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status})
			if errors.Is(err, exchange.ErrConflict) {
				continue
			}
			walletErr = err
			return
		}
		walletErr = errors.New("the wallet's write lost 20 times")
	}()
	go func() {
		defer wg.Done()
		_, completeErr = svc.ApplyDeferred(ctx, id, deferredClaims("Erika"))
	}()
	wg.Wait()
	if walletErr != nil || completeErr != nil {
		t.Fatalf("wallet: %v, completion: %v", walletErr, completeErr)
	}
	stored, err := f.st.GetExchange(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != exchange.StatusOfferReceived || stored.CredentialStatus != exchange.CredentialReady ||
		len(stored.Credentials) != 1 || stored.Version != rec.Version+2 {
		t.Fatalf("stored %s/%s, %d payloads, version %d", stored.Status, stored.CredentialStatus,
			len(stored.Credentials), stored.Version)
	}
}

// TestDeferredCompletionGoneExchange: deleted and expired exchanges are not found, and nothing is written.
func TestDeferredCompletionGoneExchange(t *testing.T) {
	tests := []struct {
		name string
		gone func(t *testing.T, f *fixture, svc *admin.Service, id string)
	}{
		{name: "deleted", gone: func(t *testing.T, _ *fixture, svc *admin.Service, id string) {
			if err := svc.DeleteExchange(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "expired", gone: func(_ *testing.T, f *fixture, _ *admin.Service, _ string) {
			f.clock.add(31 * 24 * time.Hour)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, svc, rec := deferredFixture(t)
			tc.gone(t, f, svc, rec.CredentialExchangeID)
			for _, req := range []admin.DeferredRequest{deferredClaims("Erika"), {IssuanceDenied: true, IssuanceDeniedReason: "no"}} {
				if _, err := svc.ApplyDeferred(context.Background(), rec.CredentialExchangeID, req); !errors.Is(err, exchange.ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
			}
		})
	}
}
