package exchange

import (
	"crypto/rand"
	"io"
	"log/slog"
	"time"
)

// Detail-types of the events that are not a status of the record's machine (API.md, "Events").
const (
	// EventCredentialReady: the claims of a Deferred exchange arrived (credentialStatus pending -> ready; the
	// status itself does not change, so it has no credential.<status> event).
	EventCredentialReady = "credential.ready"
	// EventRevocationStatusChanged: the revocationStatus of the exchange's credentials changed.
	EventRevocationStatusChanged = "credential.revocation_status_changed"
)

// StatusEventPrefix starts the detail-type of a status event: credential.<status>.
const StatusEventPrefix = "credential."

// Event is a committed change as subscribers see it: detail-type `credential.<status>` for a status change, or
// one of the other changes' detail-types. Events are derived from committed writes (ChangeEvents, and
// revocation.ChangeEvents for the revocation item), never by the use case that wrote: a function that dies right
// after its write loses none (docs/design.md, "Events").
type Event struct {
	// DetailType is `credential.<status>` or the other change's type.
	DetailType string
	// ExchangeID is the record's id (safe to log).
	ExchangeID string
	// Detail is the record without claims or tokens (Record.EventDetail), Version included: the version the
	// write left the record at, so a consumer tells a delivery repeated (the same ExchangeID, DetailType and
	// Version) from a new change.
	Detail Record
	// Time is when the write happened (the record's updatedAt).
	Time time.Time
}

// Key is what identifies the event among repeated deliveries: the exchange, the detail-type and the version.
func (e *Event) Key() (exchangeID, detailType string, version int64) {
	return e.ExchangeID, e.DetailType, e.Detail.Version
}

// ChangeEvents are the events of one committed write of an exchange record: before is the record as it was (nil
// when the write created it), after as the write left it (nil when it was deleted or expired: no event). The
// record's creation is credential.<its status> (offer_sent); a status change is credential.<new status>; the
// claims of a Deferred exchange arriving (credentialStatus pending -> ready) are credential.ready; a change of
// revocationStatus is credential.revocation_status_changed; a holder's presentation verified (a new
// presentationExchangeId) is credential.presentation_verified, one refused (a new presentationFailure) is
// credential.presentation_failed. A write that changes none of these (a counter, a token hash, a delivery
// outcome) has no event. A wallet-initiated exchange created after a verified presentation has only its
// creation's event (credential.offer_received, whose detail carries the presented claims).
func ChangeEvents(before, after *Record) []Event {
	if after == nil {
		return nil
	}
	var out []Event
	add := func(detailType string) {
		out = append(out, Event{DetailType: detailType, ExchangeID: after.CredentialExchangeID, Detail: after.EventDetail(),
			Time: time.Unix(after.UpdatedAt, 0).UTC()})
	}
	if before == nil || before.Status != after.Status {
		add(StatusEventPrefix + string(after.Status))
	}
	if before == nil {
		return out
	}
	if after.PresentationExchangeID != "" && after.PresentationExchangeID != before.PresentationExchangeID {
		add(EventPresentationVerified)
	}
	if f := after.PresentationFailure; f != nil && (before.PresentationFailure == nil || *f != *before.PresentationFailure) {
		add(EventPresentationFailed)
	}
	if before.CredentialStatus == CredentialPending && after.CredentialStatus == CredentialReady {
		add(EventCredentialReady)
	}
	if before.RevocationStatus.OrOperational() != after.RevocationStatus.OrOperational() {
		add(EventRevocationStatusChanged)
	}
	return out
}

// Runtime is what every use case takes from its surroundings besides its store and its signer: the clock, the
// source of ids and secrets and the logger. The admin, wallet and revocation use cases are configured with the
// same Options.
type Runtime struct {
	now    func() time.Time
	random io.Reader
	log    *slog.Logger
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithClock sets the clock (tests); default time.Now.
func WithClock(now func() time.Time) Option { return func(r *Runtime) { r.now = now } }

// WithRandom sets the source of ids and secrets (tests); default crypto/rand.
func WithRandom(random io.Reader) Option { return func(r *Runtime) { r.random = random } }

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
