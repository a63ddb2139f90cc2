package issuance_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/issuance"
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
	const limit = issuance.MaxCredentialDataBytes
	metaSize := len(`{"credentialSubject":,"credentialMetadata":null}`)
	tests := []struct {
		name  string
		req   func(defID string) issuance.IssueRequest
		field string
	}{
		{"one credential at the limit", func(defID string) issuance.IssueRequest {
			return issuance.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID,
				Credential: &issuance.CredentialInput{CredentialSubject: claimsOfSize(limit - metaSize)}}
		}, ""},
		{"one credential over the limit", func(defID string) issuance.IssueRequest {
			return issuance.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID,
				Credential: &issuance.CredentialInput{CredentialSubject: claimsOfSize(limit - metaSize + 1)}}
		}, "credential"},
		{"metadata counts", func(defID string) issuance.IssueRequest {
			return issuance.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID,
				Credential: &issuance.CredentialInput{CredentialSubject: subject(),
					CredentialMetadata: claimsOfSize(limit)}}
		}, "credential"},
		{"credentials together over the limit", func(defID string) issuance.IssueRequest {
			var cs []issuance.CredentialInput
			for i := 0; i < 4; i++ {
				cs = append(cs, issuance.CredentialInput{CredentialSubject: claimsOfSize(limit / 4)})
			}
			return issuance.IssueRequest{IssuanceMode: "InTime", CredentialDefinitionID: defID, Credentials: cs}
		}, "credentials"},
		{"dynamic over the limit", func(string) issuance.IssueRequest {
			return issuance.IssueRequest{IssuanceMode: "InTime", Credential: &issuance.CredentialInput{
				Type: "Badge", CredentialSubject: claimsOfSize(limit + 1)}}
		}, "credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.svc.IssueCredential(context.Background(), tt.req(e.def.ID))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var v *issuance.ValidationError
			if !errors.Is(err, issuance.ErrTooLarge) || !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want ErrTooLarge naming %s", err, tt.field)
			}
			if !strings.Contains(v.Reason, fmt.Sprint(limit>>10)+" KiB") || strings.Contains(v.Reason, "xxxx") {
				t.Errorf("reason %q does not state the limit, or quotes the data", v.Reason)
			}
			if len(e.store.exchanges) != 0 || len(e.store.pointers) != 0 || len(e.store.dynamic) != 0 {
				t.Fatal("a refused request stored something")
			}
		})
	}
}

// TestDeferredCompletionSizeLimit: the deferred completion applies the same limit to the same fields.
func TestDeferredCompletionSizeLimit(t *testing.T) {
	req := issuance.DeferredRequest{Credentials: []issuance.CredentialInput{
		{CredentialSubject: claimsOfSize(issuance.MaxCredentialDataBytes)}, {CredentialSubject: subject()}}}
	err := req.Validate()
	var v *issuance.ValidationError
	if !errors.Is(err, issuance.ErrTooLarge) || !errors.As(err, &v) || v.Field != "credentials" {
		t.Fatalf("err = %v, want ErrTooLarge naming credentials", err)
	}
}

// TestDefinitionSizeLimit: every exchange keeps a copy of its definition, so a definition is bounded too.
func TestDefinitionSizeLimit(t *testing.T) {
	big := func(claims, displays int) issuance.DefinitionSpec {
		s := validSpec()
		s.Claims = nil
		for i := 0; i < claims; i++ {
			c := issuance.Claim{Path: []any{fmt.Sprintf("claim_%03d", i)}, LimitDisclosure: true}
			for j := 0; j < displays; j++ {
				c.Display = append(c.Display, issuance.Display{Name: strings.Repeat("n", 200), Locale: fmt.Sprintf("l%d", j)})
			}
			s.Claims = append(s.Claims, c)
		}
		return s
	}
	tests := []struct {
		name  string
		spec  issuance.DefinitionSpec
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
			var v *issuance.ValidationError
			if !errors.Is(err, issuance.ErrTooLarge) || !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want ErrTooLarge naming %s", err, tt.field)
			}
		})
	}
}
