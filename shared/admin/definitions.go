package admin

import (
	"context"
	"errors"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// DefineCredential validates spec and stores it as a new definition.
func (s *Service) DefineCredential(ctx context.Context, spec definition.Spec) (definition.Definition, error) {
	if err := spec.Normalize(); err != nil {
		return definition.Definition{}, err
	}
	if err := s.checkPresentationRef(ctx, &spec); err != nil {
		return definition.Definition{}, err
	}
	id, err := exchange.NewID(s.rt.Random())
	if err != nil {
		return definition.Definition{}, wrap("define credential", err)
	}
	now := s.rt.Now()
	d := definition.Definition{ID: id, Spec: spec, CreatedAt: now.Unix(), UpdatedAt: now.Unix(), Version: 1,
		CreatedNanos: now.UnixNano()}
	if err := s.store.CreateDefinition(ctx, d); err != nil {
		return definition.Definition{}, wrap("define credential", err)
	}
	return d, nil
}

// GetDefinition returns a definition (ErrNotFound).
func (s *Service) GetDefinition(ctx context.Context, id string) (definition.Definition, error) {
	if err := validation.ID("credentialDefinitionId", id); err != nil {
		return definition.Definition{}, err
	}
	d, err := s.store.GetDefinition(ctx, id)
	return d, wrap("get credential definition", err)
}

// ReplaceDefinition replaces a definition's spec, keeping its id and createdAt. Open exchanges keep the copy
// they took when they were created.
func (s *Service) ReplaceDefinition(ctx context.Context, id string, spec definition.Spec) (definition.Definition, error) {
	if err := validation.ID("credentialDefinitionId", id); err != nil {
		return definition.Definition{}, err
	}
	if err := spec.Normalize(); err != nil {
		return definition.Definition{}, err
	}
	if err := s.checkPresentationRef(ctx, &spec); err != nil {
		return definition.Definition{}, err
	}
	old, err := s.store.GetDefinition(ctx, id)
	if err != nil {
		return definition.Definition{}, wrap("replace credential definition", err)
	}
	d := definition.Definition{ID: id, Spec: spec, CreatedAt: old.CreatedAt, UpdatedAt: s.rt.Unix(),
		Version: old.Version + 1, CreatedNanos: old.CreatedNanos}
	if err := s.store.ReplaceDefinition(ctx, d, old.Version); err != nil {
		return definition.Definition{}, wrap("replace credential definition", err)
	}
	return d, nil
}

// DeleteDefinition removes a definition (exchanges created from it keep their copy).
func (s *Service) DeleteDefinition(ctx context.Context, id string) error {
	if err := validation.ID("credentialDefinitionId", id); err != nil {
		return err
	}
	return wrap("delete credential definition", s.store.DeleteDefinition(ctx, id))
}

// ListDefinitions lists definitions newest first.
func (s *Service) ListDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[definition.Definition], error) {
	page, err := pageRequest(page)
	if err != nil {
		return exchange.Page[definition.Definition]{}, err
	}
	p, err := s.store.ListDefinitions(ctx, page)
	return p, wrap("list credential definitions", cursorError(err))
}

// checkPresentationRef refuses a definition whose presentationDefinitionId (what a wallet-initiated holder must
// present) names no presentation definition.
func (s *Service) checkPresentationRef(ctx context.Context, spec *definition.Spec) error {
	if spec.PresentationDefinitionID == "" {
		return nil
	}
	_, err := s.store.GetPresentationDefinition(ctx, spec.PresentationDefinitionID)
	if errors.Is(err, exchange.ErrNotFound) {
		return validation.Invalid("presentationDefinitionId", "no presentation definition has this id; create one with "+
			"POST /presentation-definition")
	}
	return wrap("check presentation definition", err)
}
