package admin_test

import (
	"context"
	"sort"
	"strconv"
	"sync"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// memStore is an in-memory admin.Store with the same conditions as the DynamoDB store (retention is the
// store's concern and tested there).
type memStore struct {
	mu          sync.Mutex
	defs        map[string]definition.Definition
	exchanges   map[string][]byte
	pointers    map[string]exchange.Pointer
	individuals map[string]admin.Individual
	dynamic     map[string]definition.DynamicConfiguration
	failGetDef  error
}

func newMemStore() *memStore {
	return &memStore{defs: map[string]definition.Definition{}, exchanges: map[string][]byte{},
		pointers: map[string]exchange.Pointer{}, individuals: map[string]admin.Individual{},
		dynamic: map[string]definition.DynamicConfiguration{}}
}

func (m *memStore) CreateDefinition(_ context.Context, d definition.Definition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.defs[d.ID]; ok {
		return exchange.ErrAlreadyExists
	}
	m.defs[d.ID] = d
	return nil
}

func (m *memStore) GetDefinition(_ context.Context, id string) (definition.Definition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failGetDef != nil {
		return definition.Definition{}, m.failGetDef
	}
	d, ok := m.defs[id]
	if !ok {
		return d, exchange.ErrNotFound
	}
	return d, nil
}

func (m *memStore) ReplaceDefinition(_ context.Context, d definition.Definition, v int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.defs[d.ID]
	if !ok {
		return exchange.ErrNotFound
	}
	if old.Version != v {
		return exchange.ErrConflict
	}
	m.defs[d.ID] = d
	return nil
}

func (m *memStore) DeleteDefinition(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.defs[id]; !ok {
		return exchange.ErrNotFound
	}
	delete(m.defs, id)
	return nil
}

func (m *memStore) ListDefinitions(_ context.Context, p exchange.PageRequest) (exchange.Page[definition.Definition], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []definition.Definition
	for _, d := range m.defs {
		all = append(all, d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt > all[j].CreatedAt })
	return page(all, p)
}

func page[T any](all []T, p exchange.PageRequest) (exchange.Page[T], error) {
	start := 0
	if p.Cursor != "" {
		n, err := strconv.Atoi(p.Cursor)
		if err != nil || n < 0 || n > len(all) {
			return exchange.Page[T]{}, exchange.ErrInvalidCursor
		}
		start = n
	}
	end := min(start+p.Limit, len(all))
	out := exchange.Page[T]{Items: all[start:end]}
	if end < len(all) {
		out.NextCursor = strconv.Itoa(end)
	}
	return out, nil
}

func (m *memStore) CreateExchange(_ context.Context, rec exchange.Record, ptrs []exchange.Pointer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.exchanges[rec.CredentialExchangeID]; ok {
		return exchange.ErrAlreadyExists
	}
	for _, p := range ptrs {
		if _, ok := m.pointers[p.Key]; ok {
			return exchange.ErrAlreadyExists
		}
	}
	b, err := store.MarshalExchange(&rec)
	if err != nil {
		return err
	}
	m.exchanges[rec.CredentialExchangeID] = b
	for _, p := range ptrs {
		m.pointers[p.Key] = p
	}
	return nil
}

func (m *memStore) get(id string) (exchange.Record, error) {
	b, ok := m.exchanges[id]
	if !ok {
		return exchange.Record{}, exchange.ErrNotFound
	}
	return store.UnmarshalExchange(b)
}

func (m *memStore) GetExchange(_ context.Context, id string) (exchange.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.get(id)
}

func (m *memStore) UpdateExchange(_ context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec.Status != expect.Status && !exchange.CanTransition(expect.Status, rec.Status) {
		return &exchange.TransitionError{From: expect.Status, To: rec.Status}
	}
	cur, err := m.get(rec.CredentialExchangeID)
	if err != nil {
		return err
	}
	if cur.Version != expect.Version || cur.Status != expect.Status {
		return exchange.ErrConflict
	}
	for _, op := range ops {
		if op.Consume != "" {
			if _, ok := m.pointers[op.Consume]; !ok {
				return exchange.ErrConflict
			}
		}
	}
	rec.Version = expect.Version + 1
	b, err := store.MarshalExchange(&rec)
	if err != nil {
		return err
	}
	m.exchanges[rec.CredentialExchangeID] = b
	for _, op := range ops {
		if op.Put != nil {
			m.pointers[op.Put.Key] = *op.Put
		} else {
			delete(m.pointers, op.Consume)
		}
	}
	return nil
}

func (m *memStore) DeleteExchange(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.get(id)
	if err != nil {
		return err
	}
	for _, k := range rec.Pointers {
		delete(m.pointers, k)
	}
	delete(m.exchanges, id)
	return nil
}

func (m *memStore) ListExchanges(_ context.Context, f exchange.Filter, p exchange.PageRequest) (exchange.Page[exchange.Record], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []exchange.Record
	for id := range m.exchanges {
		r, _ := m.get(id)
		if (f.Status == "" || r.Status == f.Status) && (f.CredentialDefinitionID == "" || r.CredentialDefinitionID == f.CredentialDefinitionID) {
			all = append(all, r)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedNanos > all[j].CreatedNanos })
	return page(all, p)
}

func (m *memStore) PutIndividual(_ context.Context, ind admin.Individual) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.individuals[ind.IndividualID] = ind
	return nil
}

func (m *memStore) GetIndividual(_ context.Context, id string) (admin.Individual, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ind, ok := m.individuals[id]
	if !ok {
		return ind, exchange.ErrNotFound
	}
	return ind, nil
}

func (m *memStore) DeleteIndividual(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.individuals[id]; !ok {
		return exchange.ErrNotFound
	}
	delete(m.individuals, id)
	return nil
}

func (m *memStore) PutDynamicConfiguration(_ context.Context, c definition.DynamicConfiguration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dynamic[c.ConfigurationID] = c
	return nil
}

func (m *memStore) ListDynamicConfigurations(context.Context) ([]definition.DynamicConfiguration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []definition.DynamicConfiguration
	for _, c := range m.dynamic {
		out = append(out, c)
	}
	return out, nil
}
