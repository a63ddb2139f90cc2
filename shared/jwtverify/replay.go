package jwtverify

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// ErrReplayCacheFull is what MemoryReplayCache.Remember returns when it holds its maximum of live entries: the
// request is refused (fail closed) rather than an entry dropped, which would let its proof be replayed.
var ErrReplayCacheFull = errors.New("replay cache full")

// ReplayCache remembers the identifiers (jti) of accepted proofs for as long as the proofs could be accepted.
type ReplayCache interface {
	// Remember records id until the given time. It returns false when id is already remembered: a replay.
	Remember(ctx context.Context, id string, until time.Time) (fresh bool, err error)
}

// DefaultReplayEntries is the size NewMemoryReplayCache uses for max <= 0. One entry is about 100 bytes; a Lambda
// container serves one request at a time, so 65536 entries within a 6-minute proof window is more than 180
// requests per second in one container.
const DefaultReplayEntries = 1 << 16

// MemoryReplayCache is a ReplayCache in the memory of one process (one Lambda container). Entries are kept by the
// SHA-256 of their id and dropped once expired.
type MemoryReplayCache struct {
	mu   sync.Mutex
	seen map[[sha256.Size]byte]time.Time
	max  int
	now  func() time.Time
}

// NewMemoryReplayCache returns an empty cache of at most max live entries (DefaultReplayEntries when max <= 0).
func NewMemoryReplayCache(max int) *MemoryReplayCache {
	if max <= 0 {
		max = DefaultReplayEntries
	}
	return &MemoryReplayCache{seen: map[[sha256.Size]byte]time.Time{}, max: max, now: time.Now}
}

// WithClock sets the clock that decides expiry (tests).
func (c *MemoryReplayCache) WithClock(now func() time.Time) *MemoryReplayCache {
	c.now = now
	return c
}

// Remember implements ReplayCache.
func (c *MemoryReplayCache) Remember(_ context.Context, id string, until time.Time) (bool, error) {
	key := sha256.Sum256([]byte(id))
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(c.seen) >= c.max {
		for k, exp := range c.seen {
			if !now.Before(exp) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= c.max {
			return false, ErrReplayCacheFull
		}
	}
	c.seen[key] = until
	return true, nil
}

// Len is the number of entries held, expired ones included until the next sweep.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
