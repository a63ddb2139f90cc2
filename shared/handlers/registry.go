package handlers

import (
	"github.com/aws/aws-lambda-go/lambda"
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
	}
}
