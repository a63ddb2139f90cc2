package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// EventCredentialReady is the detail-type of the event of the write that gives a Deferred exchange its claims
// (exchange.EventCredentialReady).
const EventCredentialReady = exchange.EventCredentialReady

// MaxDeniedReasonLength bounds issuanceDeniedReason (characters).
const MaxDeniedReasonLength = 1024

// deferredAttempts bounds the read-decide-write rounds of a completion that keeps losing its conditional write.
const deferredAttempts = 8

// ErrCompletionRefused: a deferred completion or denial that can never apply to the exchange as it stands (not
// Deferred, already denied, already completed differently, already issued); nothing was changed. Retrying the
// same request gives the same answer.
var ErrCompletionRefused = errors.New("deferred completion refused")

// RefusalError is ErrCompletionRefused with the reason, safe to show and to log (never a claim value or the
// organisation's denial text).
type RefusalError struct {
	// Status is the exchange's status when the request was refused.
	Status exchange.Status
	// Reason says why and what to do instead.
	Reason string
}

// Error implements error.
func (e *RefusalError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrCompletionRefused) true.
func (e *RefusalError) Is(target error) bool { return target == ErrCompletionRefused }

func refuse(st exchange.Status, format string, args ...any) *RefusalError {
	return &RefusalError{Status: st, Reason: fmt.Sprintf(format, args...)}
}

// DeferredRequest is the body of PUT /credential/history/{credentialExchangeId}, and the detail of the
// DeferredCredentialReady / DeferredCredentialDenied events without the exchange id: the claims in credential
// and/or credentials[] (as in the issue request) complete the exchange; issuanceDenied with
// issuanceDeniedReason denies it.
type DeferredRequest struct {
	Credential           *CredentialInput  `json:"credential"`
	Credentials          []CredentialInput `json:"credentials"`
	IssuanceDenied       bool              `json:"issuanceDenied"`
	IssuanceDeniedReason string            `json:"issuanceDeniedReason"`
}

// Denial reports whether the request denies the exchange rather than completing it.
func (r *DeferredRequest) Denial() bool { return r.IssuanceDenied }

// Validate checks the request without the store: exactly one of claims or a denial, the claims as the issue
// request checks them, a printable non-empty denial reason. Errors are *validation.Error naming the field.
func (r *DeferredRequest) Validate() error {
	hasClaims := r.Credential != nil || len(r.Credentials) > 0
	switch {
	case r.IssuanceDenied && hasClaims:
		return validation.Invalid("issuanceDenied", "give either the claims (credential or credentials) or issuanceDenied, not both")
	case r.IssuanceDenied:
		return validateDeniedReason(r.IssuanceDeniedReason)
	case r.IssuanceDeniedReason != "":
		return validation.Invalid("issuanceDenied", "must be true when issuanceDeniedReason is given")
	}
	_, err := completionPayloads(r.Credential, r.Credentials)
	return err
}

func validateDeniedReason(reason string) error {
	switch {
	case reason == "":
		return validation.Invalid("issuanceDeniedReason", "is required with issuanceDenied: why the issuance is denied (shown in the history record)")
	case !utf8.ValidString(reason) || !validation.Printable(reason):
		return validation.Invalid("issuanceDeniedReason", "must be UTF-8 text without control characters")
	case utf8.RuneCountInString(reason) > MaxDeniedReasonLength:
		return validation.Invalid("issuanceDeniedReason", "is longer than %d characters", MaxDeniedReasonLength)
	}
	return nil
}

// completionPayloads validates and collects the claims of a completion exactly as the issue request does
// (same rules, same field names), and requires at least one payload.
func completionPayloads(credential *CredentialInput, credentials []CredentialInput) ([]exchange.CredentialPayload, error) {
	req := IssueRequest{Credential: credential, Credentials: credentials}
	payloads, err := payloadsOf(req)
	if err != nil {
		return nil, err
	}
	if len(payloads) == 0 {
		return nil, validation.Invalid("credential.credentialSubject", "is required: the claims that complete the deferred "+
			"issuance (or credentials[] for several credentials, or issuanceDenied to deny it)")
	}
	if err := checkSubjects(req, payloads); err != nil {
		return nil, err
	}
	if credential != nil && credential.Type != nil {
		if _, err := credentialTypes(credential.Type); err != nil {
			return nil, err
		}
	}
	return payloads, nil
}

// DeferredResult is the outcome of a completion or denial: the record as stored afterwards, and whether this
// call changed it (false when the same completion or denial had already been applied).
type DeferredResult struct {
	Record  exchange.Record
	Changed bool
}

// ApplyDeferred validates req and completes or denies the exchange (CompleteDeferred, DenyDeferred).
func (s *Service) ApplyDeferred(ctx context.Context, id string, req DeferredRequest) (DeferredResult, error) {
	if err := req.Validate(); err != nil {
		return DeferredResult{}, err
	}
	if req.Denial() {
		return s.DenyDeferred(ctx, id, req.IssuanceDeniedReason)
	}
	return s.CompleteDeferred(ctx, id, req.Credential, req.Credentials)
}

// CompleteDeferred gives a Deferred exchange its claims: they are validated as the issue request validates them,
// credentialStatus moves pending -> ready (the status does not change; the wallet's next credential or deferred
// credential request issues them); the write's event is credential.ready. The same claims again change nothing and
// return the stored record (EventBridge delivers at least once). Claims different from those already there, a
// denied, InTime or already issued exchange are a *RefusalError; unknown, deleted or expired exchanges
// ErrNotFound. The write is conditional on the version read: a concurrent change makes it read and decide again.
func (s *Service) CompleteDeferred(ctx context.Context, id string, credential *CredentialInput, credentials []CredentialInput) (DeferredResult, error) {
	if err := validation.ID("credentialExchangeId", id); err != nil {
		return DeferredResult{}, err
	}
	payloads, err := completionPayloads(credential, credentials)
	if err != nil {
		return DeferredResult{}, err
	}
	want, err := canonicalPayloads(payloads)
	if err != nil {
		return DeferredResult{}, wrap("complete deferred credential", err)
	}
	var typeVCT string
	if credential != nil && credential.Type != nil {
		types, _ := credentialTypes(credential.Type) // validated by completionPayloads
		typeVCT = types[len(types)-1]
	}
	fields := subjectFields(IssueRequest{Credential: credential, Credentials: credentials}, len(payloads))
	return s.retryDeferred(ctx, "complete deferred credential", id, func(rec *exchange.Record) (*exchange.Record, error) {
		if !rec.Dynamic {
			if err := s.checkFitsDefinition(rec.Definition, fields, payloads); err != nil {
				return nil, err
			}
		}
		return s.decideCompletion(ctx, rec, payloads, want, typeVCT)
	})
}

// DenyDeferred denies a Deferred exchange before any credential was issued: status issuance_denied with
// issuanceDeniedReason (the write's event is credential.issuance_denied); the wallet's requests get
// credential_request_denied. The same denial again changes nothing; a different reason after a denial, or a
// denial of an exchange that is InTime, already has its claims or was issued, is a *RefusalError.
func (s *Service) DenyDeferred(ctx context.Context, id, reason string) (DeferredResult, error) {
	if err := validation.ID("credentialExchangeId", id); err != nil {
		return DeferredResult{}, err
	}
	if err := validateDeniedReason(reason); err != nil {
		return DeferredResult{}, err
	}
	return s.retryDeferred(ctx, "deny deferred credential", id, func(rec *exchange.Record) (*exchange.Record, error) {
		return s.decideDenial(rec, reason)
	})
}

// retryDeferred reads the record, lets decide compute the next one (nil: nothing to change) and writes it
// conditionally on the version and status read, again from the start when a concurrent change won.
func (s *Service) retryDeferred(ctx context.Context, op, id string, decide func(*exchange.Record) (*exchange.Record, error)) (DeferredResult, error) {
	for attempt := 0; attempt < deferredAttempts; attempt++ {
		rec, err := s.store.GetExchange(ctx, id)
		if err != nil {
			return DeferredResult{}, wrap(op, err)
		}
		next, err := decide(&rec)
		if err != nil {
			return DeferredResult{}, wrap(op, err)
		}
		if next == nil {
			return DeferredResult{Record: rec}, nil
		}
		err = s.store.UpdateExchange(ctx, *next, exchange.Expect{Version: rec.Version, Status: rec.Status})
		if errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused) {
			continue // the wallet or another completion changed the record meanwhile: decide again on what it is now
		}
		if err != nil {
			return DeferredResult{}, wrap(op, err)
		}
		next.Version = rec.Version + 1
		return DeferredResult{Record: *next, Changed: true}, nil
	}
	return DeferredResult{}, fmt.Errorf("%s: the record kept changing concurrently: %w", op, exchange.ErrConflict)
}

// decideCompletion returns the completed record, nil when these claims are already the exchange's, or why the
// completion cannot apply.
func (s *Service) decideCompletion(ctx context.Context, rec *exchange.Record, payloads []exchange.CredentialPayload, want []byte, typeVCT string) (*exchange.Record, error) {
	if rec.IssuanceMode != exchange.ModeDeferred {
		return nil, refuse(rec.Status, "the exchange was issued %s with its claims; only %s exchanges are completed "+
			"later", rec.IssuanceMode, exchange.ModeDeferred)
	}
	if rec.Status == exchange.StatusIssuanceDenied {
		return nil, refuse(rec.Status, "the exchange was denied (issuance_denied) and cannot be completed; issue a new offer")
	}
	if typeVCT != "" && typeVCT != rec.Definition.TypeName() {
		return nil, validation.Invalid("credential.type", "names a type different from the exchange's type; omit it or make "+
			"its last element the %s the exchange was issued with", typeMember(rec.Definition.CredentialFormat))
	}
	if len(rec.Credentials) > 0 {
		have, err := canonicalPayloads(rec.Credentials)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(have, want) {
			return nil, nil
		}
		if rec.Status == exchange.StatusOfferSent || rec.Status == exchange.StatusOfferReceived {
			return nil, refuse(rec.Status, "the exchange already has different claims (credentialStatus ready); a "+
				"completion cannot be changed: delete the exchange and issue a new offer")
		}
		return nil, refuse(rec.Status, "the credentials were already issued to the wallet (status %s) with other "+
			"claims; issue a new offer", rec.Status)
	}
	if rec.Status != exchange.StatusOfferSent && rec.Status != exchange.StatusOfferReceived {
		return nil, refuse(rec.Status, "the exchange is %s and can no longer be completed; issue a new offer", rec.Status)
	}
	next := rec.Clone()
	if rec.Dynamic {
		// Issued without a definition: every top-level claim of the payloads becomes selectively disclosable,
		// as when the claims come with the issue request, and the metadata lists them.
		next.Definition = dynamicDefinition(rec.Definition.VCT, payloads)
		plan := issuePlan{configurationID: rec.ConfigurationID, definition: next.Definition,
			payloads: payloads}
		if err := s.store.PutDynamicConfiguration(ctx, plan.dynamicConfig(rec.ExpiresAt)); err != nil {
			return nil, err
		}
	}
	next.SetCredentials(payloads)
	next.UpdatedAt = s.rt.Unix()
	return &next, nil
}

// decideDenial returns the denied record, nil when it is already denied for this reason, or why it cannot be
// denied.
func (s *Service) decideDenial(rec *exchange.Record, reason string) (*exchange.Record, error) {
	switch {
	case rec.IssuanceMode != exchange.ModeDeferred:
		return nil, refuse(rec.Status, "the exchange was issued %s; only %s exchanges can be denied", rec.IssuanceMode, exchange.ModeDeferred)
	case rec.Status == exchange.StatusIssuanceDenied && rec.IssuanceDeniedReason == reason:
		return nil, nil
	case rec.Status == exchange.StatusIssuanceDenied:
		return nil, refuse(rec.Status, "the exchange was already denied with a different issuanceDeniedReason")
	case rec.Status != exchange.StatusOfferSent && rec.Status != exchange.StatusOfferReceived:
		return nil, refuse(rec.Status, "the credentials were already issued (status %s); a denial is only possible "+
			"before issuance: revoke the credential instead", rec.Status)
	case len(rec.Credentials) > 0:
		return nil, refuse(rec.Status, "the exchange already has its claims (credentialStatus ready) and the wallet "+
			"may be collecting them; it can no longer be denied: delete the exchange to withdraw the offer")
	}
	next := rec.Clone()
	if err := next.Transition(exchange.StatusIssuanceDenied, s.rt.Unix()); err != nil {
		return nil, err
	}
	next.IssuanceDeniedReason = reason
	return &next, nil
}

// canonicalPayloads is the normalized form two completions are compared in: JSON with sorted keys and every
// number in its shortest exact decimal form (so 1.50 and 1.5, 100 and 1e2 compare equal).
func canonicalPayloads(payloads []exchange.CredentialPayload) ([]byte, error) {
	raw, err := json.Marshal(payloads)
	if err != nil {
		return nil, fmt.Errorf("normalize claims: %w", err)
	}
	var v any
	if err := decodeNumbers(raw, &v); err != nil {
		return nil, fmt.Errorf("normalize claims: %w", err)
	}
	out, err := json.Marshal(canonicalNumbers(v))
	if err != nil {
		return nil, fmt.Errorf("normalize claims: %w", err)
	}
	return out, nil
}

// canonicalNumbers rewrites every json.Number of v into canonicalDecimal's form.
func canonicalNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, el := range t {
			t[k] = canonicalNumbers(el)
		}
		return t
	case []any:
		for i, el := range t {
			t[i] = canonicalNumbers(el)
		}
		return t
	case json.Number:
		return json.Number(canonicalDecimal(t.String()))
	}
	return v
}

// canonicalDecimal is one exact text per decimal value: integers up to 21 digits as such, everything else as
// 0.<digits>e<exponent> without leading or trailing zeros. Text that is not a JSON number is returned as is.
func canonicalDecimal(num string) string {
	s, neg := strings.CutPrefix(num, "-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > 1<<20 || e < -(1<<20) {
			return num
		}
		mant, exp = s[:i], e
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := whole + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return num
	}
	exp -= len(frac)
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0"
	}
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if exp >= 0 && len(digits)+exp <= 21 {
		return sign + digits + strings.Repeat("0", exp)
	}
	return sign + "0." + digits + "e" + strconv.Itoa(exp+len(digits))
}

// decodeNumbers decodes JSON keeping numbers as json.Number, so claim values compare exactly.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
