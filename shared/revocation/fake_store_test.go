package revocation_test

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// memStatusStore is the in-memory store (shared/internal/memstore, held to the DynamoDB store's contract) with
// what the status list tests add: commits that lose, failing token writes and reservations, and a count of
// commits.
type memStatusStore struct {
	*memstore.Store
	mu sync.Mutex
	// failCommits makes the next n CommitRevocation calls lose with ErrConflict (a concurrent writer).
	failCommits int
	// failPutToken makes PutStatusListToken fail with this error.
	failPutToken error
	// failReserve makes ReserveStatusEntry fail with this error.
	failReserve error
	commits     int
}

// newMemStatusStore is the memory store on clock now, its writes' events recorded in events.
func newMemStatusStore(now func() time.Time, events *domaintest.Events) *memStatusStore {
	return &memStatusStore{Store: memstore.New(memstore.WithClock(now), memstore.WithChanges(events.Record))}
}

func (m *memStatusStore) CommitRevocation(ctx context.Context, c revocation.Commit) error {
	m.mu.Lock()
	m.commits++
	lose := m.failCommits > 0
	if lose {
		m.failCommits--
	}
	m.mu.Unlock()
	if lose {
		return exchange.ErrConflict
	}
	return m.Store.CommitRevocation(ctx, c)
}

func (m *memStatusStore) PutStatusListToken(ctx context.Context, id statuslist.ListID, tok revocation.StoredStatusToken) error {
	m.mu.Lock()
	err := m.failPutToken
	m.mu.Unlock()
	if err != nil {
		return err
	}
	return m.Store.PutStatusListToken(ctx, id, tok)
}

func (m *memStatusStore) ReserveStatusEntry(ctx context.Context, id statuslist.ListID, capacity int, proposedKey uint64) (int, uint64, error) {
	m.mu.Lock()
	err := m.failReserve
	m.mu.Unlock()
	if err != nil {
		return 0, 0, err
	}
	return m.Store.ReserveStatusEntry(ctx, id, capacity, proposedKey)
}

// putExchange stores rec as it is.
func (m *memStatusStore) putExchange(rec exchange.Record) {
	if err := m.Seed(rec); err != nil {
		panic(err) // test fixture bug
	}
}

// putIssued stores rec as the issuing write of the store does: the record and, when revocation.OnIssue says so
// for a write from offer_received, its revocation item.
func (m *memStatusStore) putIssued(rec exchange.Record) {
	m.putExchange(rec)
	if r, ok := revocation.OnIssue(&rec, exchange.StatusOfferReceived); ok {
		m.SeedRevocation(r)
	}
}

// dropExchange removes the exchange record only (its retention passed, or the organisation deleted it).
func (m *memStatusStore) dropExchange(id string) { m.DropExchange(id) }

// revocation is the revocation item of an exchange, if there is a live one.
func (m *memStatusStore) revocation(id string) (revocation.Record, bool) {
	r, err := m.GetRevocation(context.Background(), id)
	return r, err == nil
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
