package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// Variables through which a running stack is handed to child processes (cmd/withstack sets them, ForTest and
// FromEnv read them).
const (
	EnvDynamoDBEndpoint = "LOCALSTACK_DYNAMODB_ENDPOINT"
	EnvKMSEndpoint      = "LOCALSTACK_KMS_ENDPOINT"
	EnvRegion           = "LOCALSTACK_REGION"
	EnvTableName        = "LOCALSTACK_TABLE_NAME"
	EnvKeyID            = "LOCALSTACK_KEY_ID"
	EnvKeyAlias         = "LOCALSTACK_KEY_ALIAS"
)

// ExportEnv describes this stack in the LOCALSTACK_* variables, for FromEnv in a child process.
func (s *Stack) ExportEnv() []string {
	return []string{
		EnvDynamoDBEndpoint + "=" + s.DynamoDBEndpoint,
		EnvKMSEndpoint + "=" + s.KMSEndpoint,
		EnvRegion + "=" + s.Region,
		EnvTableName + "=" + s.TableName,
		EnvKeyID + "=" + s.KeyID,
		EnvKeyAlias + "=" + s.KeyAlias,
	}
}

// FromEnv attaches to a stack another process started and exported (ExportEnv), reading variables through
// getenv (os.Getenv). It reports false when the endpoints or key are not set. The attached stack's Stop does
// nothing: its owner stops it.
func FromEnv(getenv func(string) string) (*Stack, bool) {
	s := &Stack{
		DynamoDBEndpoint: getenv(EnvDynamoDBEndpoint),
		KMSEndpoint:      getenv(EnvKMSEndpoint),
		Region:           getenv(EnvRegion),
		TableName:        getenv(EnvTableName),
		KeyID:            getenv(EnvKeyID),
		KeyAlias:         getenv(EnvKeyAlias),
	}
	if s.DynamoDBEndpoint == "" || s.KMSEndpoint == "" || s.KeyID == "" {
		return nil, false
	}
	if s.Region == "" {
		s.Region = DefaultRegion
	}
	if s.TableName == "" {
		s.TableName = DefaultTableName
	}
	if s.KeyAlias == "" {
		s.KeyAlias = DefaultKeyAlias
	}
	return s, true
}

// Ping checks that both services answer.
func (s *Stack) Ping(ctx context.Context) error {
	cfg, err := s.pollConfig(ctx)
	if err != nil {
		return err
	}
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		return fmt.Errorf("ping DynamoDB at %s: %w", s.DynamoDBEndpoint, err)
	}
	if _, err := kms.NewFromConfig(cfg).ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(1)}); err != nil {
		return fmt.Errorf("ping KMS at %s: %w", s.KMSEndpoint, err)
	}
	return nil
}

// EnvRequired, when set, turns a missing stack into a test failure instead of a skip: `make test` (test.sh) sets
// it, so that a broken export can never pass as skipped tests.
const EnvRequired = "LOCALSTACK_REQUIRED"

// skipHint says where the stack tests run.
const skipHint = "needs the local stack (DynamoDB Local and local-kms): run `make test`, which starts one and runs " +
	"every test against it (one package: `go run ./infra/local/cmd/withstack -- go test ./PACKAGE`)"

// SkipWithoutStack skips the test unless a stack was exported into the environment (cmd/withstack, which `make
// test` uses), so that a plain `go test ./...` runs the unit tests and skips, naming `make test`, the tests that
// need the stack or its tools. It also skips under -short, and fails instead of skipping when EnvRequired is set.
func SkipWithoutStack(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("not under -short: " + skipHint)
	}
	if _, ok := FromEnv(os.Getenv); ok {
		return
	}
	if os.Getenv(EnvRequired) != "" {
		tb.Fatalf("%s is set but no stack is exported (%s): %s", EnvRequired, EnvDynamoDBEndpoint, skipHint)
	}
	tb.Skip(skipHint)
}

// ForTest returns the stack the test wrapper exported (LOCALSTACK_* variables), after checking that it answers.
// Without one it skips the test (SkipWithoutStack).
func ForTest(tb testing.TB) *Stack {
	tb.Helper()
	SkipWithoutStack(tb)
	s, _ := FromEnv(os.Getenv)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		tb.Fatalf("local stack exported in %s does not answer: %v", EnvDynamoDBEndpoint, err)
	}
	return s
}

// NewTable creates a fresh, uniquely named table with the issuer's definition and TTL, for a test that needs
// isolation; the test's Cleanup deletes it. It fails the test on error.
func (s *Stack) NewTable(ctx context.Context, tb testing.TB) string {
	tb.Helper()
	name := uniqueTableName(s.TableName, tb.Name())
	cfg, err := s.AWSConfig(ctx)
	if err != nil {
		tb.Fatalf("new table: %v", err)
	}
	client := dynamodb.NewFromConfig(cfg)
	if err := ensureTable(ctx, client, name); err != nil {
		tb.Fatalf("new table: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			tb.Logf("delete table %s: %v", name, err)
		}
	})
	return name
}

// uniqueTableName is prefix-<test name>-<random>, within DynamoDB's 255 characters of [a-zA-Z0-9_.-].
func uniqueTableName(prefix, testName string) string {
	var b strings.Builder
	for _, r := range testName {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 100 {
		name = name[:100]
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix) // crypto/rand.Read never fails on supported platforms
	return prefix + "-" + name + "-" + hex.EncodeToString(suffix)
}
