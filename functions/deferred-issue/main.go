// Command deferred-issue is the DeferredIssueFunction Lambda: one handler for the admin API's
// PUT /credential/history/{credentialExchangeId} and the DeferredCredentialReady/Denied EventBridge events.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/shared/handlers"
)

func main() {
	deps, err := handlers.ColdStart(context.Background())
	if err != nil {
		slog.Error("cold start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handlers.NewDeferredIssueHandler(deps))
}
