package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

// FuzzAdminBodies feeds arbitrary bodies to the admin routes that decode one (definition create and replace,
// deferred completion, revocation status) through the functions' real handlers. AWS is unreachable (a closed
// loopback port, one attempt), so a body that passes decoding and validation ends in 503 or 404; a refused body
// must be a described 4xx. A 500 (which is also what a recovered panic becomes) fails.
func FuzzAdminBodies(f *testing.F) {
	const key = "fuzz-admin-key"
	routes := []struct{ fn, method, resource, path string }{
		{"DefinitionsFunction", http.MethodPost, handlers.AdminBase + "/credential-definition", handlers.AdminBase + "/credential-definition"},
		{"DefinitionsFunction", http.MethodPut, handlers.AdminBase + "/credential-definition/{credentialDefinitionId}", handlers.AdminBase + "/credential-definition/d1"},
		{"DeferredIssueFunction", http.MethodPut, handlers.AdminBase + "/credential/history/{credentialExchangeId}", handlers.AdminBase + "/credential/history/x1"},
		{"StatusFunction", http.MethodPut, handlers.AdminBase + "/credential/history/{credentialExchangeId}/revocation-status", handlers.AdminBase + "/credential/history/x1/revocation-status"},
	}
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("fuzz", "fuzz", "")}
	deps, err := handlers.NewDeps(context.Background(), config.Config{IssuerURL: "https://issuer.example.com",
		TableName: "t", KMSKeyID: "alias/k", AdminAPIKeyHashes: []string{apigw.HashAPIKey(key)}, RetentionDays: 30},
		platform.FromAWSConfig(cfg), handlers.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		f.Fatal(err)
	}
	fns := handlers.Lambda(deps)
	for _, seed := range []string{
		`{"label":"L","credentialFormat":"dc+sd-jwt","vct":"V","expirationInDays":365,"claims":[{"path":["a"],"mandatory":true,"limitDisclosure":true}],"display":[{"name":"L","locale":"en"}]}`,
		`{"claims":[{"path":["a",0,null]}]}`, `{"credential":{"credentialSubject":{"a":1}}}`, `{"issuanceDenied":true}`,
		`{"credentialStatus":"Revoked"}`, `{"credentialStatus":"Suspended","reason":"x"}`, `null`, `[]`, `{}{}`, "", `{"a":`,
	} {
		for i := range routes {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		rt := routes[int(which)%len(routes)]
		ev := events.APIGatewayProxyRequest{HTTPMethod: rt.method, Resource: rt.resource, Path: rt.path, Body: body,
			Headers: map[string]string{"Content-Type": "application/json", "Authorization": "ApiKey " + key}}
		switch rt.fn {
		case "DefinitionsFunction":
			ev.PathParameters = map[string]string{"credentialDefinitionId": "d1"}
		default:
			ev.PathParameters = map[string]string{"credentialExchangeId": "x1"}
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out, err := fns[rt.fn].Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("%s %s: handler error %v", rt.method, rt.resource, err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s %s: not a proxy response: %v", rt.method, rt.resource, err)
		}
		switch {
		case resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusNotFound:
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			var e map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &e); err != nil || e["errorDescription"] == "" || e["errorDescription"] == nil {
				t.Fatalf("%s %s: %d without a described error: %s", rt.method, rt.resource, resp.StatusCode, resp.Body)
			}
		default:
			t.Fatalf("%s %s: status %d for body %q: %s", rt.method, rt.resource, resp.StatusCode, body, resp.Body)
		}
	})
}
