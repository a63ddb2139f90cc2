package exchange

import (
	"fmt"
)

// Status is where a credential exchange stands; it only moves forward (see allowedFrom).
type Status string

// The statuses of the seed's history record.
const (
	StatusOfferSent          Status = "offer_sent"
	StatusOfferReceived      Status = "offer_received"
	StatusCredentialIssued   Status = "credential_issued"
	StatusCredentialAcked    Status = "credential_acked"
	StatusCredentialAccepted Status = "credential_accepted"
	StatusCredentialDeleted  Status = "credential_deleted"
	StatusIssuanceDenied     Status = "issuance_denied"
)

// allowedFrom is the one place the status machine is written down: for each target status, the statuses a
// record may move to it from. offer_sent is only ever the initial status. A deferred credential picked up from
// the deferred endpoint moves offer_received straight to credential_acked; issuance_denied is possible only
// before any credential was issued.
var allowedFrom = map[Status][]Status{
	StatusOfferSent:          nil,
	StatusOfferReceived:      {StatusOfferSent},
	StatusCredentialIssued:   {StatusOfferSent, StatusOfferReceived},
	StatusCredentialAcked:    {StatusOfferReceived, StatusCredentialIssued},
	StatusCredentialAccepted: {StatusCredentialIssued, StatusCredentialAcked},
	StatusCredentialDeleted:  {StatusCredentialIssued, StatusCredentialAcked, StatusCredentialAccepted},
	StatusIssuanceDenied:     {StatusOfferSent, StatusOfferReceived},
}

// Statuses lists every status in the order of the machine.
func Statuses() []Status {
	return []Status{StatusOfferSent, StatusOfferReceived, StatusCredentialIssued, StatusCredentialAcked,
		StatusCredentialAccepted, StatusCredentialDeleted, StatusIssuanceDenied}
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	_, ok := allowedFrom[s]
	return ok
}

// AllowedFrom returns the statuses a record may move to `to` from (a copy; empty for offer_sent and unknown
// statuses). The store puts exactly these into its conditional write.
func AllowedFrom(to Status) []Status {
	return append([]Status(nil), allowedFrom[to]...)
}

// CanTransition reports whether a record in status from may move to status to.
func CanTransition(from, to Status) bool {
	for _, s := range allowedFrom[to] {
		if s == from {
			return true
		}
	}
	return false
}

// WriteCondition is the statuses a stored record may be in when a writer that read it at status from stores it at
// status to: to itself when the status does not change, else AllowedFrom(to). The stores put them into the
// write's condition. A move the machine does not allow is a *TransitionError.
func WriteCondition(from, to Status) ([]Status, error) {
	if from == to {
		return []Status{to}, nil
	}
	if !CanTransition(from, to) {
		return nil, &TransitionError{From: from, To: to}
	}
	return AllowedFrom(to), nil
}

// RefusedWrite is why a store refused a conditional write of a record read at expect and moving to status to,
// given the record as the store holds it now (nil: gone): ErrNotFound; ErrConflict wrapping a *TransitionError
// when the record moved to a status that to cannot follow (deciding again will not help); else ErrConflict (a
// concurrent change: read again and decide again).
func RefusedWrite(cur *Record, expect Expect, to Status) error {
	switch {
	case cur == nil:
		return ErrNotFound
	case cur.Status != to && cur.Status != expect.Status && !CanTransition(cur.Status, to):
		return fmt.Errorf("%w: %w", ErrConflict, &TransitionError{From: cur.Status, To: to})
	default:
		return ErrConflict
	}
}

// ParseStatus parses a status name (as in the history filter), naming the allowed values on error.
func ParseStatus(v string) (Status, error) {
	s := Status(v)
	if !s.Valid() {
		return "", fmt.Errorf("unknown status %q; use one of %v", v, Statuses())
	}
	return s, nil
}

// CredentialStatus says whether the exchange's claims are there: pending (deferred, no claims yet) or ready.
type CredentialStatus string

// The credential statuses of the seed.
const (
	CredentialPending CredentialStatus = "pending"
	CredentialReady   CredentialStatus = "ready"
)

// IssuanceMode is InTime (claims now) or Deferred (claims may come later).
type IssuanceMode string

// The issuance modes of the seed.
const (
	ModeInTime   IssuanceMode = "InTime"
	ModeDeferred IssuanceMode = "Deferred"
)

// RevocationStatus is the revocation state of an issued credential (issue 6 changes it).
type RevocationStatus string

// The revocation statuses of the seed.
const (
	RevocationOperational RevocationStatus = "Operational"
	RevocationRevoked     RevocationStatus = "Revoked"
	RevocationSuspended   RevocationStatus = "Suspended"
)

// OrOperational is s, or Operational for "" (a record written before revocation statuses, or issued but not yet
// changed): the status its credentials' entries have.
func (s RevocationStatus) OrOperational() RevocationStatus {
	if s == "" {
		return RevocationOperational
	}
	return s
}
