package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// StatusChangedEvent is the detail-type of the event of a write that changes an exchange's revocationStatus (its
// detail is the record, whose revocationStatus is the new one): derived from the exchange record's change while
// the record exists (exchange.ChangeEvents), from the revocation item's once it is gone (ChangeEvents). The
// `credential.<status>` events stay reserved for the exchange's status machine.
const StatusChangedEvent = exchange.EventRevocationStatusChanged

// Errors of SetRevocationStatus; check them with errors.Is.
var (
	// ErrNotSupported: the exchange's credential definition has supportRevocation false, so its
	// credentials carry no status list entry.
	ErrNotSupported = errors.New("the credential definition of this exchange does not support " +
		"revocation (supportRevocation is false): its credentials carry no status list entry")
	// ErrRevokedIsFinal: the credentials were revoked; Revoked cannot change any more.
	ErrRevokedIsFinal = errors.New("the credentials of this exchange are revoked and Revoked is final; issue a " +
		"new credential instead")
	// ErrNoCredentialIssued: no credential of the exchange was issued yet, so there is no status list entry to
	// change (deny or delete the offer instead).
	ErrNoCredentialIssued = errors.New("no credential of this exchange has been issued yet, so there is no " +
		"status to change; deny or delete the offer instead")
)

// revokedFinal is ErrRevokedIsFinal that also matches statuslist.ErrRevokedIsFinal and
// exchange.ErrTransitionRefused.
type revokedFinal struct{}

// Error implements error.
func (revokedFinal) Error() string { return ErrRevokedIsFinal.Error() }

// Is makes errors.Is match ErrRevokedIsFinal, statuslist.ErrRevokedIsFinal and exchange.ErrTransitionRefused.
func (revokedFinal) Is(target error) bool {
	return target == ErrRevokedIsFinal || target == statuslist.ErrRevokedIsFinal || target == exchange.ErrTransitionRefused
}

// maxConflictRetries bounds how often a revocation re-reads and retries after losing a conditional write.
const maxConflictRetries = 5

// maxTransactionLists bounds the lists one revocation writes: DynamoDB transactions hold 100 items, two of
// which are the revocation item and the exchange record.
const maxTransactionLists = 98

// ExpiryMargin is added to the latest `exp` of an exchange's credentials to give the ttl of its
// revocation item: the credentials' exp is computed a moment after the issuing write's updatedAt, and clocks
// and calendars (AddDate across a time zone change) differ by less than this.
const ExpiryMargin = 24 * time.Hour

// Record is what revocation needs of an issued exchange, kept apart from the exchange record so that
// the credentials stay revocable after the record (which holds personal data) has expired or been deleted:
// the status entries, the current revocationStatus, the definition id and a version. It holds no claims, no
// tokens, no proofs and no holder key. The store keeps it as the item REVOCATION#<exchangeId>, written in the
// transaction that records the issuance (OnIssue) and never deleted with the exchange record.
type Record struct {
	// ExchangeID is the credentialExchangeId of the exchange whose credentials these are.
	ExchangeID string
	// DefinitionID is the exchange's credentialDefinitionId ("" for a definition derived from credential.type).
	DefinitionID string
	// Entries are the status list entries of every credential of the exchange, one per credential.
	Entries []exchange.StatusEntry
	// RevocationStatus is the current status of all of them.
	RevocationStatus exchange.RevocationStatus
	// Version increments on every write (1 when written with the issuance); writes are conditional on it.
	Version int64
	// UpdatedAt is when the item was last written (unix seconds).
	UpdatedAt int64
	// ExpiresAt is the item's ttl (unix seconds): the latest exp of the credentials plus
	// ExpiryMargin, and never before the exchange record's own ttl; 0 when the credentials have no
	// exp (the item then lives as long as the status lists do).
	ExpiresAt int64
	// RecordWritten says that the write of this item also wrote the exchange record (the issuance, or a status
	// change while the record exists): that record's change then carries the event of the write. False when the
	// record was gone (expired or deleted): the item's own change carries it (ChangeEvents).
	RecordWritten bool
	// RecordVersion is the version the event of the item's last write reports: the exchange record's new version
	// when RecordWritten, else the previous RecordVersion plus one. So the credential.revocation_status_changed
	// events of an exchange carry increasing versions whichever item they are derived from (0 in items written
	// before versions were kept).
	RecordVersion int64
}

// ChangeEvents are the events of one committed write of a revocation item, before as it was (nil: the write
// created it) and after as the write left it (nil: deleted or expired, no event): a change of its
// revocationStatus made without the exchange record (after.RecordWritten false; the record's own change
// reports the others) is credential.revocation_status_changed with the item's minimal record (Record) as
// detail and RecordVersion as its version. Creating the item with the issuance changes no status.
func ChangeEvents(before, after *Record) []exchange.Event {
	if after == nil || after.RecordWritten {
		return nil
	}
	from := exchange.RevocationOperational
	if before != nil {
		from = before.RevocationStatus.OrOperational()
	}
	if after.RevocationStatus.OrOperational() == from {
		return nil
	}
	detail := after.Record()
	detail.Version = after.RecordVersion
	return []exchange.Event{{DetailType: StatusChangedEvent, ExchangeID: after.ExchangeID, Detail: detail.EventDetail(),
		Time: time.Unix(after.UpdatedAt, 0).UTC()}}
}

// Record renders the revocation record in the shape of the history record, for when the exchange record is
// gone: credentialExchangeId, credentialDefinitionId, supportRevocation (true), revocationStatus and updatedAt
// are set, every other field is empty (rendered as "", false, 0, null, {} or [] like any record).
func (r Record) Record() exchange.Record {
	return exchange.Record{CredentialExchangeID: r.ExchangeID, CredentialDefinitionID: r.DefinitionID,
		SupportRevocation: true, RevocationStatus: r.RevocationStatus, UpdatedAt: r.UpdatedAt}
}

// issuedStatus reports the statuses a record has once its credentials were issued (to the wallet's credential
// request or picked up from the deferred endpoint).
func issuedStatus(s exchange.Status) bool {
	return s == exchange.StatusCredentialIssued || s == exchange.StatusCredentialAcked
}

// OnIssue returns the revocation record to write in the same transaction as rec, the exchange record
// as an issuing write stores it, when that write moves the record from status from (a status before issuance)
// to issued and rec carries status entries; ok is false for any other write. The store calls it for every
// exchange update, so each path that issues credentials (credential endpoint, deferred pick-up) records the
// revocation item atomically with the credentials.
func OnIssue(rec *exchange.Record, from exchange.Status) (Record, bool) {
	if rec == nil || len(rec.StatusEntries) == 0 || issuedStatus(from) || !issuedStatus(rec.Status) {
		return Record{}, false
	}
	status := rec.RevocationStatus
	if status == "" {
		status = exchange.RevocationOperational
	}
	return Record{ExchangeID: rec.CredentialExchangeID, DefinitionID: rec.CredentialDefinitionID,
		Entries: append([]exchange.StatusEntry(nil), rec.StatusEntries...), RevocationStatus: status, Version: 1,
		UpdatedAt: rec.UpdatedAt, ExpiresAt: revocationExpiry(rec), RecordWritten: true, RecordVersion: rec.Version}, true
}

// revocationExpiry is the ttl of rec's revocation item: updatedAt (at or after the signing time of every
// credential of rec) plus the definition's expirationInDays and ExpiryMargin, at least the record's
// own ttl; 0 when the credentials carry no exp.
func revocationExpiry(rec *exchange.Record) int64 {
	days := rec.Definition.ExpirationInDays
	if days <= 0 {
		return 0
	}
	exp := time.Unix(rec.UpdatedAt, 0).UTC().AddDate(0, 0, days).Add(ExpiryMargin).Unix()
	return max(exp, rec.ExpiresAt)
}

// Commit is one revocation status change as the store writes it, in one transaction.
type Commit struct {
	// Revocation is the revocation item's new state; its Version is the version read plus one.
	Revocation Record
	// Create: no revocation item exists yet (an exchange issued before revocation items existed); it is put
	// under attribute_not_exists instead of the version read.
	Create bool
	// Record is the exchange record's new state (its revocationStatus changed, its status not), nil when the
	// record has expired or been deleted: then only the revocation item and the lists are written.
	Record *exchange.Record
	// Expect is the version and status the record was read at (with Record).
	Expect exchange.Expect
	// Lists are the changed status lists, each written under the version it was read at.
	Lists []StatusListState
}

// ParseStatus reads the admin API's revocationStatus, naming the allowed values on error.
func ParseStatus(v string) (exchange.RevocationStatus, error) {
	r, err := statuslist.ParseRevocationStatus(v)
	if err != nil {
		return "", validation.Invalid("revocationStatus", "must be one of %q, %q or %q", exchange.RevocationOperational,
			exchange.RevocationSuspended, exchange.RevocationRevoked)
	}
	return exchange.RevocationStatus(r), nil
}

// SetRevocationStatus sets the revocationStatus of every credential of the exchange at once. It works from the
// exchange's revocation item (Record), which outlives the exchange record: the item, the entries in
// the status lists and, while it still exists, the record's revocationStatus change in one transaction; then
// the affected lists' tokens are re-signed (once each); the write's event is a StatusChangedEvent. The
// answer is the updated record, or Record.Record when the record has expired or was deleted.
// Revoked is final (ErrRevokedIsFinal); an exchange whose definition does not support revocation is
// ErrNotSupported; one without issued credentials is ErrNoCredentialIssued; one with neither record
// nor revocation item is ErrNotFound. Setting the current status again writes nothing (so has no event).
func (l *StatusLists) SetRevocationStatus(ctx context.Context, exchangeID string, to exchange.RevocationStatus) (exchange.Record, error) {
	target, err := ParseStatus(string(to))
	if err != nil {
		return exchange.Record{}, err
	}
	for attempt := 0; ; attempt++ {
		rec, changed, err := l.setRevocationOnce(ctx, exchangeID, target)
		if errors.Is(err, exchange.ErrConflict) && attempt < maxConflictRetries {
			continue // another change of the record, the item or one of its lists won: decide again on fresh data
		}
		if err != nil {
			return exchange.Record{}, err
		}
		if changed != nil {
			l.resignAll(ctx, changed)
		}
		return rec, nil
	}
}

// revocationTarget reads what a revocation status change works on: the revocation item (create: none exists
// yet and rev was derived from the record) and the exchange record (nil when it has expired or was deleted).
func (l *StatusLists) revocationTarget(ctx context.Context, exchangeID string) (rev Record, create bool, rec *exchange.Record, err error) {
	stored, rerr := l.store.GetExchange(ctx, exchangeID)
	switch {
	case rerr == nil:
		rec = &stored
	case !errors.Is(rerr, exchange.ErrNotFound):
		return Record{}, false, nil, rerr
	}
	rev, err = l.store.GetRevocation(ctx, exchangeID)
	if err == nil {
		return rev, false, rec, nil
	}
	if !errors.Is(err, exchange.ErrNotFound) {
		return Record{}, false, nil, err
	}
	// No revocation item: never issued, not revocable, or issued before revocation items were written.
	switch {
	case rec == nil:
		return Record{}, false, nil, exchange.ErrNotFound
	case !rec.SupportRevocation:
		return Record{}, false, nil, ErrNotSupported
	case len(rec.StatusEntries) == 0:
		return Record{}, false, nil, ErrNoCredentialIssued
	}
	status := rec.RevocationStatus
	if status == "" {
		status = exchange.RevocationOperational
	}
	return Record{ExchangeID: exchangeID, DefinitionID: rec.CredentialDefinitionID,
		Entries: append([]exchange.StatusEntry(nil), rec.StatusEntries...), RevocationStatus: status,
		UpdatedAt: rec.UpdatedAt, ExpiresAt: revocationExpiry(rec)}, true, rec, nil
}

// setRevocationOnce reads, decides and commits once; it returns the lists it changed (nil when nothing changed).
func (l *StatusLists) setRevocationOnce(ctx context.Context, exchangeID string, to exchange.RevocationStatus) (exchange.Record, []statuslist.ListID, error) {
	rev, create, rec, err := l.revocationTarget(ctx, exchangeID)
	if err != nil {
		return exchange.Record{}, nil, fmt.Errorf("set revocation status: %w", err)
	}
	view := func(r Record) exchange.Record {
		if rec != nil {
			return *rec
		}
		return r.Record()
	}
	from := rev.RevocationStatus
	if from == "" {
		from = exchange.RevocationOperational
	}
	if err := statuslist.CheckTransition(statuslist.RevocationStatus(from), statuslist.RevocationStatus(to)); err != nil {
		if errors.Is(err, statuslist.ErrRevokedIsFinal) {
			return exchange.Record{}, nil, fmt.Errorf("set revocation status: %w", revokedFinal{})
		}
		return exchange.Record{}, nil, fmt.Errorf("set revocation status: %w", err)
	}
	if len(rev.Entries) == 0 {
		return exchange.Record{}, nil, fmt.Errorf("set revocation status: %w", ErrNoCredentialIssued)
	}
	if from == to {
		return view(rev), nil, nil
	}
	lists, err := l.applyStatus(ctx, rev.Entries, to)
	if err != nil {
		return exchange.Record{}, nil, err
	}
	now := l.rt.Now().Unix()
	next := rev
	next.Entries = append([]exchange.StatusEntry(nil), rev.Entries...)
	next.RevocationStatus = to
	next.Version = rev.Version + 1
	next.UpdatedAt = now
	next.RecordWritten, next.RecordVersion = false, rev.RecordVersion+1
	commit := Commit{Revocation: next, Create: create, Lists: lists}
	if rec != nil {
		r := rec.Clone()
		r.RevocationStatus = to
		r.UpdatedAt = now
		commit.Record = &r
		commit.Expect = exchange.Expect{Version: rec.Version, Status: rec.Status}
		commit.Revocation.RecordWritten, commit.Revocation.RecordVersion = true, rec.Version+1
	}
	if err := l.store.CommitRevocation(ctx, commit); err != nil {
		return exchange.Record{}, nil, fmt.Errorf("set revocation status: %w", err)
	}
	out := next.Record()
	if commit.Record != nil {
		out = *commit.Record
		out.Version = rec.Version + 1
	}
	ids := make([]statuslist.ListID, len(lists))
	for i, s := range lists {
		ids[i] = s.ID
	}
	return out, ids, nil
}

// applyStatus reads every list holding one of entries and sets those entries to the status of to. An entry that
// is already INVALID in its list stays so (Revoked is final in the list too, whatever the record says).
func (l *StatusLists) applyStatus(ctx context.Context, entries []exchange.StatusEntry, to exchange.RevocationStatus) ([]StatusListState, error) {
	status, err := statuslist.RevocationStatus(to).Status()
	if err != nil {
		return nil, fmt.Errorf("set revocation status: %w", err)
	}
	byList := map[statuslist.ListID][]int{}
	var order []statuslist.ListID
	for _, e := range entries {
		id, err := statuslist.ParseListID(e.List)
		if err != nil {
			return nil, fmt.Errorf("set revocation status: recorded entry: %w", err)
		}
		if _, ok := byList[id]; !ok {
			order = append(order, id)
		}
		byList[id] = append(byList[id], e.Index)
	}
	if len(order) > maxTransactionLists {
		return nil, fmt.Errorf("set revocation status: the credentials span %d status lists, more than one "+
			"transaction can write (%d)", len(order), maxTransactionLists)
	}
	slices.SortFunc(order, func(a, b statuslist.ListID) int {
		if a.Shard != b.Shard {
			return a.Shard - b.Shard
		}
		return a.Generation - b.Generation
	})
	states := make([]StatusListState, 0, len(order))
	for _, id := range order {
		st, err := l.store.GetStatusList(ctx, id, l.cfg.Layout)
		if err != nil {
			return nil, fmt.Errorf("set revocation status: read list %s: %w", id, err)
		}
		for _, idx := range byList[id] {
			cur, err := st.List.Get(idx)
			if err != nil {
				return nil, fmt.Errorf("set revocation status: list %s: %w", id, err)
			}
			if cur == statuslist.Invalid && status != statuslist.Invalid {
				return nil, fmt.Errorf("set revocation status: list %s: %w", id, revokedFinal{})
			}
			if err := st.List.Set(idx, status); err != nil {
				return nil, fmt.Errorf("set revocation status: list %s: %w", id, err)
			}
		}
		states = append(states, st)
	}
	return states, nil
}

// resignAll re-signs the tokens of the lists a change wrote, once each, so that relying parties see the change
// at their next fetch without any request paying for a signature. A failure is logged: the next GET of that
// list sees the stale version and re-signs it.
func (l *StatusLists) resignAll(ctx context.Context, ids []statuslist.ListID) {
	if l.signer == nil {
		return
	}
	for _, id := range ids {
		if _, err := l.resign(ctx, id); err != nil {
			l.rt.Log().WarnContext(ctx, "re-sign status list token failed", slog.String("status_list", id.String()),
				slog.String("error", err.Error()))
		}
	}
}
