package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// TestIssueChecksClaimsAgainstDefinition: claims that do not fit the definition (a mandatory claim missing, an
// object where the definition's paths expect an array or the reverse) are refused when the organisation issues
// or completes, naming the claim and never its value, and nothing is stored. Without the check they were
// accepted and failed only when the wallet asked for the credential.
func TestIssueChecksClaimsAgainstDefinition(t *testing.T) {
	spec := definition.Spec{Label: "Diploma", CredentialFormat: "dc+sd-jwt", VCT: "Diploma", ExpirationInDays: 30,
		Claims: []definition.Claim{
			{Path: []any{"given_name"}, Mandatory: true, LimitDisclosure: true},
			{Path: []any{"address", "country"}, Mandatory: true},
			{Path: []any{"address", "street_address"}, LimitDisclosure: true},
			{Path: []any{"degrees", nil, "title"}, Mandatory: true, LimitDisclosure: true},
		}}
	valid := func() map[string]any {
		return map[string]any{"given_name": "Erika", "address": map[string]any{"country": "DE", "street_address": "Hauptstr. 1"},
			"degrees": []any{map[string]any{"title": "BSc"}, map[string]any{"title": "MSc"}}}
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		field  string // "" = accepted
	}{
		{"fits", func(map[string]any) {}, ""},
		{"optional claim absent", func(s map[string]any) { delete(s["address"].(map[string]any), "street_address") }, ""},
		{"no degrees at all is fine for an every-element path", func(s map[string]any) { s["degrees"] = []any{} }, ""},
		{"extra claims are issued in the clear", func(s map[string]any) { s["nickname"] = "E" }, ""},
		{"mandatory top-level missing", func(s map[string]any) { delete(s, "given_name") }, "credential.credentialSubject.given_name"},
		{"mandatory top-level null", func(s map[string]any) { s["given_name"] = nil }, "credential.credentialSubject.given_name"},
		{"mandatory nested missing", func(s map[string]any) { delete(s["address"].(map[string]any), "country") },
			"credential.credentialSubject.address.country"},
		{"parent missing", func(s map[string]any) { delete(s, "address") }, "credential.credentialSubject.address"},
		{"mandatory in one array element missing", func(s map[string]any) {
			s["degrees"] = []any{map[string]any{"title": "BSc"}, map[string]any{"year": 2020}}
		}, "credential.credentialSubject.degrees[1].title"},
		{"object where an array is expected", func(s map[string]any) { s["degrees"] = map[string]any{"title": "BSc"} },
			"credential.credentialSubject.degrees"},
		{"string where an object is expected", func(s map[string]any) { s["address"] = "Hauptstr. 1, Berlin" },
			"credential.credentialSubject.address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"InTime", "Deferred"} {
				e := newEnv(t)
				def, err := e.svc.DefineCredential(context.Background(), spec)
				if err != nil {
					t.Fatal(err)
				}
				s := valid()
				tt.change(s)
				req := admin.IssueRequest{IssuanceMode: mode, CredentialDefinitionID: def.ID,
					Credential: &admin.CredentialInput{CredentialSubject: s}}
				if mode == "Deferred" {
					// Deferred: the offer goes out without claims; the completion must pass the same check.
					req.Credential = nil
				}
				rec, err := e.svc.IssueCredential(context.Background(), req)
				if mode == "Deferred" {
					if err != nil {
						t.Fatalf("deferred offer without claims refused: %v", err)
					}
					_, err = e.svc.CompleteDeferred(context.Background(), rec.CredentialExchangeID,
						&admin.CredentialInput{CredentialSubject: s}, nil)
				}
				checkFitResult(t, mode, err, tt.field)
				if tt.field == "" {
					continue
				}
				stored := e.exchanges(t)
				if mode == "InTime" && stored != 0 {
					t.Errorf("%s: a refused issue stored %d exchanges", mode, stored)
				}
				if mode == "Deferred" {
					got, err := e.svc.GetExchange(context.Background(), rec.CredentialExchangeID)
					if err != nil || got.CredentialStatus != exchange.CredentialPending || got.Version != rec.Version {
						t.Errorf("%s: a refused completion changed the record: %v %s v%d", mode, err, got.CredentialStatus, got.Version)
					}
				}
			}
		})
	}
}

func checkFitResult(t *testing.T, mode string, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("%s: refused claims that fit: %v", mode, err)
		}
		return
	}
	var v *validation.Error
	if !errors.As(err, &v) || v.Field != field {
		t.Fatalf("%s: err = %v, want a ValidationError naming %s", mode, err, field)
	}
	for _, value := range []string{"Erika", "Hauptstr", "BSc", "MSc", "DE\""} {
		if strings.Contains(err.Error(), value) {
			t.Errorf("%s: error %q quotes a claim value", mode, err)
		}
	}
}
