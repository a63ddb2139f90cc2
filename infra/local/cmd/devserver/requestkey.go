package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
)

// requestKeyAlias names the local wrapping key of the credential request encryption keys.
const requestKeyAlias = "alias/sdjwt-issuer-request-encryption"

// localRequestKey returns the ARN of the local symmetric KMS key that wraps the request encryption keys (what the
// template's RequestEncryptionKey is on AWS), making it on the first run; local-kms keeps it with its data.
func localRequestKey(ctx context.Context, stack *localstack.Stack) (string, error) {
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		return "", fmt.Errorf("request encryption key: %w", err)
	}
	client := kms.NewFromConfig(cfg)
	out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(requestKeyAlias)})
	if err == nil {
		return aws.ToString(out.KeyMetadata.Arn), nil
	}
	var notFound *types.NotFoundException
	if !errors.As(err, &notFound) {
		return "", fmt.Errorf("request encryption key: %w", err)
	}
	key, err := client.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault,
		KeyUsage: types.KeyUsageTypeEncryptDecrypt, Description: aws.String("sdjwt-issuer local request encryption wrapping key")})
	if err != nil {
		return "", fmt.Errorf("request encryption key: %w", err)
	}
	if _, err := client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(requestKeyAlias),
		TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		return "", fmt.Errorf("request encryption key: %w", err)
	}
	return aws.ToString(key.KeyMetadata.Arn), nil
}
