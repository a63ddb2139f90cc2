package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// Attributes of a TXN pointer: what the deferred credential request needs to answer like the original request.
const (
	txnAttrKeys    = "keys"
	txnAttrDialect = "dialect"
	txnAttrShape   = "shape"
	txnAttrFormat  = "format"
)

// CredentialAnswer is what the credential and deferred credential endpoints answer, in the dialect and proof
// shape of the wallet's credential request (oid4vci.BuildCredentialResponse / BuildDeferredCredentialResponse).
type CredentialAnswer struct {
	Dialect  oid4vci.Dialect
	Shape    oid4vci.ProofShape
	Issuance oid4vci.Issuance
}

// RequestCredential runs the credential endpoint for the exchange of the access token.
//
// The request must name the offered configuration (credential_configuration_id or credential_identifier, or the
// draft format+vct). Every proof is validated (aud = the issuer URL, a live c_nonce of the nonce endpoint or of
// this exchange); the distinct nonces are consumed in the transaction that records the result, so a replayed
// nonce fails. Proofs repeating a key are dropped. When the exchange's claims are there, max(payloads, keys)
// credentials are issued: credential i carries payload i mod len(payloads) and is bound to key i mod len(keys),
// so every payload of credentials[] is issued and every proven key binds at least one credential. Each
// credential is verified with the issuer key before it is answered. The record moves to credential_issued with
// cnf, proof, proofType, jti and credentialToken, and a notification_id is created. A Deferred exchange still
// without claims keeps the proven keys in a TXN pointer and answers transaction_id and interval.
func (s *Service) RequestCredential(ctx context.Context, access Access, req *oid4vci.CredentialRequest) (*CredentialAnswer, error) {
	if req == nil {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidCredentialRequest, "the credential request is empty")
	}
	for attempt := 0; ; attempt++ {
		ans, err := s.requestCredentialOnce(ctx, access, req)
		if errors.Is(err, exchange.ErrConflict) && attempt < maxConflictRetries {
			continue // the record changed under us (e.g. the deferred completion arrived): decide again
		}
		return ans, err
	}
}

func (s *Service) requestCredentialOnce(ctx context.Context, access Access, req *oid4vci.CredentialRequest) (*CredentialAnswer, error) {
	rec, err := s.authorize(ctx, access)
	if err != nil {
		return nil, err
	}
	format, err := requestedFormat(&rec, req)
	if err != nil {
		return nil, err
	}
	if err := s.checkResponseEncryption(&rec, req.ResponseEncryption); err != nil {
		return nil, err
	}
	switch rec.Status {
	case exchange.StatusOfferReceived:
	case exchange.StatusIssuanceDenied:
		return nil, oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the issuer denied this issuance")
	case exchange.StatusCredentialIssued:
		if rec.CredentialToken != "" && rec.Proof != "" {
			return s.answerRecorded(ctx, rec, req, format) // the recorded answer was lost: see answerRecorded
		}
		return nil, oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the credentials of this offer were "+
			"already issued; ask the issuer for a new offer")
	default:
		return nil, oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the credentials of this offer were "+
			"already issued; ask the issuer for a new offer")
	}
	now := s.rt.Now()
	proven, err := s.proveKeys(&rec, req, now)
	if err != nil {
		return nil, err
	}
	ops, err := s.consumeNonces(proven, now)
	if err != nil {
		return nil, err
	}
	next := rec.Clone()
	next.UpdatedAt = now.Unix()
	proven.record(&next)
	recordResponseEncryption(&next, req.ResponseEncryption)
	draft, err := s.draftNonce(ctx, req.Dialect)
	if err != nil {
		return nil, fmt.Errorf("request credential: %w", err)
	}
	ans := &CredentialAnswer{Dialect: req.Dialect, Shape: req.ProofShape,
		Issuance: oid4vci.Issuance{Format: format, CNonce: draft}}

	keys := proven.jwkKeys()
	if len(rec.Credentials) == 0 {
		ptr, txn, err := s.transactionPointer(&rec, proven, req, format)
		if err != nil {
			return nil, err
		}
		ops = append(ops, exchange.PointerOp{Put: ptr})
		if err := s.commit(ctx, &rec, next, ops); err != nil {
			return nil, err
		}
		ans.Issuance.TransactionID = txn
		ans.Issuance.Interval = s.cfg.DeferredInterval
		return ans, nil
	}

	if rec.FailedNonces >= nonceCheckAfter {
		if err := s.checkNonces(ctx, rec.CredentialExchangeID, proven); err != nil {
			return nil, err
		}
	}
	creds, err := s.issueCredentials(ctx, &rec, keys, format)
	if err != nil {
		return nil, err
	}
	next.StatusEntries = rec.StatusEntries // recorded by the StatusAllocator
	notif, err := exchange.NewExchangeSecret(s.rt.Random(), rec.CredentialExchangeID)
	if err != nil {
		return nil, fmt.Errorf("request credential: %w", err)
	}
	next.NotificationIDHash = exchange.HashSecret(notif)
	if err := next.Transition(exchange.StatusCredentialIssued, now.Unix()); err != nil {
		return nil, fmt.Errorf("request credential: %w", err)
	}
	next.CredentialToken = strings.Join(creds, exchange.CredentialTokenSeparator)
	next.IssuedCount = len(creds)
	if err := s.commit(ctx, &rec, next, ops); err != nil {
		if errors.Is(err, errNonceGone) {
			s.countFailedNonce(ctx, rec)
		}
		return nil, err
	}
	ans.Issuance.Credentials = creds
	ans.Issuance.NotificationID = notif
	return ans, nil
}

// errNonceGone is the answer to proofs whose c_nonce the credential write could not consume.
var errNonceGone = oid4vci.Errorf(oid4vci.ErrInvalidNonce, "the c_nonce is unknown, expired or used; fetch a new "+
	"one from the nonce endpoint and create a new proof")

// commit writes next over rec with ops. A lost write is explained to the wallet: a c_nonce that is unknown,
// expired, used or of another exchange (the write's consuming delete is its only check) is invalid_nonce, a record that moved on is credential_request_denied; a mere version race is ErrConflict, which
// the caller retries.
func (s *Service) commit(ctx context.Context, rec *exchange.Record, next exchange.Record, ops []exchange.PointerOp) error {
	err := s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status}, ops...)
	if err == nil {
		return nil
	}
	if !errors.Is(err, exchange.ErrConflict) && !errors.Is(err, exchange.ErrTransitionRefused) && !errors.Is(err, exchange.ErrNotFound) {
		return fmt.Errorf("record credential request: %w", err)
	}
	var gone *exchange.PointerGoneError
	if errors.As(err, &gone) && gone.Kind() == exchange.PointerNonce {
		return errNonceGone
	}
	cur, gerr := s.store.GetExchange(ctx, rec.CredentialExchangeID)
	switch {
	case errors.Is(gerr, exchange.ErrNotFound):
		return oid4vci.Errorf(oid4vci.ErrInvalidToken, "the access token is unknown or expired")
	case gerr != nil:
		return fmt.Errorf("record credential request: %w", gerr)
	case cur.Status != rec.Status:
		return oid4vci.Errorf(oid4vci.ErrCredentialRequestDenied, "the exchange moved on to %s meanwhile; "+
			"its credentials cannot be requested again", cur.Status)
	}
	return exchange.ErrConflict
}

// nonceCheckAfter is how many credential requests of one exchange may fail on their c_nonce after signing
// before the nonces are read ahead of signing: wallets get the cheap path (no read), and a holder of the access
// token sending stale nonces in a loop wastes at most this many KMS signatures (the KMS signing quota is shared
// by the whole account).
const nonceCheckAfter = 3

// checkNonces reads, before anything is signed, whether a c_nonce of the proofs was used already (its marker
// exists). The credential write still puts the markers under attribute_not_exists (single use).
func (s *Service) checkNonces(ctx context.Context, exchangeID string, proven *provenKeys) error {
	ops, err := s.consumeNonces(proven, s.rt.Now())
	if err != nil {
		return err
	}
	for _, op := range ops {
		_, err := s.store.GetPointer(ctx, op.Put.Key)
		if err == nil {
			return errNonceGone
		}
		if !errors.Is(err, exchange.ErrNotFound) {
			return fmt.Errorf("check c_nonce: %w", err)
		}
	}
	return nil
}

// countFailedNonce records, best effort, that a credential request of rec failed on its c_nonce after signing.
// A lost race only loses a count.
func (s *Service) countFailedNonce(ctx context.Context, rec exchange.Record) {
	next := rec.Clone()
	next.FailedNonces++
	err := s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status})
	if err != nil && !errors.Is(err, exchange.ErrConflict) && !errors.Is(err, exchange.ErrNotFound) {
		s.rt.Log().WarnContext(ctx, "count failed c_nonce", "credential_exchange_id", rec.CredentialExchangeID,
			"error", err.Error())
	}
}

// requestedFormat checks that the request names what the exchange offers and returns the credential format to
// issue: for an SD-JWT VC, vc+sd-jwt for the draft-13 twin configuration or a draft request in that format, else
// dc+sd-jwt; for an mdoc or a JWT VC, the definition's format (named by its configuration id, or by format with
// doctype or credential_definition.type in draft requests).
func requestedFormat(rec *exchange.Record, req *oid4vci.CredentialRequest) (string, error) {
	def := &rec.Definition
	switch {
	case req.CredentialConfigurationID != "":
		if !offeredConfiguration(rec, req.CredentialConfigurationID) {
			return "", oid4vci.Errorf(oid4vci.ErrUnknownCredentialConfiguration, "the access token was not "+
				"granted this credential_configuration_id; request the one of the offer")
		}
		return configuredFormat(def, req.CredentialConfigurationID), nil
	case req.CredentialIdentifier != "":
		if !offeredConfiguration(rec, req.CredentialIdentifier) {
			return "", oid4vci.Errorf(oid4vci.ErrUnknownCredentialIdentifier, "the access token was not "+
				"granted this credential_identifier; use one of the token response's credential_identifiers")
		}
		return configuredFormat(def, req.CredentialIdentifier), nil
	}
	unknown := oid4vci.Errorf(oid4vci.ErrUnknownCredentialConfiguration, "the access token was not granted a "+
		"%s credential of this type; request the format and type of the offered configuration", req.Format)
	switch def.CredentialFormat {
	case definition.FormatMdoc:
		if req.Format != oid4vci.FormatMsoMdoc || req.DocType != def.DocType {
			return "", unknown
		}
		return definition.FormatMdoc, nil
	case definition.FormatJWTVC:
		if req.Format != oid4vci.FormatJWTVCJSON || !sameTypes(req.Types, def.Type) {
			return "", unknown
		}
		return definition.FormatJWTVC, nil
	}
	if req.Format != oid4vci.FormatSDJWTVC && req.Format != oid4vci.FormatLegacySDJWTVC {
		return "", unknown
	}
	if req.VCT != def.VCT {
		return "", oid4vci.Errorf(oid4vci.ErrUnknownCredentialConfiguration, "the access token was not "+
			"granted this vct; request the vct of the offered configuration")
	}
	return req.Format, nil
}

// configuredFormat is the format a configuration id of the exchange names: the definition's, or for an SD-JWT VC
// the one its id names (the twin suffix means vc+sd-jwt).
func configuredFormat(def *definition.Definition, id string) string {
	if !definition.IsSDJWT(def.CredentialFormat) {
		return def.CredentialFormat
	}
	_, f := oid4vci.SplitConfigurationID(id)
	return f
}

// sameTypes reports whether two type lists hold the same names (a draft wallet echoes credential_definition.type
// from the metadata; the order carries no meaning).
func sameTypes(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// transactionPointer is the TXN pointer of a deferral: the proven holder keys and the request's dialect, shape
// and format travel with it, so the deferred answer binds to those keys and speaks the same dialect.
func (s *Service) transactionPointer(rec *exchange.Record, proven *provenKeys, req *oid4vci.CredentialRequest, format string) (*exchange.Pointer, string, error) {
	txn, err := exchange.NewSecret(s.rt.Random())
	if err != nil {
		return nil, "", fmt.Errorf("defer credential: %w", err)
	}
	jwks := make([]map[string]any, len(proven.keys))
	for i, k := range proven.keys {
		jwks[i] = k.JWK
	}
	keys, err := json.Marshal(jwks)
	if err != nil {
		return nil, "", fmt.Errorf("defer credential: encode holder keys: %w", err)
	}
	return &exchange.Pointer{Key: exchange.PointerKey(exchange.PointerTransaction, txn), ExchangeID: rec.CredentialExchangeID,
		ExpiresAt: rec.ExpiresAt, Attributes: map[string]string{txnAttrKeys: string(keys),
			txnAttrDialect: req.Dialect.String(), txnAttrShape: req.ProofShape.String(), txnAttrFormat: format}}, txn, nil
}

// holderKeys decodes the JWKs a TXN pointer carries.
func holderKeys(encoded string) ([]jwk.Key, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(encoded), &raws); err != nil {
		return nil, fmt.Errorf("decode holder keys: %w", err)
	}
	if len(raws) == 0 {
		return nil, errors.New("decode holder keys: none stored")
	}
	keys := make([]jwk.Key, len(raws))
	for i, r := range raws {
		k, err := jwk.ParseKey(r)
		if err != nil {
			return nil, fmt.Errorf("decode holder key %d: %w", i, err)
		}
		keys[i] = k
	}
	return keys, nil
}
