package definition_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

func TestDPoPRequired(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		set              *bool
		deployment, want bool
	}{{nil, false, false}, {nil, true, true}, {&yes, false, true}, {&no, true, false}} {
		s := definition.Spec{RequireDPoP: tc.set}
		if got := s.DPoPRequired(tc.deployment); got != tc.want {
			t.Errorf("requireDpop %v, deployment %v: %v, want %v", tc.set, tc.deployment, got, tc.want)
		}
	}
}

func TestDefinitionSpecNormalize(t *testing.T) {
	tests := []struct {
		name   string
		change func(*definition.Spec)
		field  string
	}{
		{"valid", func(*definition.Spec) {}, ""},
		{"legacy format", func(s *definition.Spec) { s.CredentialFormat = "vc+sd-jwt" }, ""},
		{"default format", func(s *definition.Spec) { s.CredentialFormat = "" }, ""},
		{"https vct", func(s *definition.Spec) { s.VCT = "https://example.com/pda1" }, ""},
		{"no claims", func(s *definition.Spec) { s.Claims = nil }, ""},
		{"no label", func(s *definition.Spec) { s.Label = "  " }, "label"},
		{"long label", func(s *definition.Spec) { s.Label = strings.Repeat("a", 257) }, "label"},
		{"control in label", func(s *definition.Spec) { s.Label = "a\x00b" }, "label"},
		{"mdoc without doctype", func(s *definition.Spec) { s.CredentialFormat = "mso_mdoc" }, "doctype"},
		{"unknown format", func(s *definition.Spec) { s.CredentialFormat = "ldp_vc" }, "credentialFormat"},
		{"doctype on sd-jwt", func(s *definition.Spec) { s.DocType = "org.iso.18013.5.1.mDL" }, "doctype"},
		{"type on sd-jwt", func(s *definition.Spec) { s.Type = []string{"VerifiableCredential"} }, "type"},
		{"valueType on sd-jwt", func(s *definition.Spec) { s.Claims[0].ValueType = "full-date" }, "claims[0].valueType"},
		{"no vct", func(s *definition.Spec) { s.VCT = "" }, "vct"},
		{"vct with space", func(s *definition.Spec) { s.VCT = "Portable Document" }, "vct"},
		{"vct colon not URI", func(s *definition.Spec) { s.VCT = ":abc" }, "vct"},
		{"vct too long", func(s *definition.Spec) { s.VCT = strings.Repeat("v", 2049) }, "vct"},
		{"zero expiry", func(s *definition.Spec) { s.ExpirationInDays = 0 }, "expirationInDays"},
		{"negative expiry", func(s *definition.Spec) { s.ExpirationInDays = -1 }, "expirationInDays"},
		{"huge expiry", func(s *definition.Spec) { s.ExpirationInDays = 3651 }, "expirationInDays"},
		{"empty path", func(s *definition.Spec) { s.Claims[1].Path = nil }, "claims[1].path"},
		{"null first", func(s *definition.Spec) { s.Claims[0].Path = []any{nil} }, "claims[0].path[0]"},
		{"index first", func(s *definition.Spec) { s.Claims[0].Path = []any{1.0} }, "claims[0].path[0]"},
		{"negative index", func(s *definition.Spec) { s.Claims[0].Path = []any{"a", -1.0} }, "claims[0].path[1]"},
		{"fraction index", func(s *definition.Spec) { s.Claims[0].Path = []any{"a", 1.5} }, "claims[0].path[1]"},
		{"bool element", func(s *definition.Spec) { s.Claims[2].Path = []any{"a", true} }, "claims[2].path[1]"},
		{"empty name", func(s *definition.Spec) { s.Claims[0].Path = []any{""} }, "claims[0].path[0]"},
		{"reserved iss", func(s *definition.Spec) { s.Claims[0].Path = []any{"iss"} }, "claims[0].path[0]"},
		{"reserved cnf", func(s *definition.Spec) { s.Claims[0].Path = []any{"cnf"} }, "claims[0].path[0]"},
		{"sd marker", func(s *definition.Spec) { s.Claims[0].Path = []any{"a", "_sd"} }, "claims[0].path[1]"},
		{"array used as object", func(s *definition.Spec) {
			s.Claims = append(s.Claims, definition.Claim{Path: []any{"nationalities", "x"}})
		}, "claims[5].path"},
		{"duplicate", func(s *definition.Spec) { s.Claims[1].Path = []any{"given_name"} }, "claims[1].path"},
		{"too deep", func(s *definition.Spec) { s.Claims[0].Path = make([]any, 17) }, "claims[0].path"},
		{"too many claims", func(s *definition.Spec) {
			s.Claims = make([]definition.Claim, 201)
		}, "claims"},
		{"display without name", func(s *definition.Spec) { s.Display[0].Name = "" }, "display[0].name"},
		{"bad locale", func(s *definition.Spec) { s.Display[0].Locale = "en GB" }, "display[0].locale"},
		{"claim display", func(s *definition.Spec) {
			s.Claims[0].Display = []definition.Display{{Locale: "en"}}
		}, "claims[0].display[0].name"},
		{"HAIP policy", func(s *definition.Spec) {
			yes := true
			s.RequireDPoP, s.RequireClientAttestation = &yes, true
			s.KeyAttestationsRequired = &definition.KeyAttestationsRequired{KeyStorage: []string{"iso_18045_high"}}
		}, ""},
		{"key attestation without constraints", func(s *definition.Spec) {
			s.KeyAttestationsRequired = &definition.KeyAttestationsRequired{}
		}, ""},
		{"key storage value empty", func(s *definition.Spec) {
			s.KeyAttestationsRequired = &definition.KeyAttestationsRequired{KeyStorage: []string{""}}
		}, "keyAttestationsRequired.keyStorage[0]"},
		{"user authentication value with a quote", func(s *definition.Spec) {
			s.KeyAttestationsRequired = &definition.KeyAttestationsRequired{UserAuthentication: []string{"a", `b"`}}
		}, "keyAttestationsRequired.userAuthentication[1]"},
		{"key storage value repeated", func(s *definition.Spec) {
			s.KeyAttestationsRequired = &definition.KeyAttestationsRequired{KeyStorage: []string{"x", "x"}}
		}, "keyAttestationsRequired.keyStorage[1]"},
		{"too many key storage values", func(s *definition.Spec) {
			s.KeyAttestationsRequired = &definition.KeyAttestationsRequired{KeyStorage: strings.Split("a b c d e f g h i j k", " ")}
		}, "keyAttestationsRequired.keyStorage"},
		{"logo http", func(s *definition.Spec) {
			s.Display[0].Logo = &definition.Logo{URI: "http://x.example/l.png"}
		}, "display[0].logo.uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := domaintest.DefinitionSpec()
			tt.change(&s)
			err := s.Normalize()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid spec refused: %v", err)
				}
				if s.CredentialFormat == "" || s.Display == nil {
					t.Fatalf("not normalized: %+v", s)
				}
				return
			}
			var v *validation.Error
			if !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
			}
		})
	}
	s := domaintest.DefinitionSpec()
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	if n, ok := s.Claims[4].Path[1].(int); !ok || n != 0 {
		t.Fatalf("index element not normalized to int: %#v", s.Claims[4].Path[1])
	}
}
