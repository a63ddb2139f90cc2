package admin

import (
	"context"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// GetExchange returns a history record (ErrNotFound, also after its retention).
func (s *Service) GetExchange(ctx context.Context, id string) (exchange.Record, error) {
	if err := validation.ID("credentialExchangeId", id); err != nil {
		return exchange.Record{}, err
	}
	rec, err := s.store.GetExchange(ctx, id)
	return rec, wrap("get credential history", err)
}

// ListExchanges lists history records newest first, filtered by status and/or definition.
func (s *Service) ListExchanges(ctx context.Context, filter exchange.Filter, page exchange.PageRequest) (exchange.Page[exchange.Record], error) {
	if filter.Status != "" && !filter.Status.Valid() {
		return exchange.Page[exchange.Record]{}, validation.Invalid("status", "must be one of %v", exchange.Statuses())
	}
	if filter.CredentialDefinitionID != "" {
		if err := validation.ID("credentialDefinitionId", filter.CredentialDefinitionID); err != nil {
			return exchange.Page[exchange.Record]{}, err
		}
	}
	page, err := pageRequest(page)
	if err != nil {
		return exchange.Page[exchange.Record]{}, err
	}
	p, err := s.store.ListExchanges(ctx, filter, page)
	return p, wrap("list credential history", cursorError(err))
}

// DeleteExchange removes a history record and every pointer of it: the wallet can no longer redeem the offer.
func (s *Service) DeleteExchange(ctx context.Context, id string) error {
	if err := validation.ID("credentialExchangeId", id); err != nil {
		return err
	}
	return wrap("delete credential history", s.store.DeleteExchange(ctx, id))
}
