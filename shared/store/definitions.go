package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

func definitionItem(d definition.Definition) (map[string]types.AttributeValue, error) {
	return credentialDefinitions.item(d.ID, d, d.Version, d.CreatedAt, d.CreatedNanos)
}

func definitionFrom(item map[string]types.AttributeValue) (definition.Definition, error) {
	var d definition.Definition
	var err error
	d.Version, d.CreatedNanos, err = credentialDefinitions.decode(item, &d)
	return d, err
}

// CreateDefinition implements admin.DefinitionStore.
func (st *Store) CreateDefinition(ctx context.Context, d definition.Definition) error {
	item, err := definitionItem(d)
	if err != nil {
		return err
	}
	return st.createConfig(ctx, credentialDefinitions, item)
}

// GetDefinition implements admin.DefinitionStore.
func (st *Store) GetDefinition(ctx context.Context, id string) (definition.Definition, error) {
	item, err := st.getConfig(ctx, credentialDefinitions, id)
	if err != nil {
		return definition.Definition{}, err
	}
	return definitionFrom(item)
}

// ReplaceDefinition implements admin.DefinitionStore.
func (st *Store) ReplaceDefinition(ctx context.Context, d definition.Definition, expectedVersion int64) error {
	item, err := definitionItem(d)
	if err != nil {
		return err
	}
	return st.replaceConfig(ctx, credentialDefinitions, d.ID, item, expectedVersion)
}

// DeleteDefinition implements admin.DefinitionStore.
func (st *Store) DeleteDefinition(ctx context.Context, id string) error {
	return st.deleteConfig(ctx, credentialDefinitions, id)
}

// ListDefinitions implements admin.DefinitionStore: a Query of GSI1, newest first.
func (st *Store) ListDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[definition.Definition], error) {
	return listConfig(ctx, st, credentialDefinitions, page, definitionFrom)
}
