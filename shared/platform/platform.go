// Package platform builds what a function needs from AWS once per cold start: one aws.Config (with the AWS call
// counter attached) and the DynamoDB, KMS and EventBridge clients built from it, plus the JSON logger. Adapters
// receive these clients; they never load an AWS configuration themselves.
package platform

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/sdjwt-issuer/issuer/shared/awscalls"
	"github.com/sdjwt-issuer/issuer/shared/config"
)

// Clients are the AWS clients of one function instance, safe for concurrent use and meant to live as long as it.
type Clients struct {
	// AWS is the configuration the clients were built from (region, credentials, call counting).
	AWS aws.Config
	// DynamoDB is the client of the table adapter (shared/store).
	DynamoDB *dynamodb.Client
	// KMS is the client of the signer (shared/keys).
	KMS *kms.Client
	// EventBridge is the client of the event publisher (shared/events).
	EventBridge *eventbridge.Client
}

// New loads the AWS configuration the standard way (Lambda's environment and role; AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_EVENTBRIDGE for the local stack), attaches the call counter
// (shared/awscalls) and builds the clients. The function's config.Config is taken so that every composition root
// makes the same call; none of its settings is an AWS SDK setting today.
func New(ctx context.Context, _ config.Config) (*Clients, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return FromAWSConfig(awsCfg), nil
}

// FromAWSConfig builds the clients from an existing configuration (a test's or the local stack's), attaching
// the call counter to a copy of it.
func FromAWSConfig(awsCfg aws.Config) *Clients {
	awsCfg = awsCfg.Copy()
	awscalls.Attach(&awsCfg)
	return &Clients{
		AWS:         awsCfg,
		DynamoDB:    dynamodb.NewFromConfig(awsCfg),
		KMS:         kms.NewFromConfig(awsCfg),
		EventBridge: eventbridge.NewFromConfig(awsCfg),
	}
}

// ParameterGetter is the SSM call Parameter makes (*ssm.Client satisfies it).
type ParameterGetter interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Parameter reads the value of the SSM String parameter name with one GetParameter call. The functions call it
// once per cold start, and only when ISSUER_URL is not set (config.Config.IssuerURLParameter).
func (c *Clients) Parameter(ctx context.Context, name string) (string, error) {
	return Parameter(ctx, ssm.NewFromConfig(c.AWS), name)
}

// Parameter reads the value of the SSM String parameter name through client.
func Parameter(ctx context.Context, client ParameterGetter, name string) (string, error) {
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("read SSM parameter %s (the role needs ssm:GetParameter on it): %w", name, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", fmt.Errorf("read SSM parameter %s: the answer has no value", name)
	}
	return *out.Parameter.Value, nil
}

// NewLogger returns a JSON logger writing to w (os.Stdout on Lambda, where CloudWatch reads it) at level.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
