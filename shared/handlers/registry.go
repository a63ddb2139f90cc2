package handlers

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/console"
)

// Lambda returns the Lambda handler of every function, keyed by the logical ID of template.yaml; the local
// gateway invokes exactly these. The wallet functions share one Wallet (walletOpts configure it, e.g. a local
// signing key).
func Lambda(d *Deps, walletOpts ...WalletOption) map[string]lambda.Handler {
	w := NewWallet(d, walletOpts...)
	return map[string]lambda.Handler{
		"DefinitionsFunction":        lambda.NewHandler(Definitions(d).ServeEvent),
		"IssueFunction":              lambda.NewHandler(Issue(d).ServeEvent),
		"StatusFunction":             lambda.NewHandler(Status(d).ServeEvent),
		"DeferredIssueFunction":      NewDeferredIssueHandler(d),
		"MetadataFunction":           lambda.NewHandler(Metadata(w).ServeEvent),
		"TokenFunction":              lambda.NewHandler(Token(w).ServeEvent),
		"CredentialFunction":         lambda.NewHandler(Credential(w).ServeEvent),
		"DeferredCredentialFunction": lambda.NewHandler(DeferredCredential(w).ServeEvent),
		"NotificationFunction":       lambda.NewHandler(Notification(w).ServeEvent),
		"ConsoleFunction":            consoleHandler(d.Log),
	}
}

// consoleHandler is the ConsoleFunction's handler (functions/console builds the same). It uses none of Deps but
// the logger: the console holds no data.
func consoleHandler(log *slog.Logger) lambda.Handler {
	site, err := console.NewSite()
	if err != nil {
		// Only a broken build gets here (the embedded files are checked by shared/console's tests); every request
		// then fails as a function error, which the gateway answers 502.
		return lambda.NewHandler(func(context.Context, apigw.Request) (apigw.Response, error) { return apigw.Response{}, err })
	}
	return lambda.NewHandler(site.Router(log).ServeEvent)
}
