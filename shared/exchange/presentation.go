package exchange

import (
	"encoding/json"

	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
)

// PresentationRequest is what a dynamic credential request asks the holder to present before anything is issued:
// the exchange's copy of the presentation definition (kept when the organisation changes or deletes it) and the
// organisation's transaction data (nil for none).
type PresentationRequest struct {
	Definition      presentationdef.Definition
	TransactionData json.RawMessage
}

// PresentationFailure is why the holder's last presentation was refused.
type PresentationFailure struct {
	// Reason says what was wrong (never a presented value).
	Reason string
	// At is when (unix seconds).
	At int64
	// Count is how many presentations were refused since the exchange's last verified one: each refusal writes a
	// new count, so that two refusals alike in the same second are two changes, each with its
	// credential.presentation_failed event (ChangeEvents). Stored, not rendered.
	Count int
}

// Presentation kinds of events besides status changes.
const (
	// EventPresentationVerified is published when a holder's presentation was verified (its detail's holder
	// names the presented credentials; the claims stay in the record); EventPresentationFailed when one was
	// refused.
	EventPresentationVerified = "credential.presentation_verified"
	EventPresentationFailed   = "credential.presentation_failed"
)
