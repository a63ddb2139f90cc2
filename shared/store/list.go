package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// listQuery is one GSI partition listed newest first, optionally filtered.
type listQuery struct {
	index, gpkAttr, gskAttr string
	gpk                     string
	pkPrefix, sk            string
	// filter is an extra filter expression over #f = :f (e.g. the status when listing by definition).
	filterAttr, filterValue string
}

// list queries one page: never a Scan. Expired items are filtered out. The cursor is made from the last item
// returned, so filtered queries page correctly. A GSI read is eventually consistent in DynamoDB (no
// ConsistentRead), so a record written a moment before may be missing from a page; DynamoDB Local indexes
// synchronously, which the store contract suite relies on when it lists what it just wrote.
func (st *Store) list(ctx context.Context, q listQuery, page exchange.PageRequest) ([]map[string]types.AttributeValue, string, error) {
	start, err := decodeCursor(page.Cursor, q.gpk, q.pkPrefix, q.sk, q.gpkAttr, q.gskAttr)
	if err != nil {
		return nil, "", err
	}
	names := map[string]string{"#gpk": q.gpkAttr, "#ttl": AttrTTL}
	values := map[string]types.AttributeValue{":gpk": s(q.gpk), ":now": n(st.now().Unix())}
	filter := notExpired
	if q.filterAttr != "" {
		names["#f"] = q.filterAttr
		values[":f"] = s(q.filterValue)
		filter += " AND #f = :f"
	}
	var items []map[string]types.AttributeValue
	for {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(st.table), IndexName: aws.String(q.index),
			KeyConditionExpression: aws.String("#gpk = :gpk"), FilterExpression: aws.String(filter),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(page.Limit - len(items))),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, "", fmt.Errorf("query %s: %w", q.index, err)
		}
		for i, it := range out.Items {
			items = append(items, it)
			if len(items) == page.Limit {
				if i < len(out.Items)-1 || out.LastEvaluatedKey != nil {
					return items, encodeCursor(it, q.gpkAttr, q.gskAttr), nil
				}
				return items, "", nil
			}
		}
		if out.LastEvaluatedKey == nil {
			return items, "", nil
		}
		start = out.LastEvaluatedKey
	}
}

func decodeJSON(data string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(data)))
	dec.UseNumber()
	return dec.Decode(v)
}
