// Command deferred-issue is the DeferredIssueFunction Lambda: one handler for the admin API's
// PUT /credential/history/{credentialExchangeId} and the DeferredCredentialReady/Denied EventBridge events.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

func main() {
	ctx := context.Background()
	cfg, err := config.FromEnv()
	if err != nil {
		slog.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	log := platform.NewLogger(os.Stdout, cfg.LogLevel)
	clients, err := platform.New(ctx, cfg)
	if err != nil {
		log.Error("AWS clients", "error", err.Error())
		os.Exit(1)
	}
	deps, err := handlers.NewDeps(ctx, cfg, clients, handlers.WithLogger(log))
	if err != nil {
		log.Error("dependencies", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handlers.NewDeferredIssueHandler(deps))
}
