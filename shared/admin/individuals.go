package admin

import (
	"context"
	"errors"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// RegisterIndividual creates or replaces the offer endpoint of an individual.
func (s *Service) RegisterIndividual(ctx context.Context, id, endpoint string) (Individual, error) {
	if err := validation.ID("individualId", id); err != nil {
		return Individual{}, err
	}
	if endpoint == "" {
		return Individual{}, validation.Invalid("credentialOfferEndpoint", "is required: the wallet's credential offer endpoint")
	}
	if err := ValidateOfferEndpoint("credentialOfferEndpoint", endpoint); err != nil {
		return Individual{}, err
	}
	now := s.rt.Unix()
	ind := Individual{IndividualID: id, CredentialOfferEndpoint: endpoint, CreatedAt: now, UpdatedAt: now}
	old, err := s.store.GetIndividual(ctx, id)
	switch {
	case err == nil:
		ind.CreatedAt = old.CreatedAt
	case !errors.Is(err, exchange.ErrNotFound):
		return Individual{}, wrap("register individual", err)
	}
	if err := s.store.PutIndividual(ctx, ind); err != nil {
		return Individual{}, wrap("register individual", err)
	}
	return ind, nil
}

// GetIndividual returns an individual's registration (ErrNotFound).
func (s *Service) GetIndividual(ctx context.Context, id string) (Individual, error) {
	if err := validation.ID("individualId", id); err != nil {
		return Individual{}, err
	}
	ind, err := s.store.GetIndividual(ctx, id)
	return ind, wrap("get individual", err)
}

// DeleteIndividual removes an individual's registration (ErrNotFound).
func (s *Service) DeleteIndividual(ctx context.Context, id string) error {
	if err := validation.ID("individualId", id); err != nil {
		return err
	}
	return wrap("delete individual", s.store.DeleteIndividual(ctx, id))
}
