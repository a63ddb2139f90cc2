package jwtverify

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

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
//
// It is best effort by nature: a replay sent to another container is not in its memory. So when it is full of live
// entries it forgets the oldest ones rather than refusing requests: anyone can fill it (a DPoP proof over a key of
// one's own verifies, and is remembered before the request's code or token is looked at), and refusing would let
// such a flood shut every wallet out of the container, while a forgotten proof is only as replayable here as it
// already is at any other container.
type MemoryReplayCache struct {
	mu    sync.Mutex
	seen  map[[sha256.Size]byte]time.Time
	order [][sha256.Size]byte // keys in the order they were remembered; may name keys already dropped
	max   int
	now   func() time.Time
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

// Remember implements ReplayCache. It never fails: when full, the oldest entries are forgotten.
func (c *MemoryReplayCache) Remember(_ context.Context, id string, until time.Time) (bool, error) {
	key := sha256.Sum256([]byte(id))
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	// Proofs arrive in about the order they expire (every window has the same length), so the front of the order
	// holds the expired entries and, when the cache is full, the oldest live ones. Each key leaves the order once:
	// amortised constant work per call.
	for len(c.order) > 0 {
		front := c.order[0]
		exp, live := c.seen[front]
		live = live && now.Before(exp)
		if live && len(c.seen) < c.max {
			break
		}
		c.order = c.order[1:]
		delete(c.seen, front) // expired, or the oldest when full (a no-op for a key already dropped)
	}
	c.seen[key] = until
	c.order = append(c.order, key)
	return true, nil
}

// Len is the number of entries held, expired ones included until they are swept.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
