package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
)

func presentationDefItem(d presentationdef.Definition) (map[string]types.AttributeValue, error) {
	return presentationDefinitions.item(d.ID, d, d.Version, d.CreatedAt, d.CreatedNanos)
}

func presentationDefFrom(item map[string]types.AttributeValue) (presentationdef.Definition, error) {
	var d presentationdef.Definition
	var err error
	d.Version, d.CreatedNanos, err = presentationDefinitions.decode(item, &d)
	return d, err
}

// CreatePresentationDefinition implements admin.PresentationDefinitionStore.
func (st *Store) CreatePresentationDefinition(ctx context.Context, d presentationdef.Definition) error {
	item, err := presentationDefItem(d)
	if err != nil {
		return err
	}
	return st.createConfig(ctx, presentationDefinitions, item)
}

// GetPresentationDefinition implements admin.PresentationDefinitionStore.
func (st *Store) GetPresentationDefinition(ctx context.Context, id string) (presentationdef.Definition, error) {
	item, err := st.getConfig(ctx, presentationDefinitions, id)
	if err != nil {
		return presentationdef.Definition{}, err
	}
	return presentationDefFrom(item)
}

// ReplacePresentationDefinition implements admin.PresentationDefinitionStore.
func (st *Store) ReplacePresentationDefinition(ctx context.Context, d presentationdef.Definition, expectedVersion int64) error {
	item, err := presentationDefItem(d)
	if err != nil {
		return err
	}
	return st.replaceConfig(ctx, presentationDefinitions, d.ID, item, expectedVersion)
}

// DeletePresentationDefinition implements admin.PresentationDefinitionStore.
func (st *Store) DeletePresentationDefinition(ctx context.Context, id string) error {
	return st.deleteConfig(ctx, presentationDefinitions, id)
}

// ListPresentationDefinitions implements admin.PresentationDefinitionStore: a Query of GSI1, newest first.
func (st *Store) ListPresentationDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[presentationdef.Definition], error) {
	return listConfig(ctx, st, presentationDefinitions, page, presentationDefFrom)
}
