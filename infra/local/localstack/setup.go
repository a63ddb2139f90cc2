package localstack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sdjwt-issuer/issuer/shared/store"
)

// ensureTable creates the table from store.TableDefinition and turns on TTL and its stream; each step accepts what
// already exists (a persistent DataDir), provided the existing table's keys and indexes equal the definition. A
// table of an earlier release without the stream gets it (UpdateTable): its stream starts empty.
func ensureTable(ctx context.Context, client *dynamodb.Client, name string) error {
	want := store.TableDefinition(name)
	_, err := client.CreateTable(ctx, want)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	desc, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second)
	if err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	if diff := tableDiff(want, desc.Table); len(diff) > 0 {
		return fmt.Errorf("table %s in the data directory differs from store.TableDefinition (%s): start with empty "+
			"data (make run CLEAN=1, devserver -clean)", name, strings.Join(diff, "; "))
	}
	if err := ensureStream(ctx, client, name, want.StreamSpecification, desc.Table.StreamSpecification); err != nil {
		return err
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe TTL of table %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == store.AttrTTL &&
		(d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
			AttributeName: aws.String(store.AttrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on table %s: %w", name, err)
	}
	return nil
}

// ensureStream turns on the table's stream as the definition wants it; a stream of another view type is an error.
func ensureStream(ctx context.Context, client *dynamodb.Client, name string, want, got *ddbtypes.StreamSpecification) error {
	if want == nil {
		return nil
	}
	if got != nil && aws.ToBool(got.StreamEnabled) {
		if got.StreamViewType != want.StreamViewType {
			return fmt.Errorf("table %s streams %s, want %s: start with empty data (make run CLEAN=1, devserver -clean)",
				name, got.StreamViewType, want.StreamViewType)
		}
		return nil
	}
	if _, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), StreamSpecification: want}); err != nil {
		return fmt.Errorf("enable the stream of table %s: %w", name, err)
	}
	return nil
}

// ensureKey returns the ARN of the signing key behind alias, creating the key (ECC_NIST_P256, SIGN_VERIFY) and
// the alias when the alias does not exist yet.
func ensureKey(ctx context.Context, client *kms.Client, alias string) (string, error) {
	desc, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	var notFound *kmstypes.NotFoundException
	switch {
	case err == nil:
		md := desc.KeyMetadata
		if md.KeySpec != kmstypes.KeySpecEccNistP256 || md.KeyUsage != kmstypes.KeyUsageTypeSignVerify {
			return "", fmt.Errorf("key behind %s is %s/%s, want ECC_NIST_P256/SIGN_VERIFY: clean the data directory",
				alias, md.KeySpec, md.KeyUsage)
		}
		if md.KeyState != kmstypes.KeyStateEnabled {
			return "", fmt.Errorf("key behind %s is %s, want Enabled: clean the data directory", alias, md.KeyState)
		}
		return aws.ToString(md.Arn), nil
	case !errors.As(err, &notFound):
		return "", fmt.Errorf("describe key %s: %w", alias, err)
	}
	created, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec:     kmstypes.KeySpecEccNistP256,
		KeyUsage:    kmstypes.KeyUsageTypeSignVerify,
		Description: aws.String("sdjwt-issuer local signing key"),
	})
	if err != nil {
		return "", fmt.Errorf("create signing key: %w", err)
	}
	arn := aws.ToString(created.KeyMetadata.Arn)
	if _, err := client.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(alias),
		TargetKeyId: created.KeyMetadata.KeyId,
	}); err != nil {
		return "", fmt.Errorf("create alias %s: %w", alias, err)
	}
	return arn, nil
}

// tableDiff lists how an existing table's key schema and global secondary indexes (keys and projection) differ
// from the definition; nothing when they are equal.
func tableDiff(want *dynamodb.CreateTableInput, got *ddbtypes.TableDescription) []string {
	if got == nil {
		return []string{"DescribeTable returned no table"}
	}
	var diff []string
	if w, g := keysOf(want.KeySchema), keysOf(got.KeySchema); w != g {
		diff = append(diff, fmt.Sprintf("key schema %s, want %s", g, w))
	}
	wantIdx := map[string]string{}
	for _, i := range want.GlobalSecondaryIndexes {
		wantIdx[aws.ToString(i.IndexName)] = indexOf(i.KeySchema, i.Projection)
	}
	gotIdx := map[string]string{}
	for _, i := range got.GlobalSecondaryIndexes {
		gotIdx[aws.ToString(i.IndexName)] = indexOf(i.KeySchema, i.Projection)
	}
	names := make([]string, 0, len(wantIdx)+len(gotIdx))
	for n := range wantIdx {
		names = append(names, n)
	}
	for n := range gotIdx {
		if _, ok := wantIdx[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		w, inWant := wantIdx[n]
		g, inGot := gotIdx[n]
		switch {
		case !inGot:
			diff = append(diff, fmt.Sprintf("index %s is missing", n))
		case !inWant:
			diff = append(diff, fmt.Sprintf("index %s is not in the definition", n))
		case w != g:
			diff = append(diff, fmt.Sprintf("index %s is %s, want %s", n, g, w))
		}
	}
	return diff
}

// keysOf renders a key schema as "name:HASH name:RANGE".
func keysOf(ks []ddbtypes.KeySchemaElement) string {
	parts := make([]string, 0, len(ks))
	for _, k := range ks {
		parts = append(parts, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(parts, " ")
}

// indexOf renders an index's keys and projection.
func indexOf(ks []ddbtypes.KeySchemaElement, p *ddbtypes.Projection) string {
	s := "[" + keysOf(ks) + "]"
	if p != nil {
		attrs := append([]string(nil), p.NonKeyAttributes...)
		sort.Strings(attrs)
		s += " " + string(p.ProjectionType)
		if len(attrs) > 0 {
			s += "(" + strings.Join(attrs, ",") + ")"
		}
	}
	return s
}
