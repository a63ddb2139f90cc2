package issuance

import (
	"context"
	"errors"
)

// RegisterIndividual creates or replaces the offer endpoint of an individual.
func (s *Service) RegisterIndividual(ctx context.Context, id, endpoint string) (Individual, error) {
	if err := validateID("individualId", id); err != nil {
		return Individual{}, err
	}
	if endpoint == "" {
		return Individual{}, invalid("credentialOfferEndpoint", "is required: the wallet's credential offer endpoint")
	}
	if err := ValidateOfferEndpoint("credentialOfferEndpoint", endpoint); err != nil {
		return Individual{}, err
	}
	now := s.unix()
	ind := Individual{IndividualID: id, CredentialOfferEndpoint: endpoint, CreatedAt: now, UpdatedAt: now}
	old, err := s.store.GetIndividual(ctx, id)
	switch {
	case err == nil:
		ind.CreatedAt = old.CreatedAt
	case !errors.Is(err, ErrNotFound):
		return Individual{}, wrap("register individual", err)
	}
	if err := s.store.PutIndividual(ctx, ind); err != nil {
		return Individual{}, wrap("register individual", err)
	}
	return ind, nil
}

// GetIndividual returns an individual's registration (ErrNotFound).
func (s *Service) GetIndividual(ctx context.Context, id string) (Individual, error) {
	if err := validateID("individualId", id); err != nil {
		return Individual{}, err
	}
	ind, err := s.store.GetIndividual(ctx, id)
	return ind, wrap("get individual", err)
}

// DeleteIndividual removes an individual's registration (ErrNotFound).
func (s *Service) DeleteIndividual(ctx context.Context, id string) error {
	if err := validateID("individualId", id); err != nil {
		return err
	}
	return wrap("delete individual", s.store.DeleteIndividual(ctx, id))
}
