package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// maxConflictRetries bounds how often a use case re-reads and retries after losing a conditional write.
const maxConflictRetries = 5

// ErrOfferNotFound is the answer for an offer id that is unknown, expired, redeemed or of a denied exchange;
// errors.Is(err, ErrNotFound) holds too.
var ErrOfferNotFound = fmt.Errorf("credential offer: %w", exchange.ErrNotFound)

// FetchOffer resolves an offer by reference (GET /credential-offer/{offerId}): the 1.0 offer object with the
// pre-authorized code re-derived from the offer id, and, for an offer without tx_code, the authorization code grant
// with its issuer_state (derived the same way). The first fetch moves the record offer_sent ->
// offer_received; later fetches answer the same offer and change nothing. The offer id names its exchange, whose
// record is read directly and must hold the offer id's hash, an unredeemed code (the token endpoint clears its
// hash) and an unexpired offer; so an offer whose code was redeemed, expired or died, or whose exchange was
// denied or deleted, is ErrOfferNotFound.
func (s *Service) FetchOffer(ctx context.Context, offerID string) (*oid4vci.CredentialOffer, error) {
	id, ok := exchange.SecretExchangeID(offerID)
	if !ok || len(offerID) > validation.MaxIDLen {
		return nil, ErrOfferNotFound
	}
	for attempt := 0; ; attempt++ {
		rec, err := s.store.GetExchange(ctx, id)
		if errors.Is(err, exchange.ErrNotFound) {
			return nil, ErrOfferNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("fetch offer: %w", err)
		}
		if !exchange.SecretMatches(offerID, rec.OfferIDHash) || (rec.CodeHash == "" && rec.Presentation == nil) ||
			rec.OfferExpiresAt <= s.rt.Now().Unix() ||
			(rec.Status != exchange.StatusOfferSent && rec.Status != exchange.StatusOfferReceived) {
			return nil, ErrOfferNotFound
		}
		offer, err := s.offerOf(&rec, offerID)
		if err != nil {
			return nil, err
		}
		if rec.Status == exchange.StatusOfferReceived {
			return offer, nil
		}
		next := rec.Clone()
		if err := next.Transition(exchange.StatusOfferReceived, s.rt.Now().Unix()); err != nil {
			return nil, fmt.Errorf("fetch offer: %w", err)
		}
		err = s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status})
		switch {
		case err == nil:
			return offer, nil
		case (errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused)) && attempt < maxConflictRetries:
			continue // a concurrent fetch or redemption moved the record: read again
		case errors.Is(err, exchange.ErrNotFound):
			return nil, ErrOfferNotFound
		default:
			return nil, fmt.Errorf("fetch offer: %w", err)
		}
	}
}

// offerOf builds the offer object of a record.
func (s *Service) offerOf(rec *exchange.Record, offerID string) (*oid4vci.CredentialOffer, error) {
	var tx *oid4vci.TxCode
	if t := rec.TxCode; t != nil {
		tx = &oid4vci.TxCode{InputMode: t.InputMode, Length: t.Length, Description: s.cfg.TxCodeDescription}
	}
	if rec.Presentation != nil {
		// A dynamic credential request: the holder presents during authorization, so only that grant is offered
		// (until it is taken, which clears the issuer_state's hash and ends the offer).
		if rec.IssuerStateHash == "" {
			return nil, ErrOfferNotFound
		}
		offer, err := oid4vci.NewAuthorizationCodeOffer(s.cfg.IssuerURL, []string{rec.ConfigurationID}, exchange.IssuerState(offerID))
		if err != nil {
			return nil, fmt.Errorf("build offer: %w", err)
		}
		return offer, nil
	}
	offer, err := oid4vci.NewPreAuthorizedOffer(s.cfg.IssuerURL, []string{rec.ConfigurationID},
		exchange.PreAuthorizedCode(offerID), tx)
	if err != nil {
		return nil, fmt.Errorf("build offer: %w", err)
	}
	if rec.IssuerStateHash != "" {
		offer.Grants.AuthorizationCode = &oid4vci.AuthorizationCodeGrant{IssuerState: exchange.IssuerState(offerID)}
	}
	return offer, nil
}
