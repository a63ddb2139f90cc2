package admin_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// claimsOfSize is a subject whose JSON encoding ({"photo":"xx..."}) is exactly n bytes.
func claimsOfSize(n int) map[string]any {
	// given_name is mandatory in the test definition.
	return map[string]any{"given_name": "E", "photo": strings.Repeat("x", n-len(`{"given_name":"E","photo":""}`))}
}

// TestCredentialDataSizeLimit: the claims and metadata of one exchange are kept (with every credential issued
// from them) in one DynamoDB item of at most 400 KB, so an exchange whose data cannot be kept is refused up front
// with ErrTooLarge naming the field, and nothing is stored, instead of failing at the store with a 500.
func TestCredentialDataSizeLimit(t *testing.T) {
	const limit = admin.MaxCredentialDataBytes
	metaSize := len(`{"credentialSubject":,"credentialMetadata":null}`)
	tests := []struct {
		name  string
		req   func(defID string) admin.IssueRequest
		field string
	}{
		{"one credential at the limit", func(defID string) admin.IssueRequest {
			return admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID,
				Credential: &admin.CredentialInput{CredentialSubject: claimsOfSize(limit - metaSize)}}
		}, ""},
		{"one credential over the limit", func(defID string) admin.IssueRequest {
			return admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID,
				Credential: &admin.CredentialInput{CredentialSubject: claimsOfSize(limit - metaSize + 1)}}
		}, "credential"},
		{"metadata counts", func(defID string) admin.IssueRequest {
			return admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID,
				Credential: &admin.CredentialInput{CredentialSubject: subject(),
					CredentialMetadata: claimsOfSize(limit)}}
		}, "credential"},
		{"credentials together over the limit", func(defID string) admin.IssueRequest {
			var cs []admin.CredentialInput
			for i := 0; i < 4; i++ {
				cs = append(cs, admin.CredentialInput{CredentialSubject: claimsOfSize(limit / 4)})
			}
			return admin.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID, Credentials: cs}
		}, "credentials"},
		{"dynamic over the limit", func(string) admin.IssueRequest {
			return admin.IssueRequest{IssuanceMode: "InTime", Credential: &admin.CredentialInput{
				Type: "Badge", CredentialSubject: claimsOfSize(limit + 1)}}
		}, "credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			items := e.store.ItemCount()
			_, err := e.svc.IssueCredential(context.Background(), tt.req(e.def.ID))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var v *validation.Error
			if !errors.Is(err, validation.ErrTooLarge) || !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want ErrTooLarge naming %s", err, tt.field)
			}
			if !strings.Contains(v.Reason, fmt.Sprint(limit>>10)+" KiB") || strings.Contains(v.Reason, "xxxx") {
				t.Errorf("reason %q does not state the limit, or quotes the data", v.Reason)
			}
			if e.store.ItemCount() != items {
				t.Fatal("a refused request stored something")
			}
		})
	}
}

// TestDeferredCompletionSizeLimit: the deferred completion applies the same limit to the same fields.
func TestDeferredCompletionSizeLimit(t *testing.T) {
	req := admin.DeferredRequest{Credentials: []admin.CredentialInput{
		{CredentialSubject: claimsOfSize(admin.MaxCredentialDataBytes)}, {CredentialSubject: subject()}}}
	err := req.Validate()
	var v *validation.Error
	if !errors.Is(err, validation.ErrTooLarge) || !errors.As(err, &v) || v.Field != "credentials" {
		t.Fatalf("err = %v, want ErrTooLarge naming credentials", err)
	}
}

// TestDefinitionSizeLimit: every exchange keeps a copy of its definition, so a definition is bounded too.
func TestDefinitionSizeLimit(t *testing.T) {
	big := func(claims, displays int) definition.Spec {
		s := domaintest.DefinitionSpec()
		s.Claims = nil
		for i := 0; i < claims; i++ {
			c := definition.Claim{Path: []any{fmt.Sprintf("claim_%03d", i)}, LimitDisclosure: true}
			for j := 0; j < displays; j++ {
				c.Display = append(c.Display, definition.Display{Name: strings.Repeat("n", 200), Locale: fmt.Sprintf("l%d", j)})
			}
			s.Claims = append(s.Claims, c)
		}
		return s
	}
	tests := []struct {
		name  string
		spec  definition.Spec
		field string
	}{
		{"typical", big(40, 3), ""},
		{"many long displays", big(200, 20), "claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Normalize()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var v *validation.Error
			if !errors.Is(err, validation.ErrTooLarge) || !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want ErrTooLarge naming %s", err, tt.field)
			}
		})
	}
}
