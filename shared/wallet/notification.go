package wallet

import (
	"context"
	"errors"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Notify runs the notification endpoint: credential_accepted and credential_deleted move the record to that
// status, credential_failure keeps it and records event_description. The same event twice changes nothing the
// second time and succeeds both times. An unknown notification_id, or one of another access token's exchange,
// is invalid_notification_id; an event the status machine refuses (accepted after deleted) is
// invalid_notification_request.
func (s *Service) Notify(ctx context.Context, access Access, req *oid4vci.NotificationRequest) error {
	if req == nil || req.NotificationID == "" {
		return oid4vci.Errorf(oid4vci.ErrInvalidNotificationRequest, "notification_id is required")
	}
	for attempt := 0; ; attempt++ {
		err := s.notifyOnce(ctx, access, req)
		if errors.Is(err, exchange.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		return err
	}
}

func (s *Service) notifyOnce(ctx context.Context, access Access, req *oid4vci.NotificationRequest) error {
	rec, err := s.authorize(ctx, access)
	if err != nil {
		return err
	}
	unknown := oid4vci.Errorf(oid4vci.ErrInvalidNotificationID, "the notification_id is unknown or expired")
	if id, ok := exchange.SecretExchangeID(req.NotificationID); !ok || id != rec.CredentialExchangeID ||
		len(req.NotificationID) > validation.MaxIDLen || !exchange.SecretMatches(req.NotificationID, rec.NotificationIDHash) {
		return unknown
	}
	next := rec.Clone()
	now := s.rt.Now().Unix()
	switch req.Event {
	case oid4vci.EventCredentialAccepted, oid4vci.EventCredentialDeleted:
		to := exchange.StatusCredentialAccepted
		if req.Event == oid4vci.EventCredentialDeleted {
			to = exchange.StatusCredentialDeleted
		}
		if rec.Status == to {
			return nil
		}
		if err := next.Transition(to, now); err != nil {
			return oid4vci.Errorf(oid4vci.ErrInvalidNotificationRequest, "the credentials are %s; %s cannot "+
				"follow", rec.Status, req.Event)
		}
	case oid4vci.EventCredentialFailure:
		desc := req.EventDescription
		if desc == "" {
			desc = oid4vci.EventCredentialFailure
		}
		if rec.NotificationDescription == desc {
			return nil
		}
		next.NotificationDescription = desc
		next.UpdatedAt = now
	default:
		return oid4vci.Errorf(oid4vci.ErrInvalidNotificationRequest, "event must be %s, %s or %s",
			oid4vci.EventCredentialAccepted, oid4vci.EventCredentialFailure, oid4vci.EventCredentialDeleted)
	}
	err = s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status})
	if errors.Is(err, exchange.ErrTransitionRefused) {
		return exchange.ErrConflict
	}
	if errors.Is(err, exchange.ErrNotFound) {
		return unknown
	}
	return err
}
