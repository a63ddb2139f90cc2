package issuance

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// RequestDeferredCredential runs the deferred credential endpoint for the exchange of accessToken. While the
// exchange has no claims it answers the same transaction_id with the interval again. Once the organisation
// completed it, the credentials are issued bound to the keys proven in the original request, answered in that
// request's dialect, and the record moves to credential_acked in the transaction that consumes the
// transaction id (so it is picked up exactly once). A denied exchange is credential_request_denied; an unknown,
// used or foreign transaction id is invalid_transaction_id.
//
// The answer carries no notification_id (oid4vci.BuildDeferredCredentialResponse explains why): the pick-up
// itself is recorded as credential_acked.
func (s *WalletService) RequestDeferredCredential(ctx context.Context, accessToken string, req *oid4vci.DeferredCredentialRequest) (*CredentialAnswer, error) {
	if req == nil || req.TransactionID == "" {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidCredentialRequest, "transaction_id is required")
	}
	for attempt := 0; ; attempt++ {
		ans, err := s.requestDeferredOnce(ctx, accessToken, req.TransactionID)
		if errors.Is(err, ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		return ans, err
	}
}

func (s *WalletService) requestDeferredOnce(ctx context.Context, accessToken, transactionID string) (*CredentialAnswer, error) {
	rec, err := s.authorize(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	unknown := oid4vci.Errorf(oid4vci.ErrInvalidTransactionID, "the transaction_id is unknown, expired or "+
		"was already used")
	if len(transactionID) > maxIDLen {
		return nil, unknown
	}
	txnKey := PointerKey(PointerTransaction, transactionID)
	ptr, err := s.store.GetPointer(ctx, txnKey)
	if errors.Is(err, ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	if ptr.ExchangeID != rec.CredentialExchangeID {
		return nil, unknown
	}
	dialect, ok := oid4vci.ParseDialect(ptr.Attributes[txnAttrDialect])
	shape, ok2 := oid4vci.ParseProofShape(ptr.Attributes[txnAttrShape])
	if !ok || !ok2 {
		return nil, fmt.Errorf("request deferred credential: transaction pointer lacks dialect or shape")
	}
	format := sdjwt.Format(ptr.Attributes[txnAttrFormat])
	if format != sdjwt.FormatDCSDJWT && format != sdjwt.FormatVCSDJWT {
		format = sdjwt.FormatDCSDJWT
	}
	ans := &CredentialAnswer{Dialect: dialect, Shape: shape, Issuance: oid4vci.Issuance{Format: string(format)}}
	switch {
	case rec.Status == StatusIssuanceDenied:
		return nil, oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the issuer denied this issuance")
	case rec.Status != StatusOfferReceived:
		return nil, unknown
	case len(rec.Internal.Credentials) == 0:
		ans.Issuance.TransactionID = transactionID
		ans.Issuance.Interval = s.cfg.DeferredInterval
		return ans, nil
	}
	keys, err := holderKeys(ptr.Attributes[txnAttrKeys])
	if err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	creds, err := s.issueCredentials(ctx, &rec, keys, format)
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	next := rec.Clone()
	if err := next.Transition(StatusCredentialAcked, now); err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	next.CredentialToken = strings.Join(creds, CredentialTokenSeparator)
	next.Internal.IssuedCount = len(creds)
	err = s.store.UpdateExchange(ctx, next, Expect{Version: rec.Internal.Version, Status: rec.Status},
		PointerOp{Consume: txnKey})
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrTransitionRefused) || errors.Is(err, ErrNotFound) {
		if _, gerr := s.store.GetPointer(ctx, txnKey); errors.Is(gerr, ErrNotFound) {
			return nil, unknown
		}
		return nil, ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	s.publish(ctx, &next)
	if dialect.Legacy() {
		if ans.Issuance.CNonce, err = s.NewNonce(ctx); err != nil {
			s.log.WarnContext(ctx, "mint c_nonce for a draft deferred answer failed", "error", err.Error())
		}
	}
	ans.Issuance.Credentials = creds
	return ans, nil
}

// Notify runs the notification endpoint: credential_accepted and credential_deleted move the record to that
// status, credential_failure keeps it and records event_description. The same event twice changes nothing the
// second time and succeeds both times. An unknown notification_id, or one of another access token's exchange,
// is invalid_notification_id; an event the status machine refuses (accepted after deleted) is
// invalid_notification_request.
func (s *WalletService) Notify(ctx context.Context, accessToken string, req *oid4vci.NotificationRequest) error {
	if req == nil || req.NotificationID == "" {
		return oid4vci.Errorf(oid4vci.ErrInvalidNotificationRequest, "notification_id is required")
	}
	for attempt := 0; ; attempt++ {
		err := s.notifyOnce(ctx, accessToken, req)
		if errors.Is(err, ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		return err
	}
}

func (s *WalletService) notifyOnce(ctx context.Context, accessToken string, req *oid4vci.NotificationRequest) error {
	rec, err := s.authorize(ctx, accessToken)
	if err != nil {
		return err
	}
	unknown := oid4vci.Errorf(oid4vci.ErrInvalidNotificationID, "the notification_id is unknown or expired")
	if id, ok := SecretExchangeID(req.NotificationID); !ok || id != rec.CredentialExchangeID ||
		len(req.NotificationID) > maxIDLen || !SecretMatches(req.NotificationID, rec.Internal.NotificationIDHash) {
		return unknown
	}
	next := rec.Clone()
	now := s.now().Unix()
	switch req.Event {
	case oid4vci.EventCredentialAccepted, oid4vci.EventCredentialDeleted:
		to := StatusCredentialAccepted
		if req.Event == oid4vci.EventCredentialDeleted {
			to = StatusCredentialDeleted
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
		if rec.Internal.NotificationDescription == desc {
			return nil
		}
		next.Internal.NotificationDescription = desc
		next.UpdatedAt = now
	default:
		return oid4vci.Errorf(oid4vci.ErrInvalidNotificationRequest, "event must be %s, %s or %s",
			oid4vci.EventCredentialAccepted, oid4vci.EventCredentialFailure, oid4vci.EventCredentialDeleted)
	}
	err = s.store.UpdateExchange(ctx, next, Expect{Version: rec.Internal.Version, Status: rec.Status})
	if errors.Is(err, ErrTransitionRefused) {
		return ErrConflict
	}
	if errors.Is(err, ErrNotFound) {
		return unknown
	}
	if err != nil {
		return err
	}
	if next.Status != rec.Status {
		s.publish(ctx, &next)
	}
	return nil
}
