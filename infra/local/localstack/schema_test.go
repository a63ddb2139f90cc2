package localstack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/store"
)

// TestEnsureTableChecksExistingTable: a table kept in a persistent data directory from an older definition
// (make run keeps data across restarts) is refused with the difference and the fix, instead of serving queries
// against indexes that are not there; a table equal to store.TableDefinition is accepted as it is.
func TestEnsureTableChecksExistingTable(t *testing.T) {
	s := ForTest(t)
	ctx := context.Background()
	ddb, _ := clients(t, s)
	tests := []struct {
		name    string
		alter   func(in *dynamodb.CreateTableInput)
		wantErr []string // substrings of the error; none: accepted
	}{
		{"same definition", func(*dynamodb.CreateTableInput) {}, nil},
		{"index missing", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = in.GlobalSecondaryIndexes[:2]
		}, []string{store.IndexByDefinition, "CLEAN=1"}},
		{"index keys differ", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes[0].KeySchema = in.GlobalSecondaryIndexes[0].KeySchema[:1]
		}, []string{store.IndexByKind, "CLEAN=1"}},
		{"projection differs", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes[1].Projection = &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly}
		}, []string{store.IndexByStatus, "CLEAN=1"}},
		{"key schema differs", func(in *dynamodb.CreateTableInput) {
			in.KeySchema = in.KeySchema[:1]
		}, []string{"key schema", "CLEAN=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := uniqueTableName(s.TableName, t.Name())
			in := store.TableDefinition(name)
			tt.alter(in)
			pruneAttributes(in)
			if _, err := ddb.CreateTable(ctx, in); err != nil {
				t.Fatalf("create the older table: %v", err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, _ = ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
			})
			err := ensureTable(ctx, ddb, name)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("ensureTable refused a table equal to store.TableDefinition: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("ensureTable accepted a table that differs from store.TableDefinition")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// pruneAttributes keeps only the attribute definitions the key schemas use, as CreateTable requires.
func pruneAttributes(in *dynamodb.CreateTableInput) {
	used := map[string]bool{}
	for _, k := range in.KeySchema {
		used[aws.ToString(k.AttributeName)] = true
	}
	for _, g := range in.GlobalSecondaryIndexes {
		for _, k := range g.KeySchema {
			used[aws.ToString(k.AttributeName)] = true
		}
	}
	var attrs []ddbtypes.AttributeDefinition
	for _, a := range in.AttributeDefinitions {
		if used[aws.ToString(a.AttributeName)] {
			attrs = append(attrs, a)
		}
	}
	in.AttributeDefinitions = attrs
}
