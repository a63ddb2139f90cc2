package memstore_test

import (
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/internal/memstore"
	"github.com/sdjwt-issuer/issuer/shared/internal/storetest"
)

// TestContract runs the store contract against the in-memory store (shared/store runs it against DynamoDB).
func TestContract(t *testing.T) {
	storetest.Run(t, func(_ *testing.T, now func() time.Time) storetest.Store {
		return memstore.New(memstore.WithClock(now))
	})
}
