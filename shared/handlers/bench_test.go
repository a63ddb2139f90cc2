package handlers_test

import (
	"context"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/awscalls"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
)

// benchmarkAdmin runs one admin use case per iteration against DynamoDB Local and reports the DynamoDB calls it
// makes (aws_calls/op), the figure that matters on Lambda.
func benchmarkAdmin(b *testing.B, op func(ctx context.Context, a *api, def definition.Definition) error) {
	a := newAPI(b)
	def := a.createDefinition()
	calls := 0
	b.ResetTimer()
	for b.Loop() {
		ctx, counter := awscalls.WithCounter(context.Background())
		if err := op(ctx, a, def); err != nil {
			b.Fatal(err)
		}
		calls += counter.Total()
	}
	b.ReportMetric(float64(calls)/float64(b.N), "aws_calls/op")
}

func BenchmarkIssueCredentialDynamoDB(b *testing.B) {
	benchmarkAdmin(b, func(ctx context.Context, a *api, def definition.Definition) error {
		_, err := a.deps.Issuance.IssueCredential(ctx, admin.IssueRequest{IssuanceMode: "InTime", UserPin: "4821",
			CredentialDefinitionID: def.ID, Credential: &admin.CredentialInput{
				CredentialSubject: map[string]any{"given_name": "Erika", "family_name": "Mustermann"}}})
		return err
	})
}

func BenchmarkListHistoryDynamoDB(b *testing.B) {
	benchmarkAdmin(b, func(ctx context.Context, a *api, def definition.Definition) error {
		_, err := a.deps.Issuance.ListExchanges(ctx, exchange.Filter{CredentialDefinitionID: def.ID},
			exchange.PageRequest{Limit: 20})
		return err
	})
}
