package wallet_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// walletMem is an in-memory wallet.Store with the store's semantics: expired items are absent, record
// writes are conditional on version and status machine, pointer ops join the record write atomically.
type walletMem struct {
	mu        sync.Mutex
	now       func() time.Time
	pointers  map[string]exchange.Pointer
	exchanges map[string][]byte
	versions  map[string]int64
	statuses  map[string]exchange.Status
	defs      []definition.Definition
	dyn       []definition.DynamicConfiguration
	// failNext, when set, is returned by the next call of the named method.
	failNext map[string]error
	updates  int
	// calls counts the calls of each method (the wallet steps' store round trips).
	calls map[string]int
}

func newWalletMem(now func() time.Time) *walletMem {
	return &walletMem{now: now, pointers: map[string]exchange.Pointer{}, exchanges: map[string][]byte{},
		versions: map[string]int64{}, statuses: map[string]exchange.Status{}, failNext: map[string]error{},
		calls: map[string]int{}}
}

func (m *walletMem) fail(method string) error {
	m.calls[method]++
	err := m.failNext[method]
	delete(m.failNext, method)
	return err
}

func (m *walletMem) live(p exchange.Pointer) bool { return p.ExpiresAt > m.now().Unix() }

// seed stores a record and its pointers as CreateExchange would.
func (m *walletMem) seed(rec exchange.Record, ptrs ...exchange.Pointer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ptrs {
		m.pointers[p.Key] = p
		rec.Pointers = append(rec.Pointers, p.Key)
	}
	b, err := store.MarshalExchange(&rec)
	if err != nil {
		panic(err) // test fixture bug
	}
	m.exchanges[rec.CredentialExchangeID] = b
	m.versions[rec.CredentialExchangeID] = rec.Version
	m.statuses[rec.CredentialExchangeID] = rec.Status
}

func (m *walletMem) GetPointer(_ context.Context, key string) (exchange.Pointer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("GetPointer"); err != nil {
		return exchange.Pointer{}, err
	}
	p, ok := m.pointers[key]
	if !ok || !m.live(p) {
		return exchange.Pointer{}, exchange.ErrNotFound
	}
	return p, nil
}

func (m *walletMem) PutPointer(_ context.Context, p exchange.Pointer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("PutPointer"); err != nil {
		return err
	}
	if old, ok := m.pointers[p.Key]; ok && m.live(old) {
		return exchange.ErrAlreadyExists
	}
	m.pointers[p.Key] = p
	return nil
}

func (m *walletMem) GetExchange(_ context.Context, id string) (exchange.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("GetExchange"); err != nil {
		return exchange.Record{}, err
	}
	return m.get(id)
}

func (m *walletMem) get(id string) (exchange.Record, error) {
	b, ok := m.exchanges[id]
	if !ok {
		return exchange.Record{}, exchange.ErrNotFound
	}
	rec, err := store.UnmarshalExchange(b)
	if err != nil {
		return rec, err
	}
	if rec.ExpiresAt <= m.now().Unix() {
		return exchange.Record{}, exchange.ErrNotFound
	}
	rec.Version = m.versions[id]
	return rec, nil
}

func (m *walletMem) UpdateExchange(_ context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("UpdateExchange"); err != nil {
		return err
	}
	id := rec.CredentialExchangeID
	if rec.Status != expect.Status && !exchange.CanTransition(expect.Status, rec.Status) {
		return &exchange.TransitionError{From: expect.Status, To: rec.Status}
	}
	if _, err := m.get(id); err != nil {
		return err
	}
	cur := m.statuses[id]
	if m.versions[id] != expect.Version || (cur != rec.Status && !exchange.CanTransition(cur, rec.Status)) {
		return exchange.ErrConflict
	}
	seen := map[string]bool{}
	for _, op := range ops {
		k := op.Consume
		if op.Put != nil {
			k = op.Put.Key
		}
		if seen[k] {
			return exchange.ErrConflict // DynamoDB refuses two operations on one item in a transaction
		}
		seen[k] = true
		p, ok := m.pointers[k]
		if op.Put != nil && ok {
			return exchange.ErrConflict
		}
		if op.Consume != "" && (!ok || !m.live(p) || (p.ExchangeID != "" && p.ExchangeID != id)) {
			return fmt.Errorf("%w: %w", exchange.ErrConflict, &exchange.PointerGoneError{Key: k})
		}
	}
	for _, op := range ops {
		if op.Put != nil {
			m.pointers[op.Put.Key] = *op.Put
			rec.Pointers = append(rec.Pointers, op.Put.Key)
		} else {
			delete(m.pointers, op.Consume)
		}
	}
	rec.Version = expect.Version + 1
	b, err := store.MarshalExchange(&rec)
	if err != nil {
		return err
	}
	m.exchanges[id] = b
	m.versions[id] = rec.Version
	m.statuses[id] = rec.Status
	m.updates++
	return nil
}

func (m *walletMem) ListDefinitions(_ context.Context, p exchange.PageRequest) (exchange.Page[definition.Definition], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("ListDefinitions"); err != nil {
		return exchange.Page[definition.Definition]{}, err
	}
	all := append([]definition.Definition(nil), m.defs...)
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	start := 0
	if p.Cursor != "" {
		for i, d := range all {
			if d.ID == p.Cursor {
				start = i + 1
			}
		}
	}
	end := min(start+p.Limit, len(all))
	out := exchange.Page[definition.Definition]{Items: all[start:end]}
	if end < len(all) {
		out.NextCursor = all[end-1].ID
	}
	return out, nil
}

func (m *walletMem) ListDynamicConfigurations(context.Context) ([]definition.DynamicConfiguration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("ListDynamicConfigurations"); err != nil {
		return nil, err
	}
	return append([]definition.DynamicConfiguration(nil), m.dyn...), nil
}

func (m *walletMem) record(id string) exchange.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.get(id)
	if err != nil {
		panic(err) // test fixture bug
	}
	return rec
}

func (m *walletMem) pointerCount(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, p := range m.pointers {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix && m.live(p) {
			n++
		}
	}
	return n
}

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
