package oid4vci

// Notification events (OpenID4VCI 1.0 section 11.1).
const (
	// EventCredentialAccepted: the credentials were stored in the wallet.
	EventCredentialAccepted = "credential_accepted"
	// EventCredentialFailure: storing the credentials failed for a reason other than the user.
	EventCredentialFailure = "credential_failure"
	// EventCredentialDeleted: the user declined or deleted the credentials.
	EventCredentialDeleted = "credential_deleted"
	// MaxEventDescription bounds event_description, which the issuer records.
	MaxEventDescription = 1024
)

// NotificationRequest is a parsed notification request.
type NotificationRequest struct {
	// NotificationID is the id from the credential response. Secret: never log it.
	NotificationID string
	// Event is one of the Event* constants.
	Event string
	// EventDescription is the wallet's ASCII explanation, if any.
	EventDescription string
}

// ParseNotificationRequest parses a notification request (application/json). A malformed request, a missing or
// empty notification_id, an unknown event or an event_description outside the allowed ASCII set is
// invalid_notification_request; whether the id is known (invalid_notification_id) is the caller's lookup. Unknown
// members are ignored.
func ParseNotificationRequest(body []byte, contentType string) (*NotificationRequest, error) {
	obj, err := requestObject(body, contentType, ErrInvalidNotificationRequest)
	if err != nil {
		return nil, err
	}
	id, ok, err := obj.str("notification_id")
	if err != nil || !ok || id == "" {
		return nil, Errorf(ErrInvalidNotificationRequest, "notification_id is required: the value from the credential response")
	}
	event, ok, err := obj.str("event")
	if err != nil || !ok {
		return nil, Errorf(ErrInvalidNotificationRequest, "event is required: one of %s, %s, %s", EventCredentialAccepted, EventCredentialFailure, EventCredentialDeleted)
	}
	switch event {
	case EventCredentialAccepted, EventCredentialFailure, EventCredentialDeleted:
	default:
		return nil, Errorf(ErrInvalidNotificationRequest, "event must be one of %s, %s, %s (case sensitive)", EventCredentialAccepted, EventCredentialFailure, EventCredentialDeleted)
	}
	desc, _, err := obj.str("event_description")
	if err != nil {
		return nil, Errorf(ErrInvalidNotificationRequest, "event_description must be a string")
	}
	if len(desc) > MaxEventDescription {
		return nil, Errorf(ErrInvalidNotificationRequest, "event_description is longer than %d characters", MaxEventDescription)
	}
	if !validDescriptionText(desc) {
		return nil, Errorf(ErrInvalidNotificationRequest, "event_description must be printable ASCII without double quotes or backslashes")
	}
	return &NotificationRequest{NotificationID: id, Event: event, EventDescription: desc}, nil
}
