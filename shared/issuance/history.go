package issuance

import "context"

// GetExchange returns a history record (ErrNotFound, also after its retention).
func (s *Service) GetExchange(ctx context.Context, id string) (ExchangeRecord, error) {
	if err := validateID("credentialExchangeId", id); err != nil {
		return ExchangeRecord{}, err
	}
	rec, err := s.store.GetExchange(ctx, id)
	return rec, wrap("get credential history", err)
}

// ListExchanges lists history records newest first, filtered by status and/or definition.
func (s *Service) ListExchanges(ctx context.Context, filter ExchangeFilter, page PageRequest) (Page[ExchangeRecord], error) {
	if filter.Status != "" && !filter.Status.Valid() {
		return Page[ExchangeRecord]{}, invalid("status", "must be one of %v", Statuses())
	}
	if filter.CredentialDefinitionID != "" {
		if err := validateID("credentialDefinitionId", filter.CredentialDefinitionID); err != nil {
			return Page[ExchangeRecord]{}, err
		}
	}
	page, err := pageRequest(page)
	if err != nil {
		return Page[ExchangeRecord]{}, err
	}
	p, err := s.store.ListExchanges(ctx, filter, page)
	return p, wrap("list credential history", cursorError(err))
}

// DeleteExchange removes a history record and every pointer of it: the wallet can no longer redeem the offer.
func (s *Service) DeleteExchange(ctx context.Context, id string) error {
	if err := validateID("credentialExchangeId", id); err != nil {
		return err
	}
	return wrap("delete credential history", s.store.DeleteExchange(ctx, id))
}
