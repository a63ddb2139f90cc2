package issuance

import (
	"context"
	"strings"
)

// DefineCredential validates spec and stores it as a new definition.
func (s *Service) DefineCredential(ctx context.Context, spec DefinitionSpec) (CredentialDefinition, error) {
	if err := spec.Normalize(); err != nil {
		return CredentialDefinition{}, err
	}
	id, err := NewID(s.rand)
	if err != nil {
		return CredentialDefinition{}, wrap("define credential", err)
	}
	now := s.now()
	d := CredentialDefinition{ID: id, DefinitionSpec: spec, CreatedAt: now.Unix(), UpdatedAt: now.Unix(), Version: 1,
		CreatedNanos: now.UnixNano()}
	if err := s.store.CreateDefinition(ctx, d); err != nil {
		return CredentialDefinition{}, wrap("define credential", err)
	}
	return d, nil
}

// GetDefinition returns a definition (ErrNotFound).
func (s *Service) GetDefinition(ctx context.Context, id string) (CredentialDefinition, error) {
	if err := validateID("credentialDefinitionId", id); err != nil {
		return CredentialDefinition{}, err
	}
	d, err := s.store.GetDefinition(ctx, id)
	return d, wrap("get credential definition", err)
}

// ReplaceDefinition replaces a definition's spec, keeping its id and createdAt. Open exchanges keep the copy
// they took when they were created.
func (s *Service) ReplaceDefinition(ctx context.Context, id string, spec DefinitionSpec) (CredentialDefinition, error) {
	if err := validateID("credentialDefinitionId", id); err != nil {
		return CredentialDefinition{}, err
	}
	if err := spec.Normalize(); err != nil {
		return CredentialDefinition{}, err
	}
	old, err := s.store.GetDefinition(ctx, id)
	if err != nil {
		return CredentialDefinition{}, wrap("replace credential definition", err)
	}
	d := CredentialDefinition{ID: id, DefinitionSpec: spec, CreatedAt: old.CreatedAt, UpdatedAt: s.unix(),
		Version: old.Version + 1, CreatedNanos: old.CreatedNanos}
	if err := s.store.ReplaceDefinition(ctx, d, old.Version); err != nil {
		return CredentialDefinition{}, wrap("replace credential definition", err)
	}
	return d, nil
}

// DeleteDefinition removes a definition (exchanges created from it keep their copy).
func (s *Service) DeleteDefinition(ctx context.Context, id string) error {
	if err := validateID("credentialDefinitionId", id); err != nil {
		return err
	}
	return wrap("delete credential definition", s.store.DeleteDefinition(ctx, id))
}

// ListDefinitions lists definitions newest first.
func (s *Service) ListDefinitions(ctx context.Context, page PageRequest) (Page[CredentialDefinition], error) {
	page, err := pageRequest(page)
	if err != nil {
		return Page[CredentialDefinition]{}, err
	}
	p, err := s.store.ListDefinitions(ctx, page)
	return p, wrap("list credential definitions", cursorError(err))
}

// maxIDLen bounds every id in a path or a body.
const maxIDLen = 256

// validateID checks an id taken from a path or a body: non-empty, bounded, printable ASCII without '#' (the
// store's key separator) or '/'.
func validateID(field, id string) error {
	if id == "" {
		return invalid(field, "is required")
	}
	if len(id) > maxIDLen {
		return invalid(field, "is longer than %d characters", maxIDLen)
	}
	if strings.ContainsAny(id, "#/") {
		return invalid(field, "must not contain '#' or '/'")
	}
	for _, r := range id {
		if r <= ' ' || r > '~' {
			return invalid(field, "must be printable ASCII without spaces")
		}
	}
	return nil
}
