package revocation_test

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// memStatusStore is an in-memory revocation.Store with the conditions of the DynamoDB store.
type memStatusStore struct {
	mu        sync.Mutex
	exchanges map[string]exchange.Record
	// revocations are the revocation items by exchange id (the store writes them with the issuance).
	revocations map[string]revocation.Record
	counters    map[statuslist.ListID]*memCounter
	heads       map[int]int
	lists       map[statuslist.ListID]*memList

	// failCommits makes the next n CommitRevocation calls lose with ErrConflict (a concurrent writer).
	failCommits int
	// now, when set, makes a record past its ExpiresAt absent, as the DynamoDB store does before TTL deletes it.
	now func() time.Time
	// failPutToken makes PutStatusListToken fail with this error.
	failPutToken error
	// failReserve makes ReserveStatusEntry fail with this error.
	failReserve error
	commits     int
}

type memCounter struct {
	next int
	key  uint64
}

type memList struct {
	bytes   []byte // nil: all VALID
	version int64
	token   revocation.StoredStatusToken
	lease   int64
}

func newMemStatusStore() *memStatusStore {
	return &memStatusStore{exchanges: map[string]exchange.Record{}, revocations: map[string]revocation.Record{},
		counters: map[statuslist.ListID]*memCounter{}, heads: map[int]int{}, lists: map[statuslist.ListID]*memList{}}
}

func (m *memStatusStore) putExchange(rec exchange.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exchanges[rec.CredentialExchangeID] = rec.Clone()
}

func (m *memStatusStore) GetExchange(_ context.Context, id string) (exchange.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.exchanges[id]
	if !ok || (m.now != nil && rec.ExpiresAt != 0 && rec.ExpiresAt <= m.now().Unix()) {
		return exchange.Record{}, exchange.ErrNotFound
	}
	return rec.Clone(), nil
}

func (m *memStatusStore) ReserveStatusEntry(_ context.Context, id statuslist.ListID, capacity int, proposedKey uint64) (int, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failReserve != nil {
		return 0, 0, m.failReserve
	}
	c, ok := m.counters[id]
	if !ok {
		c = &memCounter{key: proposedKey}
		m.counters[id] = c
	}
	if c.next >= capacity {
		return 0, 0, revocation.ErrStatusListFull
	}
	c.next++
	return c.next - 1, c.key, nil
}

func (m *memStatusStore) ShardGenerations(_ context.Context, shards int) ([]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gens := make([]int, shards)
	for s := range gens {
		gens[s] = m.heads[s]
	}
	return gens, nil
}

func (m *memStatusStore) AdvanceShard(_ context.Context, shard, from int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.heads[shard] == from {
		m.heads[shard] = from + 1
	}
	return m.heads[shard], nil
}

func (m *memStatusStore) list(id statuslist.ListID) *memList {
	l, ok := m.lists[id]
	if !ok {
		l = &memList{}
		m.lists[id] = l
	}
	return l
}

func (m *memStatusStore) GetStatusList(_ context.Context, id statuslist.ListID, layout statuslist.Layout) (revocation.StatusListState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.list(id)
	var list *statuslist.List
	var err error
	if l.bytes == nil {
		list, err = layout.NewList()
	} else {
		list, err = statuslist.FromBytes(layout.Bits, l.bytes)
	}
	if err != nil {
		return revocation.StatusListState{}, err
	}
	return revocation.StatusListState{ID: id, List: list, Version: l.version}, nil
}

// putIssued stores rec as the issuing write of the DynamoDB store does: the record and, when
// revocation.OnIssue says so for a write from offer_received, its revocation item.
func (m *memStatusStore) putIssued(rec exchange.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exchanges[rec.CredentialExchangeID] = rec.Clone()
	if r, ok := revocation.OnIssue(&rec, exchange.StatusOfferReceived); ok {
		m.revocations[rec.CredentialExchangeID] = r
	}
}

// dropExchange removes the exchange record only (its retention passed, or the organisation deleted it).
func (m *memStatusStore) dropExchange(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.exchanges, id)
}

func (m *memStatusStore) revocation(id string) (revocation.Record, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.revocations[id]
	return r, ok
}

func (m *memStatusStore) GetRevocation(_ context.Context, id string) (revocation.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.revocations[id]
	if !ok {
		return revocation.Record{}, exchange.ErrNotFound
	}
	r.Entries = append([]exchange.StatusEntry(nil), r.Entries...)
	return r, nil
}

func (m *memStatusStore) CommitRevocation(_ context.Context, c revocation.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits++
	if m.failCommits > 0 {
		m.failCommits--
		return exchange.ErrConflict
	}
	id := c.Revocation.ExchangeID
	cur, exists := m.revocations[id]
	if c.Create == exists || (exists && cur.Version != c.Revocation.Version-1) {
		return exchange.ErrConflict
	}
	if c.Record != nil {
		rec, ok := m.exchanges[id]
		if !ok || (m.now != nil && rec.ExpiresAt != 0 && rec.ExpiresAt <= m.now().Unix()) || c.Record.CredentialExchangeID != id || rec.Version != c.Expect.Version ||
			rec.Status != c.Expect.Status || c.Record.Status != c.Expect.Status {
			return exchange.ErrConflict
		}
	}
	for _, s := range c.Lists {
		if m.list(s.ID).version != s.Version {
			return exchange.ErrConflict
		}
	}
	for _, s := range c.Lists {
		l := m.list(s.ID)
		l.bytes, l.version = s.List.Bytes(), s.Version+1
	}
	if c.Record != nil {
		rec := c.Record.Clone()
		rec.Version = c.Expect.Version + 1
		m.exchanges[id] = rec
	}
	r := c.Revocation
	r.Entries = append([]exchange.StatusEntry(nil), r.Entries...)
	m.revocations[id] = r
	return nil
}

func (m *memStatusStore) GetStatusListToken(_ context.Context, id statuslist.ListID) (revocation.StatusListRead, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.lists[id]
	if !ok {
		_, opened := m.counters[id]
		return revocation.StatusListRead{Exists: opened}, nil
	}
	return revocation.StatusListRead{Exists: true, ListVersion: l.version, Token: l.token}, nil
}

func (m *memStatusStore) ClaimStatusListSigning(_ context.Context, id statuslist.ListID, now, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.list(id)
	if l.lease > now.Unix() {
		return false, nil
	}
	l.lease = until.Unix()
	return true, nil
}

func (m *memStatusStore) PutStatusListToken(_ context.Context, id statuslist.ListID, tok revocation.StoredStatusToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPutToken != nil {
		return m.failPutToken
	}
	l := m.list(id)
	if l.token.Token != "" && (l.token.Version > tok.Version || (l.token.Version == tok.Version && l.token.ExpiresAt >= tok.ExpiresAt && l.token.Subject == tok.Subject)) {
		return exchange.ErrConflict
	}
	l.token, l.lease = tok, 0
	return nil
}

// statuses returns the status of each entry as the store holds it.
func (m *memStatusStore) statuses(layout statuslist.Layout, entries []exchange.StatusEntry) ([]statuslist.Status, error) {
	out := make([]statuslist.Status, len(entries))
	for i, e := range entries {
		id, err := statuslist.ParseListID(e.List)
		if err != nil {
			return nil, err
		}
		st, err := m.GetStatusList(context.Background(), id, layout)
		if err != nil {
			return nil, err
		}
		if out[i], err = st.List.Get(e.Index); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errReader fails every read (a broken entropy source).
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }
