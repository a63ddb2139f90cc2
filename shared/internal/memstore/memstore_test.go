package memstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/internal/storetest"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// TestContract runs the store contract against the in-memory store (shared/store runs it against DynamoDB).
func TestContract(t *testing.T) {
	storetest.Run(t, func(_ *testing.T, now func() time.Time) (storetest.Store, storetest.Changes) {
		var mu sync.Mutex
		var changes []store.Change
		st := memstore.New(memstore.WithClock(now), memstore.WithChanges(func(c store.Change) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, c)
		}))
		return st, func() []store.Change {
			mu.Lock()
			defer mu.Unlock()
			return append([]store.Change(nil), changes...)
		}
	})
}
