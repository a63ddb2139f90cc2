package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	awsevents "github.com/aws/aws-lambda-go/events"
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
		"DefinitionsFunction":        proxyHandler(Definitions(d).ServeEvent),
		"IssueFunction":              proxyHandler(Issue(d).ServeEvent),
		"StatusFunction":             proxyHandler(Status(d).ServeEvent),
		"DeferredIssueFunction":      NewDeferredIssueHandler(d),
		"MetadataFunction":           proxyHandler(Metadata(w).ServeEvent),
		"AuthorizeFunction":          proxyHandler(Authorize(w).ServeEvent),
		"TokenFunction":              proxyHandler(Token(w).ServeEvent),
		"CredentialFunction":         proxyHandler(Credential(w).ServeEvent),
		"DeferredCredentialFunction": proxyHandler(DeferredCredential(w).ServeEvent),
		"NotificationFunction":       proxyHandler(Notification(w).ServeEvent),
		"ConsoleFunction":            consoleHandler(d.Log, strings.HasPrefix(d.Config.IssuerURL, "https://")),
		"PublisherFunction":          streamHandler(NewPublisher(d.Events, d.Log).Handle),
	}
}

// consoleHandler is the ConsoleFunction's handler (functions/console builds the same), with HSTS for an https
// issuer. It uses none of Deps but the logger and the issuer URL's scheme: the console holds no data.
func consoleHandler(log *slog.Logger, hsts bool) lambda.Handler {
	site, err := console.NewSite()
	if err != nil {
		// Only a broken build gets here (the embedded files are checked by shared/console's tests); every request
		// then fails as a function error, which the gateway answers 502.
		return proxyHandler(func(context.Context, apigw.Request) (apigw.Response, error) { return apigw.Response{}, err })
	}
	return proxyHandler(site.Router(log, apigw.WithHSTS(hsts)).ServeEvent)
}

// proxyHandler is a function's router as the lambda.Handler the local gateway invokes, encoding every answer into
// a slice of its own. lambda.NewHandler hands back a slice of a pooled buffer that goes back to its pool before
// Invoke returns (aws-lambda-go's jsonOutBuffer.Close): harmless on Lambda, whose runtime sends it before the
// next invocation, but the local gateway invokes a function concurrently, and another invocation would overwrite
// an answer while it is decoded (a "JSON decoder out of sync" panic, or a wrong answer). The functions' mains
// keep lambda.Start.
type proxyHandler func(context.Context, apigw.Request) (apigw.Response, error)

// Invoke implements lambda.Handler.
func (h proxyHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req apigw.Request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("decode proxy event: %w", err)
	}
	resp, err := h(ctx, req)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode proxy response: %w", err)
	}
	return out, nil
}

// streamHandler is the publisher's handler as the lambda.Handler the local gateway invokes with a stream batch,
// encoding its partial batch response into a slice of its own (for the reason proxyHandler gives).
type streamHandler func(context.Context, awsevents.DynamoDBEvent) (awsevents.DynamoDBEventResponse, error)

// Invoke implements lambda.Handler.
func (h streamHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var batch awsevents.DynamoDBEvent
	if err := json.Unmarshal(payload, &batch); err != nil {
		return nil, fmt.Errorf("decode stream batch: %w", err)
	}
	resp, err := h(ctx, batch)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode batch response: %w", err)
	}
	return out, nil
}
