package wallet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// RequestDeferredCredential runs the deferred credential endpoint for the exchange of the access token. While the
// exchange has no claims it answers the same transaction_id with the interval again. Once the organisation
// completed it, the credentials are issued bound to the keys proven in the original request, answered in that
// request's dialect, and the record moves to credential_acked in the transaction that consumes the
// transaction id (so it is picked up exactly once). A denied exchange is credential_request_denied; an unknown,
// expired or foreign transaction id is invalid_transaction_id.
//
// A retry after a lost pick-up answer (the function died after DynamoDB applied the pick-up, or the response
// never reached the wallet): the same access token, while it is valid, and the same transaction_id on the
// credential_acked exchange get the recorded credentials again, in the same response shape, without a new
// signature, status list entry or record write (see answerPickedUp).
//
// The answer carries no notification_id (oid4vci.BuildDeferredCredentialResponse explains why): the pick-up
// itself is recorded as credential_acked.
func (s *Service) RequestDeferredCredential(ctx context.Context, access Access, req *oid4vci.DeferredCredentialRequest) (*CredentialAnswer, error) {
	if req == nil || req.TransactionID == "" {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidCredentialRequest, "transaction_id is required")
	}
	for attempt := 0; ; attempt++ {
		ans, err := s.requestDeferredOnce(ctx, access, req)
		if errors.Is(err, exchange.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		return ans, err
	}
}

func (s *Service) requestDeferredOnce(ctx context.Context, access Access, req *oid4vci.DeferredCredentialRequest) (*CredentialAnswer, error) {
	rec, err := s.authorize(ctx, access)
	if err != nil {
		return nil, err
	}
	if err := s.checkResponseEncryption(&rec, req.ResponseEncryption); err != nil {
		return nil, err
	}
	transactionID := req.TransactionID
	unknown := oid4vci.Errorf(oid4vci.ErrInvalidTransactionID, "the transaction_id is unknown, expired or "+
		"was already used")
	if len(transactionID) > validation.MaxIDLen {
		return nil, unknown
	}
	if rec.Status == exchange.StatusCredentialAcked {
		return s.answerPickedUp(ctx, rec, transactionID, unknown)
	}
	txnKey := exchange.PointerKey(exchange.PointerTransaction, transactionID)
	ptr, err := s.store.GetPointer(ctx, txnKey)
	if errors.Is(err, exchange.ErrNotFound) {
		return nil, s.pickedUpMeanwhile(ctx, rec, transactionID, unknown)
	}
	if err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	if ptr.ExchangeID != rec.CredentialExchangeID {
		return nil, unknown
	}
	ans, err := deferredAnswer(ptr)
	if err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	switch {
	case rec.Status == exchange.StatusIssuanceDenied:
		return nil, oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the issuer denied this issuance")
	case rec.Status != exchange.StatusOfferReceived:
		return nil, unknown
	case len(rec.Credentials) == 0:
		ans.Issuance.TransactionID = transactionID
		ans.Issuance.Interval = s.cfg.DeferredInterval
		return ans, nil
	}
	keys, err := holderKeys(ptr.Attributes[txnAttrKeys])
	if err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	creds, err := s.issueCredentials(ctx, &rec, keys, ans.Issuance.Format)
	if err != nil {
		return nil, err
	}
	now := s.rt.Now().Unix()
	next := rec.Clone()
	recordResponseEncryption(&next, req.ResponseEncryption)
	if err := next.Transition(exchange.StatusCredentialAcked, now); err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	next.CredentialToken = strings.Join(creds, exchange.CredentialTokenSeparator)
	next.IssuedCount = len(creds)
	err = s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status},
		exchange.PointerOp{Consume: txnKey}, exchange.PointerOp{Put: pickupPointer(&rec, transactionID, ptr)})
	if errors.Is(err, exchange.ErrNotFound) {
		return nil, unknown // the exchange was deleted, with its pointers
	}
	if errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused) {
		// Read again: a concurrent pick-up of this transaction id that was recorded is answered from the
		// record (answerPickedUp), a consumed or expired transaction id is unknown, anything else is retried.
		return nil, exchange.ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("request deferred credential: %w", err)
	}
	if ans.Dialect.Legacy() {
		if ans.Issuance.CNonce, err = s.NewNonce(ctx); err != nil {
			s.rt.Log().WarnContext(ctx, "mint c_nonce for a draft deferred answer failed", "error", err.Error())
		}
	}
	ans.Issuance.Credentials = creds
	return ans, nil
}

// answerPickedUp serves a deferred credential request on an exchange that is already credential_acked: the
// answer of the recorded pick-up got lost and the wallet retries with the same access token (authorize checked
// it and its deadline) and the same transaction_id. The PICKUP pointer the pick-up wrote for that transaction id
// holds the answer's dialect, shape and format, so the retry gets the recorded credentials (the same strings: no
// new signature, no new status list entry, no record write) in exactly the shape of the first answer, with a
// fresh c_nonce for draft wallets as then. Any other transaction id is unknown.
func (s *Service) answerPickedUp(ctx context.Context, rec exchange.Record, transactionID string, unknown error) (*CredentialAnswer, error) {
	ptr, err := s.store.GetPointer(ctx, exchange.PointerKey(exchange.PointerPickup, transactionID))
	if errors.Is(err, exchange.ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, fmt.Errorf("answer picked-up credentials: %w", err)
	}
	if ptr.ExchangeID != rec.CredentialExchangeID {
		return nil, unknown
	}
	if rec.CredentialToken == "" {
		return nil, fmt.Errorf("answer picked-up credentials: the record holds no credentials")
	}
	ans, err := deferredAnswer(ptr)
	if err != nil {
		return nil, fmt.Errorf("answer picked-up credentials: %w", err)
	}
	if ans.Dialect.Legacy() {
		if ans.Issuance.CNonce, err = s.NewNonce(ctx); err != nil {
			s.rt.Log().WarnContext(ctx, "mint c_nonce for a draft deferred answer failed", "error", err.Error())
		}
	}
	ans.Issuance.Credentials = strings.Split(rec.CredentialToken, exchange.CredentialTokenSeparator)
	s.rt.Log().InfoContext(ctx, "picked-up credentials answered again to the same transaction",
		"credential_exchange_id", rec.CredentialExchangeID, "credentials", len(ans.Issuance.Credentials))
	return ans, nil
}

// pickedUpMeanwhile is the error for a transaction id whose TXN pointer is gone although the record read
// before was not yet credential_acked: when a concurrent pick-up of it was recorded in between (its PICKUP
// pointer exists, of this exchange), ErrConflict, so that the request reads the record again and answers the
// recorded credentials; otherwise unknown. Only requests that would fail pay this read.
func (s *Service) pickedUpMeanwhile(ctx context.Context, rec exchange.Record, transactionID string, unknown error) error {
	if rec.Status != exchange.StatusOfferReceived {
		return unknown
	}
	ptr, err := s.store.GetPointer(ctx, exchange.PointerKey(exchange.PointerPickup, transactionID))
	if errors.Is(err, exchange.ErrNotFound) {
		return unknown
	}
	if err != nil {
		return fmt.Errorf("request deferred credential: %w", err)
	}
	if ptr.ExchangeID != rec.CredentialExchangeID {
		return unknown
	}
	return exchange.ErrConflict
}

// deferredAnswer is the answer frame a TXN or PICKUP pointer's attributes describe: the dialect, proof shape and
// format of the original credential request (dc+sd-jwt when the format is missing or unknown: pointers written
// before mdoc and JWT VC existed).
func deferredAnswer(ptr exchange.Pointer) (*CredentialAnswer, error) {
	dialect, ok := oid4vci.ParseDialect(ptr.Attributes[txnAttrDialect])
	shape, ok2 := oid4vci.ParseProofShape(ptr.Attributes[txnAttrShape])
	if !ok || !ok2 {
		return nil, fmt.Errorf("%s pointer lacks dialect or shape", ptrKind(ptr.Key))
	}
	format := ptr.Attributes[txnAttrFormat]
	switch format {
	case definition.FormatSDJWT, definition.FormatSDJWTLegacy, definition.FormatMdoc, definition.FormatJWTVC:
	default:
		format = definition.FormatSDJWT
	}
	return &CredentialAnswer{Dialect: dialect, Shape: shape, Issuance: oid4vci.Issuance{Format: format}}, nil
}

// ptrKind is the kind part of a pointer key (never the hash).
func ptrKind(key string) string {
	kind, _, _ := strings.Cut(key, "#")
	return kind
}

// pickupPointer is the PICKUP pointer written with the pick-up of transactionID: the answer's dialect, shape and
// format (not the holder keys), of rec's exchange, until rec's access token expires (a retry needs the token),
// never beyond the record's retention.
func pickupPointer(rec *exchange.Record, transactionID string, txn exchange.Pointer) *exchange.Pointer {
	exp := rec.ExpiresAt
	if t := rec.AccessTokenExpiresAt; t > 0 && t < exp {
		exp = t
	}
	return &exchange.Pointer{Key: exchange.PointerKey(exchange.PointerPickup, transactionID), ExchangeID: rec.CredentialExchangeID,
		ExpiresAt: exp, Attributes: map[string]string{txnAttrDialect: txn.Attributes[txnAttrDialect],
			txnAttrShape: txn.Attributes[txnAttrShape], txnAttrFormat: txn.Attributes[txnAttrFormat]}}
}
