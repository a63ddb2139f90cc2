package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
		st, err := store.New(db, stack.NewTable(ctx, t), store.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}
