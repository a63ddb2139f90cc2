package admin

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// ValidateOfferEndpoint checks a wallet's credential offer endpoint: an absolute https URL (http only for
// loopback hosts, for local wallets), without credentials or fragment.
func ValidateOfferEndpoint(field, endpoint string) error {
	return validation.HTTPSURL(field, endpoint, maxEndpointLen, true, "https://wallet.example/credential_offer")
}

// deliveryEndpoint resolves where the offer goes (the request is already validated): credentialOfferEndpoint,
// or the endpoint registered for individualId, or nowhere.
func (s *Service) deliveryEndpoint(ctx context.Context, req IssueRequest) (string, error) {
	if req.CredentialOfferEndpoint != "" || req.IndividualID == "" {
		return req.CredentialOfferEndpoint, nil
	}
	ind, err := s.store.GetIndividual(ctx, req.IndividualID)
	if errors.Is(err, exchange.ErrNotFound) {
		return "", validation.Invalid("individualId", "no credential offer endpoint is registered for this individual; "+
			"register one with PUT /individual/{individualId}")
	}
	if err != nil {
		return "", wrap("issue credential", err)
	}
	return ind.CredentialOfferEndpoint, nil
}

// recordDelivery delivers the offer and stores the outcome on the record (retrying once if the wallet moved the
// record on meanwhile). The returned record is the latest one known.
func (s *Service) recordDelivery(ctx context.Context, rec exchange.Record, endpoint string) exchange.Record {
	_, q, _ := strings.Cut(rec.CredentialOffer, "?")
	v, _ := url.ParseQuery(q)
	attempted := s.rt.Unix()
	d := s.deliver.DeliverOffer(ctx, endpoint, v.Get("credential_offer_uri"))
	d.Endpoint, d.AttemptedAt = endpoint, attempted
	for attempt := 0; attempt < 3; attempt++ {
		next := rec.Clone()
		next.OfferDelivery = &d
		next.UpdatedAt = s.rt.Unix()
		next.Version = rec.Version + 1
		err := s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status})
		if err == nil {
			return next
		}
		if !errors.Is(err, exchange.ErrConflict) {
			break
		}
		latest, gerr := s.store.GetExchange(ctx, rec.CredentialExchangeID)
		if gerr != nil {
			break
		}
		rec = latest
	}
	s.rt.Log().WarnContext(ctx, "could not record offer delivery outcome",
		"credential_exchange_id", rec.CredentialExchangeID, "outcome", d.Outcome)
	rec.OfferDelivery = &d
	return rec
}

// IsLocalIssuer reports whether the issuer URL names a loopback host: a local run, where offer endpoints on
// loopback are wallets on the same machine (so the delivery client may connect to loopback addresses).
func IsLocalIssuer(issuerURL string) bool {
	u, err := url.Parse(issuerURL)
	return err == nil && validation.Loopback(u.Hostname())
}
