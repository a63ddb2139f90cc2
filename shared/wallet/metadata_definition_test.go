package wallet

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// TestAcceptedDefinitionsAppearInMetadata: a definition the admin API accepts is one credential configuration
// of the issuer metadata; the metadata leaves out (and only logs) a configuration it cannot build, so every
// claims list the wallet-facing rules refuse must already be refused at definition time, naming the path.
func TestAcceptedDefinitionsAppearInMetadata(t *testing.T) {
	tests := []struct {
		name   string
		claims []definition.Claim
		field  string
	}{
		{"object and nested", []definition.Claim{{Path: []any{"address"}}, {Path: []any{"address", "street"}}}, ""},
		{"all elements", []definition.Claim{{Path: []any{"nationalities", nil}}}, ""},
		{"two indexes", []definition.Claim{{Path: []any{"list", 0}}, {Path: []any{"list", 1}}}, ""},
		{"index from JSON", []definition.Claim{{Path: []any{"list", json.Number("2")}}}, ""},
		{"null then index", []definition.Claim{{Path: []any{"nationalities", nil}}, {Path: []any{"nationalities", 0}}}, "claims[1].path"},
		{"index then null", []definition.Claim{{Path: []any{"nationalities", 1}}, {Path: []any{"nationalities", nil}}}, "claims[1].path"},
		{"nested null and index", []definition.Claim{{Path: []any{"a"}}, {Path: []any{"a", nil, "x"}}, {Path: []any{"a", 1, "y"}}}, "claims[2].path"},
		{"object then array", []definition.Claim{{Path: []any{"a", "b"}}, {Path: []any{"a", 0}}}, "claims[1].path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := definition.Spec{Label: "L", VCT: "V", ExpirationInDays: 1, Claims: tt.claims}
			err := spec.Normalize()
			if tt.field != "" {
				var v *validation.Error
				if !errors.As(err, &v) || v.Field != tt.field {
					t.Fatalf("Normalize = %v, want a validation error on %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize refused a valid definition: %v", err)
			}
			d := definition.Definition{ID: "def-1", Spec: spec}
			md, err := oid4vci.BuildMetadata("https://issuer.example", oid4vci.DefaultEndpoints("https://issuer.example"),
				[]oid4vci.ConfigInput{definitionInput(&d)})
			if err != nil {
				t.Fatalf("an accepted definition cannot be a credential configuration: %v", err)
			}
			if _, ok := md.CredentialConfigurationsSupported["def-1"]; !ok {
				t.Fatal("the definition is not in credential_configurations_supported")
			}
		})
	}
}
