package issuance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// RevocationStatusChangedEvent is the detail-type of the event published when an exchange's revocationStatus
// changes (its detail is the record, whose revocationStatus is the new one). The `credential.<status>` events
// stay reserved for the exchange's status machine.
const RevocationStatusChangedEvent = "credential.revocation_status_changed"

// Errors of SetRevocationStatus; check them with errors.Is.
var (
	// ErrRevocationNotSupported: the exchange's credential definition has supportRevocation false, so its
	// credentials carry no status list entry.
	ErrRevocationNotSupported = errors.New("the credential definition of this exchange does not support " +
		"revocation (supportRevocation is false): its credentials carry no status list entry")
	// ErrRevokedIsFinal: the credentials were revoked; Revoked cannot change any more.
	ErrRevokedIsFinal = errors.New("the credentials of this exchange are revoked and Revoked is final; issue a " +
		"new credential instead")
	// ErrNoCredentialIssued: no credential of the exchange was issued yet, so there is no status list entry to
	// change (deny or delete the offer instead).
	ErrNoCredentialIssued = errors.New("no credential of this exchange has been issued yet, so there is no " +
		"status to change; deny or delete the offer instead")
)

// Is makes ErrRevokedIsFinal match statuslist.ErrRevokedIsFinal and ErrTransitionRefused too.
type revokedFinal struct{}

func (revokedFinal) Error() string { return ErrRevokedIsFinal.Error() }

func (revokedFinal) Is(target error) bool {
	return target == ErrRevokedIsFinal || target == statuslist.ErrRevokedIsFinal || target == ErrTransitionRefused
}

// maxTransactionLists bounds the lists one revocation writes: DynamoDB transactions hold 100 items, one of which
// is the exchange record.
const maxTransactionLists = 99

// ParseRevocationStatus reads the admin API's revocationStatus, naming the allowed values on error.
func ParseRevocationStatus(v string) (RevocationStatus, error) {
	r, err := statuslist.ParseRevocationStatus(v)
	if err != nil {
		return "", invalid("revocationStatus", "must be one of %q, %q or %q", RevocationOperational,
			RevocationSuspended, RevocationRevoked)
	}
	return RevocationStatus(r), nil
}

// SetRevocationStatus sets the revocationStatus of every credential of the exchange at once: their entries in
// the status lists and the record's revocationStatus change in one transaction, then the affected lists' tokens
// are re-signed (once each) and a RevocationStatusChangedEvent is published. Revoked is final
// (ErrRevokedIsFinal); an exchange whose definition does not support revocation is ErrRevocationNotSupported;
// one without issued credentials is ErrNoCredentialIssued. Setting the current status again changes nothing and
// publishes nothing.
func (l *StatusLists) SetRevocationStatus(ctx context.Context, exchangeID string, to RevocationStatus) (ExchangeRecord, error) {
	target, err := ParseRevocationStatus(string(to))
	if err != nil {
		return ExchangeRecord{}, err
	}
	for attempt := 0; ; attempt++ {
		rec, changed, err := l.setRevocationOnce(ctx, exchangeID, target)
		if errors.Is(err, ErrConflict) && attempt < maxConflictRetries {
			continue // another change of the record or of one of its lists won: decide again on fresh data
		}
		if err != nil {
			return ExchangeRecord{}, err
		}
		if changed != nil {
			l.resignAll(ctx, changed)
			l.publish(ctx, &rec)
		}
		return rec, nil
	}
}

// setRevocationOnce reads, decides and commits once; it returns the lists it changed (nil when nothing changed).
func (l *StatusLists) setRevocationOnce(ctx context.Context, exchangeID string, to RevocationStatus) (ExchangeRecord, []statuslist.ListID, error) {
	rec, err := l.store.GetExchange(ctx, exchangeID)
	if err != nil {
		return ExchangeRecord{}, nil, fmt.Errorf("set revocation status: %w", err)
	}
	if !rec.SupportRevocation {
		return ExchangeRecord{}, nil, fmt.Errorf("set revocation status: %w", ErrRevocationNotSupported)
	}
	from := rec.RevocationStatus
	if from == "" {
		from = RevocationOperational
	}
	if err := statuslist.CheckTransition(statuslist.RevocationStatus(from), statuslist.RevocationStatus(to)); err != nil {
		if errors.Is(err, statuslist.ErrRevokedIsFinal) {
			return ExchangeRecord{}, nil, fmt.Errorf("set revocation status: %w", revokedFinal{})
		}
		return ExchangeRecord{}, nil, fmt.Errorf("set revocation status: %w", err)
	}
	entries := rec.Internal.StatusEntries
	if len(entries) == 0 {
		return ExchangeRecord{}, nil, fmt.Errorf("set revocation status: %w", ErrNoCredentialIssued)
	}
	if from == to {
		return rec, nil, nil
	}
	lists, err := l.applyStatus(ctx, entries, to)
	if err != nil {
		return ExchangeRecord{}, nil, err
	}
	next := rec.Clone()
	next.RevocationStatus = to
	next.UpdatedAt = l.now().Unix()
	if err := l.store.CommitRevocation(ctx, next, Expect{Version: rec.Internal.Version, Status: rec.Status}, lists); err != nil {
		return ExchangeRecord{}, nil, fmt.Errorf("set revocation status: %w", err)
	}
	next.Internal.Version = rec.Internal.Version + 1
	ids := make([]statuslist.ListID, len(lists))
	for i, s := range lists {
		ids[i] = s.ID
	}
	return next, ids, nil
}

// applyStatus reads every list holding one of entries and sets those entries to the status of to. An entry that
// is already INVALID in its list stays so (Revoked is final in the list too, whatever the record says).
func (l *StatusLists) applyStatus(ctx context.Context, entries []StatusEntry, to RevocationStatus) ([]StatusListState, error) {
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
			l.log.WarnContext(ctx, "re-sign status list token failed", slog.String("status_list", id.String()),
				slog.String("error", err.Error()))
		}
	}
}

// publish sends the RevocationStatusChangedEvent of rec; a failure is logged (type and id only).
func (l *StatusLists) publish(ctx context.Context, rec *ExchangeRecord) {
	if l.events == nil {
		return
	}
	e := Event{DetailType: RevocationStatusChangedEvent, ExchangeID: rec.CredentialExchangeID,
		Detail: rec.EventDetail(), Time: l.now()}
	if err := l.events.Publish(ctx, e); err != nil {
		l.log.WarnContext(ctx, "publish revocation event failed", slog.String("detail_type", e.DetailType),
			slog.String("credential_exchange_id", e.ExchangeID), slog.String("error", err.Error()))
	}
}
