package localstack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sdjwt-issuer/issuer/shared/store"
)

func clients(t *testing.T, s *Stack) (*dynamodb.Client, *kms.Client) {
	t.Helper()
	cfg, err := s.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dynamodb.NewFromConfig(cfg), kms.NewFromConfig(cfg)
}

func TestStackHasTableAndKey(t *testing.T) {
	s := ForTest(t)
	ctx := context.Background()
	ddb, k := clients(t, s)

	table, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.TableName)})
	if err != nil {
		t.Fatalf("describe table: %v", err)
	}
	var indexes []string
	for _, g := range table.Table.GlobalSecondaryIndexes {
		indexes = append(indexes, aws.ToString(g.IndexName))
	}
	slices.Sort(indexes)
	if want := []string{store.IndexByKind, store.IndexByStatus, store.IndexByDefinition}; !slices.Equal(indexes, want) {
		t.Errorf("indexes = %v, want %v", indexes, want)
	}
	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.TableName)})
	if err != nil {
		t.Fatalf("describe TTL: %v", err)
	}
	if d := ttl.TimeToLiveDescription; aws.ToString(d.AttributeName) != store.AttrTTL || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %s on %q, want ENABLED on %q", d.TimeToLiveStatus, aws.ToString(d.AttributeName), store.AttrTTL)
	}

	for _, id := range []string{s.KeyID, s.KeyAlias} {
		key, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil {
			t.Fatalf("describe key %s: %v", id, err)
		}
		md := key.KeyMetadata
		if aws.ToString(md.Arn) != s.KeyID || md.KeySpec != kmstypes.KeySpecEccNistP256 || md.KeyUsage != kmstypes.KeyUsageTypeSignVerify {
			t.Errorf("key %s = %s %s %s, want %s ECC_NIST_P256 SIGN_VERIFY", id, aws.ToString(md.Arn), md.KeySpec, md.KeyUsage, s.KeyID)
		}
	}
}

func TestEnvDescribesStack(t *testing.T) {
	s := &Stack{Region: "eu-west-1", DynamoDBEndpoint: "http://127.0.0.1:1", KMSEndpoint: "http://127.0.0.1:2",
		TableName: "t", KeyID: "arn:k", KeyAlias: "alias/a"}
	want := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":         "http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_KMS":              "http://127.0.0.1:2",
		"AWS_REGION":                        "eu-west-1",
		"AWS_ACCESS_KEY_ID":                 dummyAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":             dummySecretAccessKey,
		"TABLE_NAME":                        "t",
		"KMS_KEY_ID":                        "arn:k",
	}
	got := map[string]string{}
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Env %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Env has %d variables, want %d: %v", len(got), len(want), s.Env())
	}

	exported := map[string]string{}
	for _, kv := range s.ExportEnv() {
		k, v, _ := strings.Cut(kv, "=")
		exported[k] = v
	}
	back, ok := FromEnv(func(k string) string { return exported[k] })
	if !ok {
		t.Fatal("FromEnv(ExportEnv()) did not attach")
	}
	if back.Region != s.Region || back.DynamoDBEndpoint != s.DynamoDBEndpoint || back.KMSEndpoint != s.KMSEndpoint ||
		back.TableName != s.TableName || back.KeyID != s.KeyID || back.KeyAlias != s.KeyAlias {
		t.Errorf("FromEnv(ExportEnv()) = %+v, want %+v", back, s)
	}
}

func TestFromEnv(t *testing.T) {
	full := map[string]string{
		EnvDynamoDBEndpoint: "http://127.0.0.1:1", EnvKMSEndpoint: "http://127.0.0.1:2", EnvKeyID: "arn:k",
	}
	without := func(k string) map[string]string {
		m := map[string]string{}
		for kk, v := range full {
			if kk != k {
				m[kk] = v
			}
		}
		return m
	}
	tests := []struct {
		name   string
		env    map[string]string
		attach bool
	}{
		{"all set, defaults filled", full, true},
		{"no DynamoDB endpoint", without(EnvDynamoDBEndpoint), false},
		{"no KMS endpoint", without(EnvKMSEndpoint), false},
		{"no key", without(EnvKeyID), false},
		{"nothing", map[string]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := FromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.attach {
				t.Fatalf("attached = %v, want %v", ok, tt.attach)
			}
			if ok && (s.Region != DefaultRegion || s.TableName != DefaultTableName || s.KeyAlias != DefaultKeyAlias) {
				t.Errorf("defaults not applied: %+v", s)
			}
		})
	}
}

func TestAWSConfigOverridesEnvironmentEndpoints(t *testing.T) {
	s := ForTest(t)
	// A process environment pointing elsewhere must not redirect a client built from the stack's config.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
	t.Setenv("AWS_PROFILE", "does-not-exist")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping with conflicting environment: %v", err)
	}
}

func TestServiceEndpoints(t *testing.T) {
	e := serviceEndpoints{"DYNAMODB": "http://d", "KMS": "http://k", "EVENTBRIDGE": ""}
	tests := []struct {
		sdkID string
		want  string
		found bool
	}{
		{"DynamoDB", "http://d", true},
		{"KMS", "http://k", true},
		{"EventBridge", "", false},
		{"STS", "", false},
	}
	for _, tt := range tests {
		got, found, err := e.GetServiceBaseEndpoint(context.Background(), tt.sdkID)
		if err != nil || got != tt.want || found != tt.found {
			t.Errorf("GetServiceBaseEndpoint(%q) = %q, %v, %v; want %q, %v", tt.sdkID, got, found, err, tt.want, tt.found)
		}
	}
}

func TestNewTableIsolated(t *testing.T) {
	s := ForTest(t)
	ctx := context.Background()
	ddb, _ := clients(t, s)
	var names []string
	t.Run("create", func(t *testing.T) {
		a, b := s.NewTable(ctx, t), s.NewTable(ctx, t)
		if a == b {
			t.Fatalf("NewTable returned %q twice", a)
		}
		names = []string{a, b}
		for _, n := range names {
			if !strings.HasPrefix(n, s.TableName+"-") {
				t.Errorf("table %q lacks prefix %q", n, s.TableName)
			}
			ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(n)})
			if err != nil {
				t.Fatalf("describe TTL of %s: %v", n, err)
			}
			if ttl.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
				t.Errorf("table %s TTL %s", n, ttl.TimeToLiveDescription.TimeToLiveStatus)
			}
		}
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a), Item: item("x")}); err != nil {
			t.Fatalf("put: %v", err)
		}
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b), Key: item("x")})
		if err != nil || got.Item != nil {
			t.Errorf("item written to %s is visible in %s (err %v)", a, b, err)
		}
	})
	for _, n := range names {
		_, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(n)})
		var nf *ddbtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("table %s still exists after the subtest's cleanup (err %v)", n, err)
		}
	}
}

func TestUniqueTableName(t *testing.T) {
	tests := []struct {
		test       string
		wantPrefix string
	}{
		{"TestX", "p-TestX-"},
		{"TestX/sub case#01", "p-TestX_sub_case_01-"},
		{strings.Repeat("a", 300), "p-" + strings.Repeat("a", 100) + "-"},
	}
	for _, tt := range tests {
		got := uniqueTableName("p", tt.test)
		if !strings.HasPrefix(got, tt.wantPrefix) || len(got) != len(tt.wantPrefix)+12 || len(got) > 255 {
			t.Errorf("uniqueTableName(%q) = %q, want prefix %q and 12 hex characters", tt.test, got, tt.wantPrefix)
		}
	}
	if a, b := uniqueTableName("p", "T"), uniqueTableName("p", "T"); a == b {
		t.Errorf("two names are equal: %q", a)
	}
}

func item(pk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		store.AttrPK: &ddbtypes.AttributeValueMemberS{Value: pk},
		store.AttrSK: &ddbtypes.AttributeValueMemberS{Value: "s"},
	}
}

// TestPersistentDataDir starts its own stacks: data survives a restart, Clean wipes it.
func TestPersistentDataDir(t *testing.T) {
	SkipWithoutStack(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	start := func(clean bool) (*Stack, *dynamodb.Client) {
		t.Helper()
		s, err := Start(ctx, Options{DataDir: dir, Clean: clean})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
		ddb, _ := clients(t, s)
		return s, ddb
	}
	has := func(ddb *dynamodb.Client, s *Stack) bool {
		t.Helper()
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.TableName), Key: item("kept")})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		return got.Item != nil
	}

	first, ddb := start(false)
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(first.TableName), Item: item("kept")}); err != nil {
		t.Fatalf("put: %v", err)
	}
	first.Stop()
	if err := first.Ping(ctx); err == nil {
		t.Fatal("stack still answers after Stop")
	}

	second, ddb := start(false)
	if !has(ddb, second) {
		t.Error("item lost across restart")
	}
	if second.KeyID != first.KeyID {
		t.Errorf("key changed across restart: %s, then %s", first.KeyID, second.KeyID)
	}
	second.Stop()

	third, ddb := start(true)
	if has(ddb, third) {
		t.Error("item survived Clean")
	}
	if third.KeyID == first.KeyID {
		t.Error("key survived Clean")
	}
}

func TestStartToolsMissing(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"empty tools directory", Options{ToolsDir: t.TempDir()}},
		{"no java", Options{Java: filepath.Join(t.TempDir(), "java")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(context.Background(), tt.opts)
			if !errors.Is(err, ErrToolsMissing) {
				t.Fatalf("Start = %v, want ErrToolsMissing", err)
			}
			if !strings.Contains(err.Error(), "make tools") {
				t.Errorf("error %q does not say to run make tools", err)
			}
		})
	}
}

// BenchmarkStart measures a cold in-memory stack: both tools up, table and key created, then stopped.
func BenchmarkStart(b *testing.B) {
	SkipWithoutStack(b)
	var start, stop time.Duration
	for b.Loop() {
		s, err := Start(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		start += s.StartDuration
		t0 := time.Now()
		s.Stop()
		stop += time.Since(t0)
	}
	b.ReportMetric(float64(start.Milliseconds())/float64(b.N), "start-ms/op")
	b.ReportMetric(float64(stop.Milliseconds())/float64(b.N), "stop-ms/op")
}

// TestAcknowledgedWritesSurviveAKill (docs/security.md, "Data after a kill"; README "What survives a kill"): a
// write DynamoDB Local acknowledged is on disk: killing every tool of the stack with SIGKILL (what happens to
// them when `make run` itself is SIGKILLed: their parent-death signal) loses none of the writes made before, nor
// the signing key, and the next start on the same data directory finds them.
func TestAcknowledgedWritesSurviveAKill(t *testing.T) {
	SkipWithoutStack(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	first, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Stop)
	ddb, _ := clients(t, first)
	const n = 50
	for i := range n {
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(first.TableName),
			Item: item(fmt.Sprintf("acked-%02d", i))}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	for _, p := range first.procs {
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatalf("kill %s: %v", p.name, err)
		}
		<-p.done
	}
	second, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Stop)
	ddb, _ = clients(t, second)
	for i := range n {
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(second.TableName),
			Key: item(fmt.Sprintf("acked-%02d", i)), ConsistentRead: aws.Bool(true)})
		if err != nil || got.Item == nil {
			t.Fatalf("acknowledged write %d lost after SIGKILL (%v)", i, err)
		}
	}
	if second.KeyID != first.KeyID {
		t.Errorf("the signing key changed after SIGKILL: %s, then %s", first.KeyID, second.KeyID)
	}
}

// TestEnsureTableEnablesTheStream: a table of a data directory from before the events came from the stream (no
// stream) gets it when the stack starts on it, with new and old images; the keys and indexes stay.
func TestEnsureTableEnablesTheStream(t *testing.T) {
	s := ForTest(t)
	ctx := context.Background()
	cfg, err := s.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := dynamodb.NewFromConfig(cfg)
	name := uniqueTableName(s.TableName, t.Name())
	old := store.TableDefinition(name)
	old.StreamSpecification = nil
	if _, err := client.CreateTable(ctx, old); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	for range 2 { // and again on a table that has it
		if err := ensureTable(ctx, client, name); err != nil {
			t.Fatal(err)
		}
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if sp := desc.Table.StreamSpecification; sp == nil || !aws.ToBool(sp.StreamEnabled) ||
		sp.StreamViewType != ddbtypes.StreamViewTypeNewAndOldImages || aws.ToString(desc.Table.LatestStreamArn) == "" {
		t.Fatalf("stream %+v, want NEW_AND_OLD_IMAGES", sp)
	}
}
