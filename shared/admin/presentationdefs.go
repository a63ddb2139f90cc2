package admin

import (
	"context"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// DefinePresentation validates spec and stores it as a new presentation definition.
func (s *Service) DefinePresentation(ctx context.Context, spec presentationdef.Spec) (presentationdef.Definition, error) {
	if err := spec.Normalize(); err != nil {
		return presentationdef.Definition{}, err
	}
	id, err := exchange.NewID(s.rt.Random())
	if err != nil {
		return presentationdef.Definition{}, wrap("define presentation", err)
	}
	now := s.rt.Now()
	d := presentationdef.Definition{ID: id, Spec: spec, CreatedAt: now.Unix(), UpdatedAt: now.Unix(), Version: 1,
		CreatedNanos: now.UnixNano()}
	if err := s.store.CreatePresentationDefinition(ctx, d); err != nil {
		return presentationdef.Definition{}, wrap("define presentation", err)
	}
	return d, nil
}

// GetPresentationDefinition returns a presentation definition (ErrNotFound).
func (s *Service) GetPresentationDefinition(ctx context.Context, id string) (presentationdef.Definition, error) {
	if err := validation.ID("presentationDefinitionId", id); err != nil {
		return presentationdef.Definition{}, err
	}
	d, err := s.store.GetPresentationDefinition(ctx, id)
	return d, wrap("get presentation definition", err)
}

// ReplacePresentationDefinition replaces a presentation definition's spec, keeping its id and createdAt. Exchanges
// created with it keep the copy they took.
func (s *Service) ReplacePresentationDefinition(ctx context.Context, id string, spec presentationdef.Spec) (presentationdef.Definition, error) {
	if err := validation.ID("presentationDefinitionId", id); err != nil {
		return presentationdef.Definition{}, err
	}
	if err := spec.Normalize(); err != nil {
		return presentationdef.Definition{}, err
	}
	old, err := s.store.GetPresentationDefinition(ctx, id)
	if err != nil {
		return presentationdef.Definition{}, wrap("replace presentation definition", err)
	}
	d := presentationdef.Definition{ID: id, Spec: spec, CreatedAt: old.CreatedAt, UpdatedAt: s.rt.Unix(),
		Version: old.Version + 1, CreatedNanos: old.CreatedNanos}
	if err := s.store.ReplacePresentationDefinition(ctx, d, old.Version); err != nil {
		return presentationdef.Definition{}, wrap("replace presentation definition", err)
	}
	return d, nil
}

// DeletePresentationDefinition removes a presentation definition (open exchanges keep their copy).
func (s *Service) DeletePresentationDefinition(ctx context.Context, id string) error {
	if err := validation.ID("presentationDefinitionId", id); err != nil {
		return err
	}
	return wrap("delete presentation definition", s.store.DeletePresentationDefinition(ctx, id))
}

// ListPresentationDefinitions lists presentation definitions newest first.
func (s *Service) ListPresentationDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[presentationdef.Definition], error) {
	page, err := pageRequest(page)
	if err != nil {
		return exchange.Page[presentationdef.Definition]{}, err
	}
	p, err := s.store.ListPresentationDefinitions(ctx, page)
	return p, wrap("list presentation definitions", cursorError(err))
}
