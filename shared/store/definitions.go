package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// Credential definitions are configuration, not personal data: their items carry no ttl and live until deleted.

func definitionItem(d definition.Definition) (map[string]types.AttributeValue, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode credential definition: %w", err)
	}
	nanos := d.CreatedNanos
	if nanos == 0 {
		nanos = d.CreatedAt * 1e9
	}
	return map[string]types.AttributeValue{
		AttrPK: s(prefixDefinition + d.ID), AttrSK: s(skDefinition),
		AttrGSI1PK: s(kindDefinition), AttrGSI1SK: s(sortKey(nanos, d.ID)),
		attrVersion: n(d.Version), attrCreatedNanos: n(nanos), attrData: s(string(data)),
	}, nil
}

func definitionFrom(item map[string]types.AttributeValue) (definition.Definition, error) {
	var d definition.Definition
	if err := decodeJSON(str(item, attrData), &d); err != nil {
		return d, fmt.Errorf("decode credential definition: %w", err)
	}
	d.Version = num(item, attrVersion)
	d.CreatedNanos = num(item, attrCreatedNanos)
	return d, nil
}

// CreateDefinition implements admin.DefinitionStore.
func (st *Store) CreateDefinition(ctx context.Context, d definition.Definition) error {
	item, err := definitionItem(d)
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK}})
	if isConditionFailed(err) {
		return exchange.ErrAlreadyExists
	}
	if err != nil {
		return fmt.Errorf("put credential definition: %w", err)
	}
	return nil
}

// GetDefinition implements admin.DefinitionStore.
func (st *Store) GetDefinition(ctx context.Context, id string) (definition.Definition, error) {
	item, err := st.get(ctx, prefixDefinition+id, skDefinition)
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
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: item,
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #version = :v"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#version": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(expectedVersion)}})
	if isConditionFailed(err) {
		if _, gerr := st.get(ctx, prefixDefinition+d.ID, skDefinition); errors.Is(gerr, exchange.ErrNotFound) {
			return exchange.ErrNotFound
		}
		return exchange.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("replace credential definition: %w", err)
	}
	return nil
}

// DeleteDefinition implements admin.DefinitionStore.
func (st *Store) DeleteDefinition(ctx context.Context, id string) error {
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.table),
		Key: key(prefixDefinition+id, skDefinition), ConditionExpression: aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK}})
	if isConditionFailed(err) {
		return exchange.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete credential definition: %w", err)
	}
	return nil
}

// ListDefinitions implements admin.DefinitionStore: a Query of GSI1, newest first.
func (st *Store) ListDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[definition.Definition], error) {
	var out exchange.Page[definition.Definition]
	q := listQuery{index: IndexByKind, gpkAttr: AttrGSI1PK, gskAttr: AttrGSI1SK, gpk: kindDefinition,
		pkPrefix: prefixDefinition, sk: skDefinition}
	items, next, err := st.list(ctx, q, page)
	if err != nil {
		return out, err
	}
	out.NextCursor = next
	out.Items = make([]definition.Definition, 0, len(items))
	for _, it := range items {
		d, err := definitionFrom(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, d)
	}
	return out, nil
}
