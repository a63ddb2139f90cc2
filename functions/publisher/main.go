// Command publisher is the PublisherFunction Lambda: the table's DynamoDB stream (new and old images) invokes it
// with batches of committed writes, and it publishes the events they call for to EventBridge
// (handlers.Publisher), reporting the first record it could not publish so that the stream retries from there.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/shared/handlers"
)

func main() {
	pub, err := handlers.PublisherColdStart(context.Background())
	if err != nil {
		slog.Error("cold start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(pub.Handle)
}
