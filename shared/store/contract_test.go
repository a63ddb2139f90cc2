package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/internal/storetest"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// TestContract runs the store contract against the DynamoDB store on DynamoDB Local, a fresh table per case
// (shared/internal/memstore runs the same cases against the in-memory store the use case tests use).
func TestContract(t *testing.T) {
	stack := localstack.ForTest(t)
	ctx := context.Background()
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	streams := dynamodbstreams.NewFromConfig(cfg)
	storetest.Run(t, func(t *testing.T, now func() time.Time) (storetest.Store, storetest.Changes) {
		table := stack.NewTable(ctx, t)
		st, err := store.New(db, table, store.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		return st, func() []store.Change { return streamChanges(t, db, streams, table) }
	})
}

// streamChanges reads the table's stream in DynamoDB Local from its start and decodes every record (store.ChangeOf).
func streamChanges(t *testing.T, db *dynamodb.Client, streams *dynamodbstreams.Client, table string) []store.Change {
	t.Helper()
	ctx := context.Background()
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: desc.Table.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Change
	for _, sh := range s.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: desc.Table.LatestStreamArn,
			ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				var images [3]map[string]types.AttributeValue
				for i, img := range []map[string]streamtypes.AttributeValue{r.Dynamodb.Keys, r.Dynamodb.OldImage, r.Dynamodb.NewImage} {
					if images[i], err = attributevalue.FromDynamoDBStreamsMap(img); err != nil {
						t.Fatal(err)
					}
				}
				c, err := store.ChangeOf(images[0], images[1], images[2])
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, c)
			}
			if len(page.Records) == 0 {
				break // an open shard read to its current end
			}
			iter = page.NextShardIterator
		}
	}
	return out
}
