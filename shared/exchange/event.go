package exchange

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"time"
)

// Event is a change published to subscribers: detail-type `credential.<status>` for a status change, or the
// detail-type of another change (deferred claims ready, revocation status changed).
type Event struct {
	// DetailType is `credential.<status>` or the other change's type.
	DetailType string
	// ExchangeID is the record's id (safe to log).
	ExchangeID string
	// Detail is the record without claims or tokens (Record.EventDetail).
	Detail Record
	// Time is when the change happened.
	Time time.Time
}

// EventPublisher publishes changes (EventBridge, or the log locally).
type EventPublisher interface {
	Publish(ctx context.Context, e Event) error
}

// StatusEvent builds the event of rec's current status.
func StatusEvent(rec *Record, at time.Time) Event {
	return Event{DetailType: "credential." + string(rec.Status), ExchangeID: rec.CredentialExchangeID,
		Detail: rec.EventDetail(), Time: at}
}

// Runtime is what every use case takes from its surroundings besides its store and its signer: the clock, the
// source of ids and secrets, the publisher of changes and the logger. The admin, wallet and revocation use cases
// are configured with the same Options.
type Runtime struct {
	now    func() time.Time
	random io.Reader
	events EventPublisher
	log    *slog.Logger
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithClock sets the clock (tests); default time.Now.
func WithClock(now func() time.Time) Option { return func(r *Runtime) { r.now = now } }

// WithRandom sets the source of ids and secrets (tests); default crypto/rand.
func WithRandom(random io.Reader) Option { return func(r *Runtime) { r.random = random } }

// WithEvents sets the publisher of changes; without one, nothing is published.
func WithEvents(p EventPublisher) Option { return func(r *Runtime) { r.events = p } }

// WithLogger sets the logger (which never receives claim values or secrets); default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(r *Runtime) { r.log = l } }

// NewRuntime applies opts over the defaults.
func NewRuntime(opts ...Option) Runtime {
	r := Runtime{now: time.Now, random: rand.Reader, log: slog.Default()}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// Now is the current time.
func (r *Runtime) Now() time.Time { return r.now() }

// Unix is the current time in unix seconds.
func (r *Runtime) Unix() int64 { return r.now().Unix() }

// Random is the source of ids and secrets.
func (r *Runtime) Random() io.Reader { return r.random }

// Log is the logger.
func (r *Runtime) Log() *slog.Logger { return r.log }

// Publish sends e. A failed publication is logged (type and exchange id only) and does not undo the change that
// was already stored.
func (r *Runtime) Publish(ctx context.Context, e Event) {
	if r.events == nil {
		return
	}
	if err := r.events.Publish(ctx, e); err != nil {
		r.log.WarnContext(ctx, "publish event failed", slog.String("detail_type", e.DetailType),
			slog.String("credential_exchange_id", e.ExchangeID), slog.String("error", err.Error()))
	}
}

// PublishStatus publishes the status event of rec (StatusEvent), like Publish.
func (r *Runtime) PublishStatus(ctx context.Context, rec *Record) {
	r.Publish(ctx, StatusEvent(rec, r.now()))
}

// PublishAs publishes rec's event under detailType instead of its status's, like Publish.
func (r *Runtime) PublishAs(ctx context.Context, detailType string, rec *Record) {
	e := StatusEvent(rec, r.now())
	e.DetailType = detailType
	r.Publish(ctx, e)
}
