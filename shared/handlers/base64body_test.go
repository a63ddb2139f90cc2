package handlers_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

// TestAdminBodiesBase64Encoded: with BinaryMediaTypes */* (template.yaml, for the QR PNG), API Gateway hands
// every request body to the functions base64-encoded; every admin route that reads a body accepts it so, and
// still names the field of a wrong one.
func TestAdminBodiesBase64Encoded(t *testing.T) {
	a := newAPI(t)
	def := a.createDefinition()
	deferred := a.issue(`{"issuanceMode": "Deferred", "credentialDefinitionId": "` + def.ID + `"}`)
	send := func(method, path, body string) reply {
		t.Helper()
		resource, params := a.match(method, path)
		req := apigw.Request{HTTPMethod: method, Resource: resource, Path: path, PathParameters: params,
			Headers: map[string]string{"Authorization": "ApiKey " + apiKey, "Content-Type": "application/json"},
			Body:    base64.StdEncoding.EncodeToString([]byte(body)), IsBase64Encoded: true}
		resp, err := a.routes[method+" "+resource].ServeEvent(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return reply{status: resp.StatusCode, body: resp.Body}
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"create definition", "POST", base + "/credential-definition", definitionBody, http.StatusCreated, `"credentialDefinitionId"`},
		{"replace definition", "PUT", base + "/credential-definition/" + def.ID, definitionBody, http.StatusOK, def.ID},
		{"issue", "POST", base + "/credential/issue", `{"issuanceMode": "InTime", "credentialDefinitionId": "` + def.ID +
			`", "credential": {"credentialSubject": {"given_name": "Erika"}}}`, http.StatusOK, `"status":"offer_sent"`},
		{"issue wrong type", "POST", base + "/credential/issue", `{"issuanceMode": 1}`, http.StatusBadRequest, "issuanceMode"},
		{"register individual", "PUT", base + "/individual/p-9", `{"credentialOfferEndpoint": "https://w.example/o"}`, http.StatusOK, `"p-9"`},
		{"complete deferred", "PUT", base + "/credential/history/" + deferred["credentialExchangeId"].(string),
			`{"credential": {"credentialSubject": {"given_name": "Erika"}}}`, http.StatusOK, `"credentialStatus":"ready"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(tt.method, tt.path, tt.body)
			if r.status != tt.status || !strings.Contains(r.body, tt.contains) {
				t.Fatalf("%d %.300s, want %d containing %s", r.status, r.body, tt.status, tt.contains)
			}
		})
	}
}
