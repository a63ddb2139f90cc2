package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/issuance"
)

// Credential definitions are configuration, not personal data: their items carry no ttl and live until deleted.

func definitionItem(d issuance.CredentialDefinition) (map[string]types.AttributeValue, error) {
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

func definitionFrom(item map[string]types.AttributeValue) (issuance.CredentialDefinition, error) {
	var d issuance.CredentialDefinition
	if err := decodeJSON(str(item, attrData), &d); err != nil {
		return d, fmt.Errorf("decode credential definition: %w", err)
	}
	d.Version = num(item, attrVersion)
	d.CreatedNanos = num(item, attrCreatedNanos)
	return d, nil
}

// CreateDefinition implements issuance.DefinitionStore.
func (st *Store) CreateDefinition(ctx context.Context, d issuance.CredentialDefinition) error {
	item, err := definitionItem(d)
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK}})
	if isConditionFailed(err) {
		return issuance.ErrAlreadyExists
	}
	if err != nil {
		return fmt.Errorf("put credential definition: %w", err)
	}
	return nil
}

// GetDefinition implements issuance.DefinitionStore.
func (st *Store) GetDefinition(ctx context.Context, id string) (issuance.CredentialDefinition, error) {
	item, err := st.get(ctx, prefixDefinition+id, skDefinition)
	if err != nil {
		return issuance.CredentialDefinition{}, err
	}
	return definitionFrom(item)
}

// ReplaceDefinition implements issuance.DefinitionStore.
func (st *Store) ReplaceDefinition(ctx context.Context, d issuance.CredentialDefinition, expectedVersion int64) error {
	item, err := definitionItem(d)
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: item,
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #version = :v"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#version": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(expectedVersion)}})
	if isConditionFailed(err) {
		if _, gerr := st.get(ctx, prefixDefinition+d.ID, skDefinition); errors.Is(gerr, issuance.ErrNotFound) {
			return issuance.ErrNotFound
		}
		return issuance.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("replace credential definition: %w", err)
	}
	return nil
}

// DeleteDefinition implements issuance.DefinitionStore.
func (st *Store) DeleteDefinition(ctx context.Context, id string) error {
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.table),
		Key: key(prefixDefinition+id, skDefinition), ConditionExpression: aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK}})
	if isConditionFailed(err) {
		return issuance.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete credential definition: %w", err)
	}
	return nil
}

// ListDefinitions implements issuance.DefinitionStore: a Query of GSI1, newest first.
func (st *Store) ListDefinitions(ctx context.Context, page issuance.PageRequest) (issuance.Page[issuance.CredentialDefinition], error) {
	var out issuance.Page[issuance.CredentialDefinition]
	q := listQuery{index: IndexByKind, gpkAttr: AttrGSI1PK, gskAttr: AttrGSI1SK, gpk: kindDefinition,
		pkPrefix: prefixDefinition, sk: skDefinition}
	items, next, err := st.list(ctx, q, page)
	if err != nil {
		return out, err
	}
	out.NextCursor = next
	out.Items = make([]issuance.CredentialDefinition, 0, len(items))
	for _, it := range items {
		d, err := definitionFrom(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, d)
	}
	return out, nil
}
