package handlers

import (
	"github.com/aws/aws-lambda-go/lambda"
)

// Lambda returns the Lambda handler of every function, keyed by the logical ID of template.yaml; the local
// gateway invokes exactly these. The wallet functions (MetadataFunction, TokenFunction, CredentialFunction,
// DeferredCredentialFunction, NotificationFunction) add their entries here.
func Lambda(d *Deps) map[string]lambda.Handler {
	return map[string]lambda.Handler{
		"DefinitionsFunction":   lambda.NewHandler(Definitions(d).ServeEvent),
		"IssueFunction":         lambda.NewHandler(Issue(d).ServeEvent),
		"StatusFunction":        lambda.NewHandler(Status(d).ServeEvent),
		"DeferredIssueFunction": lambda.NewHandler(DeferredIssue(d).ServeEvent),
	}
}
