package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// PresentationEvidence is what a verified OpenID4VP presentation (the holder authentication of a dynamic
// credential request, shared/presentation) adds to the exchange: the presentation definition, the id of the
// presentation exchange, and the verified presented credentials and claims (what the organisation completes a
// deferred exchange from).
type PresentationEvidence struct {
	// DefinitionID is the presentation definition asked for.
	DefinitionID string
	// ExchangeID names the OpenID4VP exchange (presentationExchangeId).
	ExchangeID string
	// Claims are the verified claims of each presented credential by the credential query (or input descriptor)
	// id it answers.
	Claims map[string]any
	// Credentials describe each presented credential (query id, issuer, vct, why trusted, status, holder key).
	Credentials []map[string]any
}

// applyTo records the presentation on rec: its ids, the presented credentials and claims under holder, and no
// failure any more.
func (p *PresentationEvidence) applyTo(rec *exchange.Record) {
	if p == nil {
		return
	}
	rec.PresentationDefinitionID, rec.PresentationExchangeID, rec.PresentationFailure = p.DefinitionID, p.ExchangeID, nil
	if rec.Holder == nil {
		rec.Holder = map[string]any{}
	}
	rec.Holder[exchange.HolderPresentedClaims] = p.Claims
	rec.Holder["presentedCredentials"] = p.Credentials
}

// recordRefusal records on the exchange why the holder's presentation was refused (presentationFailure; the
// publisher derives credential.presentation_failed from the write), so that the organisation sees it; nothing else of the record changes.
// Only presentations of an offer's exchange are recorded (a wallet-initiated request has no exchange yet); a
// failure to record is logged, not answered: the wallet's answer is the refusal.
func (s *Service) recordRefusal(ctx context.Context, session *exchange.AuthorizationSession, refusal *oid4vci.Error) {
	if session.Method != definition.HolderAuthOpenID4VP || session.ExchangeID == "" {
		return
	}
	for attempt := 0; ; attempt++ {
		rec, err := s.store.GetExchange(ctx, session.ExchangeID)
		if err != nil {
			s.logRecordFailure(ctx, session, err)
			return
		}
		next := rec.Clone()
		next.UpdatedAt = s.rt.Unix()
		count := 1
		if rec.PresentationFailure != nil {
			count = rec.PresentationFailure.Count + 1
		}
		next.PresentationFailure = &exchange.PresentationFailure{Reason: refusal.Description, At: next.UpdatedAt,
			Count: count}
		err = s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status})
		if errors.Is(err, exchange.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			s.logRecordFailure(ctx, session, err)
		}
		return
	}
}

func (s *Service) logRecordFailure(ctx context.Context, session *exchange.AuthorizationSession, err error) {
	s.rt.Log().WarnContext(ctx, "recording a refused presentation failed", "credential_exchange_id", session.ExchangeID,
		"error", fmt.Sprint(err))
}
