package awscalls

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func TestCounterCounts(t *testing.T) {
	tests := []struct {
		name  string
		ops   []string
		total int
		byOp  map[string]int
	}{
		{"none", nil, 0, map[string]int{}},
		{"one", []string{"DynamoDB.PutItem"}, 1, map[string]int{"DynamoDB.PutItem": 1}},
		{"mixed", []string{"DynamoDB.PutItem", "KMS.Sign", "DynamoDB.PutItem"}, 3,
			map[string]int{"DynamoDB.PutItem": 2, "KMS.Sign": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, c := WithCounter(context.Background())
			if FromContext(ctx) != c {
				t.Fatal("FromContext does not return the counter of WithCounter")
			}
			for _, op := range tt.ops {
				FromContext(ctx).Add(op)
			}
			if c.Total() != tt.total {
				t.Errorf("Total = %d, want %d", c.Total(), tt.total)
			}
			got := c.ByOperation()
			if !maps.Equal(got, tt.byOp) {
				t.Errorf("ByOperation = %v, want %v", got, tt.byOp)
			}
			got["mutated"] = 1
			if _, ok := c.ByOperation()["mutated"]; ok {
				t.Error("ByOperation returned the internal map")
			}
		})
	}
}

func TestNilCounterIsSafe(t *testing.T) {
	c := FromContext(context.Background())
	if c != nil {
		t.Fatalf("FromContext without counter = %v, want nil", c)
	}
	c.Add("DynamoDB.GetItem")
	if c.Total() != 0 || len(c.ByOperation()) != 0 || c.ByOperation() == nil {
		t.Errorf("nil counter: Total %d, ByOperation %v", c.Total(), c.ByOperation())
	}
}

func TestCounterConcurrent(t *testing.T) {
	_, c := WithCounter(context.Background())
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c.Add("KMS.Sign")
				_ = c.Total()
				_ = c.ByOperation()
			}
		}()
	}
	wg.Wait()
	if c.Total() != workers*each || c.ByOperation()["KMS.Sign"] != workers*each {
		t.Errorf("Total %d, ByOperation %v, want %d", c.Total(), c.ByOperation(), workers*each)
	}
}

// fakeAWS answers every request with 200 and an empty JSON object, after failing the first `failures` requests
// with a retryable 500.
func fakeAWS(t *testing.T, failures int32) (*httptest.Server, *atomic.Int32) {
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := seen.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if n <= failures {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"__type":"InternalServerError","message":"try again"}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func putItem() *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "p"},
	}}
}

func TestInvalidInputIsNotCounted(t *testing.T) {
	srv, seen := fakeAWS(t, 0)
	ctx, c := WithCounter(context.Background())
	_, err := dynamodb.NewFromConfig(testConfig(srv.URL, 1)).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t")})
	if err == nil {
		t.Fatal("PutItem without Item succeeded")
	}
	if c.Total() != 0 || seen.Load() != 0 {
		t.Errorf("counted %d, server saw %d; want 0 for a request that was never sent", c.Total(), seen.Load())
	}
}

func testConfig(endpoint string, attach int) aws.Config {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("a", "b", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
	for range attach {
		Attach(&cfg)
	}
	return cfg
}

func TestAttachCountsEveryAttempt(t *testing.T) {
	tests := []struct {
		name     string
		failures int32
		attach   int
		want     map[string]int
	}{
		{"one call each", 0, 1, map[string]int{"DynamoDB.PutItem": 1, "KMS.Sign": 1}},
		{"retries count", 2, 1, map[string]int{"DynamoDB.PutItem": 3, "KMS.Sign": 1}},
		{"attached twice counts once", 0, 2, map[string]int{"DynamoDB.PutItem": 1, "KMS.Sign": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := fakeAWS(t, tt.failures)
			cfg := testConfig(srv.URL, tt.attach)
			ctx, c := WithCounter(context.Background())
			if _, err := dynamodb.NewFromConfig(cfg).PutItem(ctx, putItem()); err != nil {
				t.Fatalf("PutItem: %v", err)
			}
			if _, err := kms.NewFromConfig(cfg).Sign(ctx, &kms.SignInput{KeyId: aws.String("k"), Message: []byte{1},
				SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got := c.ByOperation(); !maps.Equal(got, tt.want) {
				t.Errorf("ByOperation = %v, want %v", got, tt.want)
			}
			if int(seen.Load()) != c.Total() {
				t.Errorf("server saw %d requests, counter %d", seen.Load(), c.Total())
			}
		})
	}
}

func TestAttachWithoutCounterInContext(t *testing.T) {
	srv, seen := fakeAWS(t, 0)
	cfg := testConfig(srv.URL, 1)
	if _, err := dynamodb.NewFromConfig(cfg).PutItem(context.Background(), putItem()); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	if seen.Load() != 1 {
		t.Errorf("server saw %d requests, want 1", seen.Load())
	}
}

func BenchmarkCounterAdd(b *testing.B) {
	_, c := WithCounter(context.Background())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add("DynamoDB.GetItem")
		}
	})
}
