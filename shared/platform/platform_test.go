package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/awscalls"
	"github.com/sdjwt-issuer/issuer/shared/config"
)

// TestNewAgainstLocalStack builds the clients the way a function does, from the environment the local stack
// gives a function, and checks that they reach the stack and count their calls.
func TestNewAgainstLocalStack(t *testing.T) {
	stack := localstack.ForTest(t)
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	events := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"FailedEntryCount":0,"Entries":[{"EventId":"e1"}]}`))
	}))
	defer events.Close()
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", events.URL)

	ctx := context.Background()
	c, err := New(ctx, config.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, calls := awscalls.WithCounter(ctx)
	if _, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(stack.TableName)}); err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if _, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(stack.KeyID)}); err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	if _, err := c.EventBridge.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"),
	}}}); err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	want := map[string]int{"DynamoDB.DescribeTable": 1, "KMS.DescribeKey": 1, "EventBridge.PutEvents": 1}
	if got := calls.ByOperation(); !maps.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if c.AWS.Region != stack.Region {
		t.Errorf("region = %q, want %q", c.AWS.Region, stack.Region)
	}
}

func TestFromAWSConfigLeavesCallerConfigAlone(t *testing.T) {
	base := aws.Config{Region: "us-east-1"}
	c := FromAWSConfig(base)
	if len(base.APIOptions) != 0 {
		t.Errorf("caller's config gained %d API options", len(base.APIOptions))
	}
	if len(c.AWS.APIOptions) != 1 {
		t.Errorf("clients' config has %d API options, want the call counter", len(c.AWS.APIOptions))
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level   slog.Level
		logged  []string
		dropped []string
	}{
		{slog.LevelDebug, []string{"DEBUG", "INFO", "ERROR"}, nil},
		{slog.LevelInfo, []string{"INFO", "ERROR"}, []string{"DEBUG"}},
		{slog.LevelError, []string{"ERROR"}, []string{"DEBUG", "INFO"}},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLogger(&buf, tt.level)
			log.Debug("m", "n", 1)
			log.Info("m", "n", 1)
			log.Error("m", "n", 1)
			got := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var rec struct {
					Level string `json:"level"`
					Msg   string `json:"msg"`
					N     int    `json:"n"`
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("line %q is not JSON: %v", line, err)
				}
				if rec.Msg != "m" || rec.N != 1 {
					t.Errorf("record %q lost its fields", line)
				}
				got[rec.Level] = true
			}
			for _, l := range tt.logged {
				if !got[l] {
					t.Errorf("%s not logged", l)
				}
			}
			for _, l := range tt.dropped {
				if got[l] {
					t.Errorf("%s logged", l)
				}
			}
		})
	}
}
