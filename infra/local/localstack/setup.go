package localstack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sdjwt-issuer/issuer/shared/store"
)

// ensureTable creates the table from store.TableDefinition and turns on TTL; both steps accept what already
// exists (a persistent DataDir).
func ensureTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.CreateTable(ctx, store.TableDefinition(name))
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
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
