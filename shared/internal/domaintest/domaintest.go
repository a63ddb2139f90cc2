// Package domaintest holds the test doubles that the tests of the use case packages (admin, wallet, revocation)
// share: a definition spec, a recorder of the events their writes call for, a settable clock and a signing key that counts its signatures. Only tests import it.
package domaintest

import (
	"context"
	"crypto"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// DefinitionSpec is a valid definition spec (Portable Document A1) with claims of every path shape: a mandatory
// name, an object and a member of it, every element of an array, and an index given as a JSON number.
func DefinitionSpec() definition.Spec {
	return definition.Spec{Label: "Portable Document A1", CredentialFormat: "dc+sd-jwt", VCT: "PortableDocumentA1",
		ExpirationInDays: 365, SupportRevocation: true,
		Claims: []definition.Claim{{Path: []any{"given_name"}, Mandatory: true, LimitDisclosure: true},
			{Path: []any{"address"}, LimitDisclosure: true}, {Path: []any{"address", "street_address"}, LimitDisclosure: true},
			{Path: []any{"nationalities", nil}, LimitDisclosure: true}, {Path: []any{"list", json.Number("0")}}},
		Display: []definition.Display{{Name: "Portable Document A1", Locale: "en-GB"}}}
}

// Events records the events the committed writes of a store call for, as the publisher derives them from the
// table's stream: pass Record to memstore.WithChanges.
type Events struct {
	mu     sync.Mutex
	events []exchange.Event
}

// Record records the events of one committed write (store.Change.Events).
func (e *Events) Record(c store.Change) {
	evs := c.Events()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, evs...)
}

// All returns the recorded events in order (a copy).
func (e *Events) All() []exchange.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]exchange.Event(nil), e.events...)
}

// DetailTypes returns the detail-type of every recorded event in order.
func (e *Events) DetailTypes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, len(e.events))
	for i, ev := range e.events {
		out[i] = ev.DetailType
	}
	return out
}

// Epoch is where the settable clocks of tests that write to DynamoDB Local start: a fixed instant far ahead of
// the real clock. DynamoDB Local sweeps TTL by the real clock (about every second it deletes the items whose ttl
// is behind it, at least those carrying every indexed attribute), so a test clock behind the real one makes the
// items a test just wrote vanish before it reads them, the more often the busier the machine: the fixtures once
// started on the day they were written (2026-11-27) and began losing records of a 24-hour ttl a day later.
var Epoch = time.Date(2126, 11, 27, 12, 0, 0, 0, time.UTC)

// Clock is a settable clock that a use case and its store share.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time (a func() time.Time for exchange.WithClock and the stores' WithClock).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// CountingSigner is a local ES256 issuer key that counts its signatures (KMS Sign calls in production).
type CountingSigner struct {
	*keys.LocalSigner
	signs atomic.Int64
}

// NewCountingSigner returns a CountingSigner over a fresh local key.
func NewCountingSigner() (*CountingSigner, error) {
	s, err := keys.NewLocal()
	if err != nil {
		return nil, err
	}
	return &CountingSigner{LocalSigner: s}, nil
}

// CountSignatures returns a CountingSigner over s.
func CountSignatures(s *keys.LocalSigner) *CountingSigner { return &CountingSigner{LocalSigner: s} }

// CryptoSigner returns the key's signer, counting each signature.
func (c *CountingSigner) CryptoSigner(ctx context.Context) crypto.Signer {
	return countedSigner{Signer: c.LocalSigner.CryptoSigner(ctx), n: &c.signs}
}

// Signs is the number of signatures made so far.
func (c *CountingSigner) Signs() int64 { return c.signs.Load() }

type countedSigner struct {
	crypto.Signer
	n *atomic.Int64
}

// Sign counts and signs.
func (c countedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(r, digest, opts)
}
