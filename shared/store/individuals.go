package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// Individuals' offer endpoints are configuration the organisation registers: no ttl, deleted on request.

// PutIndividual implements admin.IndividualStore.
func (st *Store) PutIndividual(ctx context.Context, ind admin.Individual) error {
	data, err := json.Marshal(ind)
	if err != nil {
		return fmt.Errorf("encode individual: %w", err)
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: map[string]types.AttributeValue{
		AttrPK: s(prefixIndividual + ind.IndividualID), AttrSK: s(skIndividual), attrData: s(string(data))}})
	if err != nil {
		return fmt.Errorf("put individual: %w", err)
	}
	return nil
}

// GetIndividual implements admin.IndividualStore.
func (st *Store) GetIndividual(ctx context.Context, id string) (admin.Individual, error) {
	var ind admin.Individual
	item, err := st.get(ctx, prefixIndividual+id, skIndividual)
	if err != nil {
		return ind, err
	}
	if err := decodeJSON(str(item, attrData), &ind); err != nil {
		return ind, fmt.Errorf("decode individual: %w", err)
	}
	return ind, nil
}

// DeleteIndividual implements admin.IndividualStore.
func (st *Store) DeleteIndividual(ctx context.Context, id string) error {
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.table),
		Key: key(prefixIndividual+id, skIndividual), ConditionExpression: aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK}})
	if isConditionFailed(err) {
		return exchange.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete individual: %w", err)
	}
	return nil
}
