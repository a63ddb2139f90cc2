package presentationdef_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/dcql"
	"github.com/sdjwt-issuer/issuer/shared/pex"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// FuzzPresentationDefinition feeds Normalize what an organisation sends (the admin API's body): whatever it
// refuses is a *validation.Error naming a field; whatever it accepts parses again from its stored form, and
// evaluating it against arbitrary claims never panics.
func FuzzPresentationDefinition(f *testing.F) {
	f.Add([]byte(`{"label": "x", "dcqlQuery": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}, "claims": [{"id": "n", "path": ["a", null, 0], "values": ["x", 1, true]}], "claim_sets": [["n"]]}], "credential_sets": [{"options": [["a"]]}]}}`),
		[]byte(`{"vct": "v", "a": [{"x": 1}]}`))
	f.Add([]byte(`{"label": "x", "presentationDefinition": {"id": "d", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct", "$..x[?@ > 1]"], "filter": {"type": "string", "pattern": "^v"}}]}}]}, "trustedIssuers": ["https://i.example"]}`),
		[]byte(`{"vct": "v"}`))
	f.Fuzz(func(t *testing.T, body, claimsJSON []byte) {
		var spec presentationdef.Spec
		if json.Unmarshal(body, &spec) != nil {
			return
		}
		if err := spec.Normalize(); err != nil {
			var v *validation.Error
			if !errors.As(err, &v) || v.Field == "" {
				t.Fatalf("refusal %v is not a *validation.Error naming a field", err)
			}
			return
		}
		var claims map[string]any
		_ = json.Unmarshal(claimsJSON, &claims)
		q, err := spec.Query()
		if err != nil {
			t.Fatalf("accepted DCQL query does not parse again: %v", err)
		}
		if q != nil {
			_ = q.Evaluate(map[string][]dcql.Presented{q.Credentials[0].ID: {{Typ: "dc+sd-jwt", VCT: "v", Claims: claims}}})
			return
		}
		d, err := spec.PresentationExchange()
		if err != nil || d == nil {
			t.Fatalf("accepted definition does not parse again: %v", err)
		}
		sub := &pex.Submission{ID: "s", DefinitionID: d.ID, DescriptorMap: []pex.Descriptor{{ID: d.InputDescriptors[0].ID, Format: "vc+sd-jwt", Path: "$"}}}
		_, _ = d.Evaluate(sub, []pex.Presented{{Typ: "vc+sd-jwt", Claims: claims}}, true)
	})
}

// FuzzPresentationSubmission feeds ParseSubmission what a wallet sends.
func FuzzPresentationSubmission(f *testing.F) {
	f.Add([]byte(`{"id": "s", "definition_id": "d", "descriptor_map": [{"id": "a", "format": "vc+sd-jwt", "path": "$[0]"}]}`), 2)
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		sub, err := pex.ParseSubmission(raw)
		if err != nil {
			if !errors.Is(err, pex.ErrSubmission) {
				t.Fatalf("error %v is not ErrSubmission", err)
			}
			return
		}
		d, err := pex.Parse([]byte(`{"id": "d", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"]}]}}]}`), "pd")
		if err != nil {
			t.Fatal(err)
		}
		n = max(0, min(n, 8))
		presented := make([]pex.Presented, n)
		for i := range presented {
			presented[i] = pex.Presented{Typ: "vc+sd-jwt", Claims: map[string]any{"vct": "v"}}
		}
		_, _ = d.Evaluate(sub, presented, n == 1)
	})
}
