// Command authorize is the AuthorizeFunction Lambda (the authorization code flow: pushed authorization requests,
// the authorization endpoint and the holder's direct_post answers): it builds its dependencies once per cold start
// and serves API Gateway proxy events with handlers.Authorize.
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
	lambda.Start(handlers.Authorize(handlers.NewWallet(deps)).ServeEvent)
}
