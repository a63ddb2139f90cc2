package handlers_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
)

// FuzzDecodeIssueRequest feeds arbitrary bodies to the issue request decoder: it never panics, refuses with a
// 400 that names what is wrong, and what it accepts validates again after a round trip.
func FuzzDecodeIssueRequest(f *testing.F) {
	for _, seed := range []string{
		`{"issuanceMode":"InTime","credentialDefinitionId":"d","credential":{"credentialSubject":{"a":1}}}`,
		`{"issuanceMode":"Deferred","credentialDefinitionId":"d","userPin":"4821","urlScheme":"haip://"}`,
		`{"issuanceMode":"InTime","credential":{"type":["VerifiableCredential","T"],"credentialSubject":{"a":{"b":[1,null]}}},"credentials":[{"credentialSubject":{"x":true}}]}`,
		`{"issuanceMode":"InTime","credentialOfferEndpoint":"https://w.example/o","credential":{"type":"T","credentialSubject":{"a":1}}}`,
		`{"issuanceMode":"Deferred","credentialDefinitionId":"d","individualId":"p","transactionData":null}`,
		`{"issuanceMode":1}`, `[]`, `null`, `{"credential":"x"}`, `{"userPin":4821}`, `{}{}`, "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := &apigw.Request{Body: body, Headers: map[string]string{"Content-Type": "application/json"}}
		got, err := handlers.DecodeIssueRequest(req)
		if err != nil {
			var e *apigw.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Description == "" {
				t.Fatalf("refusal %v is not a described 400", err)
			}
			return
		}
		if got.IssuanceMode != "InTime" && got.IssuanceMode != "Deferred" {
			t.Fatalf("accepted issuanceMode %q", got.IssuanceMode)
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("accepted request does not encode: %v", err)
		}
		if _, err := handlers.DecodeIssueRequest(&apigw.Request{Body: string(again)}); err != nil {
			t.Fatalf("accepted request refused after a round trip: %v\n%s", err, again)
		}
	})
}
