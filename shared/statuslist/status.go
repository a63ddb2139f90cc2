package statuslist

import "fmt"

// Status is the status type of one credential in a list (draft section "Status Types").
type Status uint8

// Status types registered by the draft. Our lists use 2 bits, so all three fit.
const (
	// Valid (0x00): the credential is valid.
	Valid Status = 0x00
	// Invalid (0x01): the credential is revoked; this is final.
	Invalid Status = 0x01
	// Suspended (0x02): the credential is temporarily invalid; this is reversible.
	Suspended Status = 0x02
)

// String returns the draft's name of the status type.
func (s Status) String() string {
	switch s {
	case Valid:
		return "VALID"
	case Invalid:
		return "INVALID"
	case Suspended:
		return "SUSPENDED"
	default:
		return fmt.Sprintf("0x%02X", uint8(s))
	}
}

// RevocationStatus is the admin API's revocationStatus of an exchange record.
type RevocationStatus string

// The admin API's revocation statuses.
const (
	// RevocationOperational is the admin API's name for VALID.
	RevocationOperational RevocationStatus = "Operational"
	// RevocationRevoked is the admin API's name for INVALID; it is final.
	RevocationRevoked RevocationStatus = "Revoked"
	// RevocationSuspended is the admin API's name for SUSPENDED.
	RevocationSuspended RevocationStatus = "Suspended"
)

// ParseRevocationStatus reads the admin API's revocationStatus, case-sensitively as the API defines it.
func ParseRevocationStatus(s string) (RevocationStatus, error) {
	switch r := RevocationStatus(s); r {
	case RevocationOperational, RevocationRevoked, RevocationSuspended:
		return r, nil
	default:
		return "", fmt.Errorf("parse revocation status: %w", ErrUnknownRevocationStatus)
	}
}

// Status returns the status type a revocationStatus is written as in the status list.
func (r RevocationStatus) Status() (Status, error) {
	switch r {
	case RevocationOperational:
		return Valid, nil
	case RevocationRevoked:
		return Invalid, nil
	case RevocationSuspended:
		return Suspended, nil
	default:
		return 0, fmt.Errorf("map revocation status: %w", ErrUnknownRevocationStatus)
	}
}

// RevocationStatus returns the admin API's name of a status type; other status types have none.
func (s Status) RevocationStatus() (RevocationStatus, error) {
	switch s {
	case Valid:
		return RevocationOperational, nil
	case Invalid:
		return RevocationRevoked, nil
	case Suspended:
		return RevocationSuspended, nil
	default:
		return "", fmt.Errorf("map status %s: %w", s, ErrUnknownRevocationStatus)
	}
}

// CheckTransition says whether a credential may move from one revocationStatus to another: any change is allowed
// except out of Revoked, which is final. Setting the same status again is allowed (idempotent PUT).
func CheckTransition(from, to RevocationStatus) error {
	if _, err := from.Status(); err != nil {
		return fmt.Errorf("check transition from: %w", err)
	}
	if _, err := to.Status(); err != nil {
		return fmt.Errorf("check transition to: %w", err)
	}
	if from == RevocationRevoked && to != RevocationRevoked {
		return ErrRevokedIsFinal
	}
	return nil
}
