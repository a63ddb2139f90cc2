package handlers

import (
	"context"
	"fmt"
	"os"

	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

// ColdStart builds the dependencies of a Lambda function from its environment, once per cold start: the
// configuration (config.FromEnv), the AWS clients with call counting, a JSON logger on stdout, and Deps. Its one
// AWS call reads the issuer URL from SSM when ISSUER_URL is not set but ISSUER_URL_PARAMETER is (template.yaml
// without an IssuerUrl: the API's stage URL). An error names what is misconfigured; the function's main reports it
// and exits.
func ColdStart(ctx context.Context) (*Deps, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	clients, err := platform.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("AWS clients: %w", err)
	}
	if cfg.IssuerURLParameter != "" {
		value, err := clients.Parameter(ctx, cfg.IssuerURLParameter)
		if err != nil {
			return nil, fmt.Errorf("issuer URL: %w", err)
		}
		if err := cfg.SetIssuerURL(value); err != nil {
			return nil, fmt.Errorf("configuration: %w", err)
		}
	}
	deps, err := NewDeps(ctx, cfg, clients, WithLogger(platform.NewLogger(os.Stdout, cfg.LogLevel)))
	if err != nil {
		return nil, fmt.Errorf("dependencies: %w", err)
	}
	return deps, nil
}

// PublisherColdStart builds the publisher function's handler from its environment (config.LoadPublisher: the bus,
// the source, the log level): EventBridge, or the log when EVENT_BUS_NAME is empty. It makes no AWS call.
func PublisherColdStart(ctx context.Context) (*Publisher, error) {
	cfg, err := config.LoadPublisher(os.Getenv)
	if err != nil {
		return nil, err
	}
	clients, err := platform.New(ctx, config.Config{EventBusName: cfg.EventBusName, EventSource: cfg.EventSource})
	if err != nil {
		return nil, fmt.Errorf("AWS clients: %w", err)
	}
	log := platform.NewLogger(os.Stdout, cfg.LogLevel)
	pub, err := publisherOf(cfg.EventBusName, cfg.EventSource, clients, log)
	if err != nil {
		return nil, fmt.Errorf("dependencies: %w", err)
	}
	return NewPublisher(pub, log), nil
}
