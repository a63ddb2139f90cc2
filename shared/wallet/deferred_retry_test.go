package wallet_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// pickupAllocator hands out status list entries and counts them.
type pickupAllocator struct{ n atomic.Int64 }

func (a *pickupAllocator) AllocateStatus(context.Context, *exchange.Record) (*sdjwt.StatusReference, error) {
	return &sdjwt.StatusReference{URI: walletIssuer + "/status-lists/1", Index: a.n.Add(1)}, nil
}

// pickupStore runs a hook once, before the first UpdateExchange or GetPointer call it sees (a concurrent request
// that writes in between).
type pickupStore struct {
	*walletMem
	mu          sync.Mutex
	beforeWrite func()
	beforeRead  func()
}

func (p *pickupStore) take(h *func()) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := *h
	*h = nil
	return f
}

func (p *pickupStore) UpdateExchange(ctx context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	if h := p.take(&p.beforeWrite); h != nil {
		h()
	}
	return p.walletMem.UpdateExchange(ctx, rec, expect, ops...)
}

func (p *pickupStore) GetPointer(ctx context.Context, key string) (exchange.Pointer, error) {
	if h := p.take(&p.beforeRead); h != nil {
		h()
	}
	return p.walletMem.GetPointer(ctx, key)
}

// pickupEnv is the wallet service over the fixture's store with a counting signer and status allocator.
type pickupEnv struct {
	f      *walletFixture
	st     *pickupStore
	svc    *wallet.Service
	signer *domaintest.CountingSigner
	alloc  *pickupAllocator
}

func newPickupEnv(t *testing.T) *pickupEnv {
	t.Helper()
	f := newWalletFixture(t, wallet.Config{})
	e := &pickupEnv{f: f, st: &pickupStore{walletMem: f.store}, signer: domaintest.CountSignatures(f.signer),
		alloc: &pickupAllocator{}}
	svc, err := wallet.New(f.svc.Config(), wallet.Deps{Store: e.st, Signer: e.signer, StatusAllocator: e.alloc},
		exchange.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// deferral is a revocable Deferred exchange the wallet asked credentials of (with the request body, proofs
// made by holders keys) and the organisation completed.
type deferral struct {
	id, token, txn string
	// first is the answer of the first pick-up (nil until pickedUp).
	first *wallet.CredentialAnswer
}

// completed runs a revocable Deferred exchange to the deferral and completes it.
func (e *pickupEnv) completed(t *testing.T, body func(proofs []string) string, holders int) deferral {
	t.Helper()
	f := e.f
	offerID, rec := f.offer(exchange.ModeDeferred, "")
	revocable := rec.Clone()
	revocable.SupportRevocation = true
	if err := f.store.UpdateExchange(context.Background(), revocable, exchange.Expect{Version: rec.Version, Status: rec.Status}); err != nil {
		t.Fatal(err)
	}
	d := deferral{id: rec.CredentialExchangeID, token: f.mustToken(offerID, "").AccessToken}
	nonce := f.nonce()
	proofs := make([]string, holders)
	for i := range proofs {
		proofs[i] = newHolder(t).proof(t, nonce, "", f.clock.Now())
	}
	ans, err := e.svc.RequestCredential(context.Background(), wallet.Bearer(d.token), parseCredentialRequest(t, []byte(body(proofs))))
	if err != nil || ans.Issuance.TransactionID == "" {
		t.Fatalf("deferral: %+v %v", ans, err)
	}
	d.txn = ans.Issuance.TransactionID
	f.complete(d.id, false, erika())
	return d
}

// pickedUp is completed, then picked up once: the wallet lost that answer.
func (e *pickupEnv) pickedUp(t *testing.T, body func(proofs []string) string, holders int) deferral {
	t.Helper()
	d := e.completed(t, body, holders)
	var err error
	if d.first, err = e.pickUp(d.token, d.txn); err != nil {
		t.Fatalf("first pick-up: %v", err)
	}
	if got := e.f.store.record(d.id); got.Status != exchange.StatusCredentialAcked {
		t.Fatalf("status after the pick-up %s", got.Status)
	}
	return d
}

func v1Body(p []string) string {
	return `{"credential_configuration_id":"def-pda1","proofs":{"jwt":["` + strings.Join(p, `","`) + `"]}}`
}

func (e *pickupEnv) pickUp(token, txn string) (*wallet.CredentialAnswer, error) {
	return e.svc.RequestDeferredCredential(context.Background(), wallet.Bearer(token), &oid4vci.DeferredCredentialRequest{TransactionID: txn})
}

// pickupResponse is the HTTP status and JSON body the deferred endpoint builds from ans.
func pickupResponse(t *testing.T, ans *wallet.CredentialAnswer) (int, map[string]any) {
	t.Helper()
	status, body, err := oid4vci.BuildDeferredCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return status, m
}

// TestDeferredPickupAfterLostAnswer: the pick-up was recorded (credential_acked) but its answer never reached
// the wallet. The retry with the same access token and transaction_id gets the recorded credentials again, in
// exactly the shape of the first answer (a fresh c_nonce where the dialect had one), without a signature, a
// status list entry, a record write or an event; and again on a second retry.
func TestDeferredPickupAfterLostAnswer(t *testing.T) {
	tests := []struct {
		name    string
		holders int
		body    func(proofs []string) string
		dialect oid4vci.Dialect
	}{
		{name: "1.0, one proof", holders: 1, dialect: oid4vci.DialectV1, body: v1Body},
		{name: "1.0, batch of two", holders: 2, dialect: oid4vci.DialectV1, body: v1Body},
		{name: "draft 13, single proof", holders: 1, dialect: oid4vci.DialectDraft13, body: func(p []string) string {
			return `{"format":"vc+sd-jwt","vct":"PortableDocumentA1","proof":{"proof_type":"jwt","jwt":"` + p[0] + `"}}`
		}},
		{name: "draft 13, batch of two", holders: 2, dialect: oid4vci.DialectDraft13, body: func(p []string) string {
			return `{"format":"vc+sd-jwt","vct":"PortableDocumentA1","proofs":{"jwt":["` + strings.Join(p, `","`) + `"]}}`
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPickupEnv(t)
			d := e.pickedUp(t, tc.body, tc.holders)
			rec := e.f.store.record(d.id)
			if len(d.first.Issuance.Credentials) != tc.holders || d.first.Dialect != tc.dialect {
				t.Fatalf("first pick-up: %d credentials in %v", len(d.first.Issuance.Credentials), d.first.Dialect)
			}
			if n := e.alloc.n.Load(); n != int64(tc.holders) {
				t.Fatalf("first pick-up allocated %d status entries, want %d", n, tc.holders)
			}
			wantStatus, wantBody := pickupResponse(t, d.first)
			signs, events := e.signer.Signs(), len(e.f.events.DetailTypes())
			e.f.store.countCalls()
			for retry := 1; retry <= 2; retry++ {
				ans, err := e.pickUp(d.token, d.txn)
				if err != nil {
					t.Fatalf("retry %d: %v", retry, err)
				}
				if !slices.Equal(ans.Issuance.Credentials, d.first.Issuance.Credentials) ||
					!slices.Equal(ans.Issuance.Credentials, splitCredentials(rec.CredentialToken)) {
					t.Errorf("retry %d got other credentials than the recorded ones", retry)
				}
				if ans.Dialect != d.first.Dialect || ans.Shape != d.first.Shape || ans.Issuance.Format != d.first.Issuance.Format {
					t.Errorf("retry %d answers %v/%v/%s, the first pick-up %v/%v/%s", retry, ans.Dialect, ans.Shape,
						ans.Issuance.Format, d.first.Dialect, d.first.Shape, d.first.Issuance.Format)
				}
				legacy := tc.dialect.Legacy()
				if (ans.Issuance.CNonce != nil) != legacy || (d.first.Issuance.CNonce != nil) != legacy {
					t.Errorf("retry %d: c_nonce minted %v, first %v, want %v", retry, ans.Issuance.CNonce != nil,
						d.first.Issuance.CNonce != nil, legacy)
				} else if legacy && ans.Issuance.CNonce.Value == d.first.Issuance.CNonce.Value {
					t.Errorf("retry %d: the c_nonce of the first answer again, want a fresh one", retry)
				}
				if status, body := pickupResponse(t, ans); status != wantStatus || !jsonEqual(t, body, wantBody) {
					t.Errorf("retry %d answers %d %v, the first pick-up %d %v", retry, status, body, wantStatus, wantBody)
				}
				if ans.Issuance.NotificationID != "" || ans.Issuance.TransactionID != "" {
					t.Errorf("retry %d carries a notification_id or transaction_id", retry)
				}
			}
			want := map[string]int{"GetExchange": 2, "GetPointer": 2} // fresh draft c_nonces are stateless
			if calls := e.f.store.countCalls(); !maps.Equal(calls, want) {
				t.Errorf("store calls of two retries %v, want %v", calls, want)
			}
			if n := e.signer.Signs(); n != signs {
				t.Errorf("the retries signed %d times", n-signs)
			}
			if n := e.alloc.n.Load(); n != int64(tc.holders) {
				t.Errorf("the retries allocated %d status entries", n-int64(tc.holders))
			}
			if len(e.f.events.DetailTypes()) != events {
				t.Errorf("the retries published %v", e.f.events.DetailTypes()[events:])
			}
			if after := e.f.store.record(d.id); after.Version != rec.Version {
				t.Errorf("the retries wrote the record")
			}
		})
	}
}

// jsonEqual compares two values by their JSON encoding.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}

// TestDeferredPickupRetryRefused: only the same access token, while it is valid, with the same transaction_id
// of a credential_acked exchange is answered again; everything else keeps its error, signs nothing and writes
// nothing.
func TestDeferredPickupRetryRefused(t *testing.T) {
	tests := []struct {
		name     string
		retry    func(t *testing.T, e *pickupEnv, d deferral) (token, txn string)
		wantCode string
		wantErr  error // a store failure, not an OAuth error
	}{
		{name: "unknown transaction id", wantCode: oid4vci.ErrInvalidTransactionID,
			retry: func(_ *testing.T, _ *pickupEnv, d deferral) (string, string) { return d.token, "nope" }},
		{name: "over-long transaction id", wantCode: oid4vci.ErrInvalidTransactionID,
			retry: func(_ *testing.T, _ *pickupEnv, d deferral) (string, string) {
				return d.token, d.txn + strings.Repeat("A", 300)
			}},
		{name: "picked-up transaction id of another exchange", wantCode: oid4vci.ErrInvalidTransactionID,
			retry: func(t *testing.T, e *pickupEnv, d deferral) (string, string) {
				return d.token, e.pickedUp(t, v1Body, 1).txn
			}},
		{name: "another picked-up exchange's token with this transaction id", wantCode: oid4vci.ErrInvalidTransactionID,
			retry: func(t *testing.T, e *pickupEnv, d deferral) (string, string) {
				return e.pickedUp(t, v1Body, 1).token, d.txn
			}},
		{name: "a pending exchange's token with this transaction id", wantCode: oid4vci.ErrInvalidTransactionID,
			retry: func(t *testing.T, e *pickupEnv, d deferral) (string, string) {
				offerID, _ := e.f.offer(exchange.ModeDeferred, "")
				return e.f.mustToken(offerID, "").AccessToken, d.txn
			}},
		{name: "the access token expired", wantCode: oid4vci.ErrInvalidToken,
			retry: func(_ *testing.T, e *pickupEnv, d deferral) (string, string) {
				e.f.clock.Advance(wallet.DefaultDeferredAccessTokenTTL)
				return d.token, d.txn
			}},
		{name: "the wallet deleted the credentials", wantCode: oid4vci.ErrInvalidTransactionID,
			retry: func(t *testing.T, e *pickupEnv, d deferral) (string, string) {
				rec := e.f.store.record(d.id)
				next := rec.Clone()
				if err := next.Transition(exchange.StatusCredentialDeleted, e.f.clock.Now().Unix()); err != nil {
					t.Fatal(err)
				}
				if err := e.f.store.UpdateExchange(context.Background(), next, exchange.Expect{Version: rec.Version, Status: rec.Status}); err != nil {
					t.Fatal(err)
				}
				return d.token, d.txn
			}},
		{name: "store unavailable", wantErr: errStoreDown,
			retry: func(_ *testing.T, e *pickupEnv, d deferral) (string, string) {
				e.f.store.failOnce("GetPointer", errStoreDown)
				return d.token, d.txn
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPickupEnv(t)
			d := e.pickedUp(t, v1Body, 1)
			token, txn := tc.retry(t, e, d)
			before := e.f.store.record(d.id)
			signs := e.signer.Signs()
			ans, err := e.pickUp(token, txn)
			if ans != nil {
				t.Errorf("answered %d credentials", len(ans.Issuance.Credentials))
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || oauthCode(err) != "" {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			} else if oauthCode(err) != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
			if e.signer.Signs() != signs {
				t.Errorf("a refused retry signed")
			}
			if after := e.f.store.record(d.id); after.Version != before.Version {
				t.Errorf("a refused retry wrote the record")
			}
		})
	}
}

var errStoreDown = errors.New("store unavailable")

// TestDeferredPickupRace: a second pick-up of the same transaction id (the wallet retried before the first answer
// arrived) is recorded while the first request is in flight: between its signing and its write (its write loses),
// or between its record read and its transaction id read (the id is consumed by then). Either way the first
// request answers the recorded credentials instead of failing or recording its own, so both answers and the
// record hold one issuance.
func TestDeferredPickupRace(t *testing.T) {
	tests := []struct {
		name      string
		hook      func(st *pickupStore) *func()
		wantSigns int64
	}{
		{name: "recorded before the request's write", wantSigns: 2, // each signed; the loser's are discarded
			hook: func(st *pickupStore) *func() { return &st.beforeWrite }},
		{name: "recorded before the request's transaction id read", wantSigns: 1,
			hook: func(st *pickupStore) *func() { return &st.beforeRead }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPickupEnv(t)
			d := e.completed(t, v1Body, 1)
			var second *wallet.CredentialAnswer
			var secondErr error
			e.st.mu.Lock()
			*tc.hook(e.st) = func() { second, secondErr = e.pickUp(d.token, d.txn) }
			e.st.mu.Unlock()
			signs := e.signer.Signs()
			first, err := e.pickUp(d.token, d.txn)
			if err != nil || secondErr != nil {
				t.Fatalf("pick-ups: %v, %v", err, secondErr)
			}
			if second == nil {
				t.Fatal("the concurrent pick-up did not run")
			}
			got := e.f.store.record(d.id)
			if got.Status != exchange.StatusCredentialAcked || got.IssuedCount != 1 {
				t.Fatalf("record %s with %d credentials", got.Status, got.IssuedCount)
			}
			if !slices.Equal(first.Issuance.Credentials, second.Issuance.Credentials) ||
				!slices.Equal(first.Issuance.Credentials, splitCredentials(got.CredentialToken)) {
				t.Errorf("the racing pick-ups answered different credentials")
			}
			if n := e.signer.Signs() - signs; n != tc.wantSigns {
				t.Errorf("%d signatures, want %d", n, tc.wantSigns)
			}
			if n := e.f.store.pointerCount(exchange.PointerPickup + "#"); n != 1 {
				t.Errorf("%d PICKUP pointers, want 1", n)
			}
		})
	}
}
