package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// errCodeUnknown answers a pre-authorized code that is malformed, unknown, expired or already used.
var errCodeUnknown = oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the pre-authorized code is unknown, expired or "+
	"already used; ask the issuer for a new offer")

// maxClientIDLen bounds the client_id recorded from a token request.
const maxClientIDLen = 256

// RedeemPreAuthorizedCode runs the token endpoint's pre-authorized code grant. The code names its exchange,
// whose record is read directly and must hold the code's hash and an unexpired offer. The code is single use
// even under concurrent requests: the transaction that writes the record (status offer_received, the code's
// hash cleared, the access token's hash) is conditional on the version read and consumes the code's CODE
// pointer (its single-use and validity guard) and creates the c_nonce's NONCE pointer, so exactly one request
// wins. A wrong tx_code counts an attempt with a conditional write; the Config.MaxTxCodeAttempts-th
// wrong one kills the code and denies issuance. Failures are *oid4vci.Error: invalid_grant for an unknown,
// expired, used or dead code and for a wrong tx_code, invalid_request for a missing or unexpected tx_code,
// invalid_authorization_details for a configuration that was not offered.
//
// client is what AuthenticateClient learned of the client (nil: no DPoP proof and no attestation). Once the code
// and tx_code are right, the exchange's definition decides (admitClient): a failed client attestation denies the
// issuance (issuance_denied with the reason, the attestation recorded as presented) and is invalid_client; a
// missing required attestation is invalid_client and a missing required DPoP proof invalid_dpop_proof, both
// leaving the exchange as it was. A token of a request with a DPoP proof is bound to its key (token_type DPoP).
func (s *Service) RedeemPreAuthorizedCode(ctx context.Context, req *oid4vci.TokenRequest, client *Client) (*oid4vci.TokenResponse, error) {
	if req == nil || req.PreAuthorizedCode == "" {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "pre-authorized_code is required")
	}
	if client == nil {
		client = &Client{ClientID: req.ClientID}
	}
	codeKey := exchange.PointerKey(exchange.PointerCode, req.PreAuthorizedCode)
	id, ok := exchange.SecretExchangeID(req.PreAuthorizedCode)
	if !ok || len(req.PreAuthorizedCode) > validation.MaxIDLen {
		return nil, errCodeUnknown
	}
	// A lost write means another request's write landed; while the code lives at most MaxTxCodeAttempts wrong
	// guesses, one redemption and one offer fetch can land. So with this bound every guess is decided on the
	// record as it ends up: a wrong one is counted before it is answered, a right one wins or finds the code
	// dead. A smaller bound would answer a guess unchecked against the cap, differently for a right and a wrong
	// tx_code, and a burst of parallel guesses could then test more tx_codes than the cap allows.
	retries := maxConflictRetries + s.cfg.MaxTxCodeAttempts
	for attempt := 0; ; attempt++ {
		rec, err := s.store.GetExchange(ctx, id)
		if errors.Is(err, exchange.ErrNotFound) {
			return nil, errCodeUnknown
		}
		if err != nil {
			return nil, fmt.Errorf("redeem pre-authorized code: %w", err)
		}
		if !exchange.SecretMatches(req.PreAuthorizedCode, rec.CodeHash) || rec.OfferExpiresAt <= s.rt.Now().Unix() {
			return nil, errCodeUnknown
		}
		switch rec.Status {
		case exchange.StatusOfferSent, exchange.StatusOfferReceived:
		case exchange.StatusIssuanceDenied:
			return nil, oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the issuer denied this issuance; the "+
				"pre-authorized code is no longer valid")
		default:
			return nil, oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the pre-authorized code was already used")
		}
		if err := req.CheckTxCode(rec.TxCode != nil); err != nil {
			return nil, err
		}
		if rec.TxCode != nil && !rec.TxCode.Verify(req.TxCode) {
			denied, err := s.recordWrongTxCode(ctx, &rec, codeKey)
			if (errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused)) && attempt < retries {
				continue // another request changed the record: count this attempt on the fresh state
			}
			if err != nil && !errors.Is(err, exchange.ErrNotFound) {
				return nil, fmt.Errorf("record wrong tx_code: %w", err)
			}
			if denied {
				return nil, oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the tx_code is wrong, and that was the "+
					"last attempt: the pre-authorized code is no longer valid; ask the issuer for a new offer")
			}
			return nil, oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the tx_code is wrong; check the code "+
				"the issuer sent and try again (attempts are limited)")
		}
		details, err := s.grantedDetails(&rec, req.AuthorizationDetails)
		if err != nil {
			return nil, err
		}
		if reason, err := s.admitClient(&rec, client); reason != "" {
			conflict, err := s.denyClient(ctx, &rec, []exchange.PointerOp{{Consume: codeKey}}, client, reason, err)
			if conflict && attempt < retries {
				continue
			}
			return nil, err
		} else if err != nil {
			return nil, err
		}
		resp, err := s.issueAccessToken(ctx, &rec, []exchange.PointerOp{{Consume: codeKey}}, req, client,
			func(next *exchange.Record) {
				next.CodeHash = ""        // spent: neither the token endpoint nor the offer endpoint accepts it again
				next.IssuerStateHash = "" // one grant per offer: the authorization code grant dies with it
			})
		var gone *exchange.PointerGoneError
		if errors.As(err, &gone) && gone.Kind() == exchange.PointerCode {
			return nil, errCodeUnknown // its guard says the code was used or expired meanwhile
		}
		if (errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused)) && attempt < retries {
			continue // lost against a concurrent redemption or fetch: the next round sees which
		}
		if errors.Is(err, exchange.ErrNotFound) || errors.Is(err, exchange.ErrConflict) {
			return nil, errCodeUnknown // the record is gone, or the code guard was: expired or used
		}
		if err != nil {
			return nil, fmt.Errorf("redeem pre-authorized code: %w", err)
		}
		resp.AuthorizationDetails = details
		return resp, nil
	}
}

// recordWrongTxCode counts a wrong tx_code; at the cap it kills the code and denies issuance. It reports
// whether the exchange is now denied.
func (s *Service) recordWrongTxCode(ctx context.Context, rec *exchange.Record, codeKey string) (bool, error) {
	next := rec.Clone()
	next.TxCode.Attempts++
	next.UpdatedAt = s.rt.Now().Unix()
	var ops []exchange.PointerOp
	denied := next.TxCode.Attempts >= s.cfg.MaxTxCodeAttempts
	if denied {
		if err := next.Transition(exchange.StatusIssuanceDenied, next.UpdatedAt); err != nil {
			return false, err
		}
		next.IssuanceDeniedReason = TxCodeAttemptsExhaustedReason
		ops = append(ops, exchange.PointerOp{Consume: codeKey})
	}
	if err := s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status}, ops...); err != nil {
		return false, err
	}
	if denied {
		s.rt.Log().InfoContext(ctx, "pre-authorized code dead after wrong tx_code attempts",
			"credential_exchange_id", rec.CredentialExchangeID)
	}
	return denied, nil
}

// denyClient denies the issuance for a client attestation that failed (writeClientDenial) and says how both grants
// go on: conflict when another write came first (read the record again while retries remain), else the answer -
// refusal (the attestation's error) once the denial is written or the exchange is gone, or the denial's own failure.
func (s *Service) denyClient(ctx context.Context, rec *exchange.Record, ops []exchange.PointerOp, c *Client, reason string, refusal error) (conflict bool, err error) {
	derr := s.writeClientDenial(ctx, rec, ops, c, reason)
	conflict = errors.Is(derr, exchange.ErrConflict) || errors.Is(derr, exchange.ErrTransitionRefused)
	if derr != nil && !errors.Is(derr, exchange.ErrNotFound) && !errors.Is(derr, exchange.ErrConflict) {
		return conflict, fmt.Errorf("deny issuance: %w", derr)
	}
	return conflict, refusal
}

// writeClientDenial records a client attestation that failed (as presented, with its decoded payload), denies the
// issuance with reason and applies ops (the pre-authorized code's guard is consumed), in one write conditional on
// the record read.
func (s *Service) writeClientDenial(ctx context.Context, rec *exchange.Record, ops []exchange.PointerOp, c *Client, reason string) error {
	next := rec.Clone()
	now := s.rt.Now().Unix()
	recordClient(&next, c)
	next.AccessTokenJKT = "" // no token is issued
	if err := next.Transition(exchange.StatusIssuanceDenied, now); err != nil {
		return err
	}
	next.IssuanceDeniedReason = reason
	err := s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status}, ops...)
	if err != nil {
		return err
	}
	s.rt.Log().InfoContext(ctx, "issuance denied: client attestation failed", "credential_exchange_id",
		rec.CredentialExchangeID, "failure", string(c.AttestationFailure.Kind))
	return nil
}

// issueAccessToken spends the grant (spend changes the record, ops consume its pointers) and stores the access
// token's hash and deadline (and its DPoP binding and the client's attestation) in the record, in one write
// conditional on the version read, and answers a stateless first c_nonce (NewNonce) that expires with the token at
// the latest. Every grant goes through it, so DPoP binding and client attestation apply to all alike.
func (s *Service) issueAccessToken(ctx context.Context, rec *exchange.Record, ops []exchange.PointerOp, req *oid4vci.TokenRequest, client *Client, spend func(next *exchange.Record)) (*oid4vci.TokenResponse, error) {
	token, err := exchange.NewExchangeSecret(s.rt.Random(), rec.CredentialExchangeID)
	if err != nil {
		return nil, err
	}
	now := s.rt.Now()
	ttl := s.cfg.AccessTokenTTL
	if rec.IssuanceMode == exchange.ModeDeferred {
		ttl = s.cfg.DeferredAccessTokenTTL
	}
	tokenExp := min(now.Add(ttl).Unix(), rec.ExpiresAt)
	nonceExp := min(now.Add(s.cfg.NonceTTL).Unix(), tokenExp)
	nonce, err := s.nonces.Mint(time.Unix(nonceExp, 0))
	if err != nil {
		return nil, err
	}
	next := rec.Clone()
	next.UpdatedAt = now.Unix()
	if rec.Status == exchange.StatusOfferSent {
		if err := next.Transition(exchange.StatusOfferReceived, now.Unix()); err != nil {
			return nil, err
		}
	}
	if req.ClientID != "" && len(req.ClientID) <= maxClientIDLen {
		next.ClientID = req.ClientID
	}
	spend(&next)
	next.AccessTokenHash = exchange.HashSecret(token)
	next.AccessTokenExpiresAt = tokenExp
	recordClient(&next, client)
	if err := s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status}, ops...); err != nil {
		return nil, err
	}
	resp := oid4vci.NewTokenResponse(token, secondsUntil(now, tokenExp),
		&oid4vci.CNonce{Value: nonce, ExpiresInSeconds: secondsUntil(now, nonceExp)})
	if next.AccessTokenJKT != "" {
		resp.TokenType = oid4vci.TokenTypeDPoP
	}
	return resp, nil
}

// grantedDetails answers authorization_details: each must name the offered configuration (or its vc+sd-jwt
// twin), and gets that id back as its credential_identifier.
func (s *Service) grantedDetails(rec *exchange.Record, asked []oid4vci.AuthorizationDetail) ([]oid4vci.AuthorizationDetail, error) {
	if len(asked) == 0 {
		return nil, nil
	}
	out := make([]oid4vci.AuthorizationDetail, 0, len(asked))
	for i, d := range asked {
		if !offeredConfiguration(rec, d.CredentialConfigurationID) {
			return nil, oid4vci.Errorf(oid4vci.ErrInvalidAuthorizationDetails, "authorization_details[%d] names "+
				"a credential_configuration_id that this offer does not offer", i)
		}
		d.CredentialIdentifiers = []string{d.CredentialConfigurationID}
		out = append(out, d)
	}
	return out, nil
}

// offeredConfiguration reports whether id is the exchange's configuration id or, for an SD-JWT VC, its vc+sd-jwt
// twin (mdoc and JWT VC configurations have none).
func offeredConfiguration(rec *exchange.Record, id string) bool {
	if id == "" {
		return false
	}
	if !definition.IsSDJWT(rec.Definition.CredentialFormat) {
		return id == rec.ConfigurationID
	}
	base, _ := oid4vci.SplitConfigurationID(id)
	return base == rec.ConfigurationID
}

// secondsUntil is the whole seconds from now until the unix time t (at least 1).
func secondsUntil(now time.Time, t int64) int {
	return int(max(t-now.Unix(), 1))
}
