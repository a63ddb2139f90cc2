// Command console is the ConsoleFunction Lambda: it serves the operators' web console (GET /console and its
// assets, embedded in the binary). It reads only LOG_LEVEL and ISSUER_URL's scheme (HSTS unless the issuer is
// plain http) and builds no AWS client: the page calls the admin API from the browser with the key the operator
// types in.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/console"
)

func main() {
	level, err := config.LogLevel(os.Getenv)
	if err != nil {
		slog.Error("cold start", "error", err.Error())
		os.Exit(1)
	}
	site, err := console.NewSite()
	if err != nil {
		slog.Error("cold start", "error", err.Error())
		os.Exit(1)
	}
	// The JSON log line of platform.NewLogger, without importing the AWS clients this function never uses.
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	lambda.Start(site.Router(log, apigw.WithHSTS(config.ServedOverHTTPS(os.Getenv))).ServeEvent)
}
