package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// Configuration items (credential and presentation definitions) are what the organisation manages, not personal
// data: they carry no ttl and live until deleted, are versioned for conditional replaces, and are listed newest
// first on GSI1 by their kind.

// configKind is one kind of configuration item: its key prefix and sort key, its GSI1 partition, and its name in
// errors.
type configKind struct {
	prefix, sk, kind, what string
}

var (
	credentialDefinitions   = configKind{prefix: prefixDefinition, sk: skDefinition, kind: kindDefinition, what: "credential definition"}
	presentationDefinitions = configKind{prefix: prefixPresentationDef, sk: skPresentationDef, kind: kindPresentationDef, what: "presentation definition"}
)

// configItem is the item of a configuration value v (its JSON in data) with its version and creation order.
func (k configKind) item(id string, v any, version, createdAt, nanos int64) (map[string]types.AttributeValue, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", k.what, err)
	}
	if nanos == 0 {
		nanos = createdAt * 1e9
	}
	return map[string]types.AttributeValue{
		AttrPK: s(k.prefix + id), AttrSK: s(k.sk),
		AttrGSI1PK: s(k.kind), AttrGSI1SK: s(sortKey(nanos, id)),
		attrVersion: n(version), attrCreatedNanos: n(nanos), attrData: s(string(data)),
	}, nil
}

// decode reads a configuration item into v and returns its version and creation order.
func (k configKind) decode(item map[string]types.AttributeValue, v any) (version, nanos int64, err error) {
	if err := decodeJSON(str(item, attrData), v); err != nil {
		return 0, 0, fmt.Errorf("decode %s: %w", k.what, err)
	}
	return num(item, attrVersion), num(item, attrCreatedNanos), nil
}

// createConfig puts a new item (ErrAlreadyExists if its id is taken).
func (st *Store) createConfig(ctx context.Context, k configKind, item map[string]types.AttributeValue) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK}})
	if isConditionFailed(err) {
		return exchange.ErrAlreadyExists
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", k.what, err)
	}
	return nil
}

// getConfig reads the item of id (ErrNotFound).
func (st *Store) getConfig(ctx context.Context, k configKind, id string) (map[string]types.AttributeValue, error) {
	return st.get(ctx, k.prefix+id, k.sk)
}

// replaceConfig overwrites the item of id stored at expectedVersion (ErrNotFound, ErrConflict).
func (st *Store) replaceConfig(ctx context.Context, k configKind, id string, item map[string]types.AttributeValue, expectedVersion int64) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: item,
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #version = :v"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#version": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(expectedVersion)}})
	if isConditionFailed(err) {
		if _, gerr := st.get(ctx, k.prefix+id, k.sk); errors.Is(gerr, exchange.ErrNotFound) {
			return exchange.ErrNotFound
		}
		return exchange.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("replace %s: %w", k.what, err)
	}
	return nil
}

// deleteConfig removes the item of id (ErrNotFound).
func (st *Store) deleteConfig(ctx context.Context, k configKind, id string) error {
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.table),
		Key: key(k.prefix+id, k.sk), ConditionExpression: aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK}})
	if isConditionFailed(err) {
		return exchange.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", k.what, err)
	}
	return nil
}

// listConfig queries one page of the kind's GSI1 partition, newest first, and decodes each item with decode.
func listConfig[T any](ctx context.Context, st *Store, k configKind, page exchange.PageRequest,
	decode func(map[string]types.AttributeValue) (T, error)) (exchange.Page[T], error) {
	var out exchange.Page[T]
	q := listQuery{index: IndexByKind, gpkAttr: AttrGSI1PK, gskAttr: AttrGSI1SK, gpk: k.kind, pkPrefix: k.prefix, sk: k.sk}
	items, next, err := st.list(ctx, q, page)
	if err != nil {
		return out, err
	}
	out.NextCursor = next
	out.Items = make([]T, 0, len(items))
	for _, it := range items {
		v, err := decode(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}
