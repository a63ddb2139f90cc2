package wallet_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// walletMem is the in-memory store (shared/internal/memstore, held to the DynamoDB store's contract) with what
// the wallet tests add: the next call of a method can be made to fail, and the calls of each method are counted
// (the wallet steps' store round trips).
type walletMem struct {
	*memstore.Store
	mu sync.Mutex
	// failNext, when set, is returned by the next call of the named method.
	failNext map[string]error
	calls    map[string]int
}

// newWalletMem is the memory store on clock now, its writes' events recorded in events.
func newWalletMem(now func() time.Time, events *domaintest.Events) *walletMem {
	return &walletMem{Store: memstore.New(memstore.WithClock(now), memstore.WithChanges(events.Record)), failNext: map[string]error{},
		calls: map[string]int{}}
}

// call counts a call of method and returns the failure set for it, once.
func (m *walletMem) call(method string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[method]++
	err := m.failNext[method]
	delete(m.failNext, method)
	return err
}

// failOnce makes the next call of method fail with err.
func (m *walletMem) failOnce(method string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failNext[method] = err
}

func (m *walletMem) GetPointer(ctx context.Context, key string) (exchange.Pointer, error) {
	if err := m.call("GetPointer"); err != nil {
		return exchange.Pointer{}, err
	}
	return m.Store.GetPointer(ctx, key)
}

func (m *walletMem) PutPointer(ctx context.Context, p exchange.Pointer) error {
	if err := m.call("PutPointer"); err != nil {
		return err
	}
	return m.Store.PutPointer(ctx, p)
}

func (m *walletMem) GetExchange(ctx context.Context, id string) (exchange.Record, error) {
	if err := m.call("GetExchange"); err != nil {
		return exchange.Record{}, err
	}
	return m.Store.GetExchange(ctx, id)
}

func (m *walletMem) UpdateExchange(ctx context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	if err := m.call("UpdateExchange"); err != nil {
		return err
	}
	return m.Store.UpdateExchange(ctx, rec, expect, ops...)
}

func (m *walletMem) ListDefinitions(ctx context.Context, p exchange.PageRequest) (exchange.Page[definition.Definition], error) {
	if err := m.call("ListDefinitions"); err != nil {
		return exchange.Page[definition.Definition]{}, err
	}
	return m.Store.ListDefinitions(ctx, p)
}

func (m *walletMem) ListDynamicConfigurations(ctx context.Context) ([]definition.DynamicConfiguration, error) {
	if err := m.call("ListDynamicConfigurations"); err != nil {
		return nil, err
	}
	return m.Store.ListDynamicConfigurations(ctx)
}

// seed stores a record and its pointers as CreateExchange would.
func (m *walletMem) seed(rec exchange.Record, ptrs ...exchange.Pointer) {
	if err := m.Seed(rec, ptrs...); err != nil {
		panic(err) // test fixture bug
	}
}

// define stores definitions (the metadata lists them).
func (m *walletMem) define(defs ...definition.Definition) {
	for _, d := range defs {
		if err := m.CreateDefinition(context.Background(), d); err != nil {
			panic(err) // test fixture bug
		}
	}
}

// redefine replaces a stored definition with d (same id and version).
func (m *walletMem) redefine(d definition.Definition) {
	if err := m.ReplaceDefinition(context.Background(), d, d.Version); err != nil {
		panic(err) // test fixture bug
	}
}

// record reads a record that must exist, without counting the call.
func (m *walletMem) record(id string) exchange.Record {
	rec, err := m.Store.GetExchange(context.Background(), id)
	if err != nil {
		panic(err) // test fixture bug
	}
	return rec
}

// pointerCount counts the live pointers whose key starts with prefix.
func (m *walletMem) pointerCount(prefix string) int { return m.LivePointers(prefix) }

// countCalls returns the calls of each method since the last countCalls and resets the count.
func (m *walletMem) countCalls() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.calls
	m.calls = map[string]int{}
	return out
}

// mustStored is the stored JSON of a record.
func mustStored(t *testing.T, rec exchange.Record) []byte {
	t.Helper()
	b, err := store.MarshalExchange(&rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
