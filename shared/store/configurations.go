package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/definition"
)

// maxDynamicConfigurations bounds ListDynamicConfigurations (the metadata document must stay small).
const maxDynamicConfigurations = 1000

// PutDynamicConfiguration implements admin.ConfigurationStore: an upsert that never shortens the ttl.
func (st *Store) PutDynamicConfiguration(ctx context.Context, c definition.DynamicConfiguration) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode dynamic configuration: %w", err)
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.table), Item: map[string]types.AttributeValue{
		AttrPK: s(prefixDynConfig + c.ConfigurationID), AttrSK: s(skDynConfig), AttrTTL: n(c.ExpiresAt),
		AttrGSI1PK: s(kindDynConfig), AttrGSI1SK: s(c.ConfigurationID), attrData: s(string(data))},
		ConditionExpression:       aws.String("attribute_not_exists(#ttl) OR #ttl <= :ttl"),
		ExpressionAttributeNames:  map[string]string{"#ttl": AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": n(c.ExpiresAt)}})
	if isConditionFailed(err) {
		return nil // a later-expiring version is already stored
	}
	if err != nil {
		return fmt.Errorf("put dynamic configuration: %w", err)
	}
	return nil
}

// ListDynamicConfigurations implements admin.ConfigurationStore: a Query of GSI1, unexpired only.
func (st *Store) ListDynamicConfigurations(ctx context.Context) ([]definition.DynamicConfiguration, error) {
	var out []definition.DynamicConfiguration
	var start map[string]types.AttributeValue
	for {
		res, err := st.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(st.table), IndexName: aws.String(IndexByKind),
			KeyConditionExpression: aws.String("#gpk = :gpk"), FilterExpression: aws.String(notExpired),
			ExpressionAttributeNames:  map[string]string{"#gpk": AttrGSI1PK, "#ttl": AttrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{":gpk": s(kindDynConfig), ":now": n(st.now().Unix())},
			ExclusiveStartKey:         start})
		if err != nil {
			return nil, fmt.Errorf("list dynamic configurations: %w", err)
		}
		for _, it := range res.Items {
			var c definition.DynamicConfiguration
			if err := decodeJSON(str(it, attrData), &c); err != nil {
				return nil, fmt.Errorf("decode dynamic configuration: %w", err)
			}
			out = append(out, c)
		}
		if res.LastEvaluatedKey == nil || len(out) >= maxDynamicConfigurations {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}
