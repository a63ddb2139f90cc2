package pex

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/validation"
)

const employment = `{"id": "employment", "input_descriptors": [{"id": "employee",
  "format": {"vc+sd-jwt": {"sd-jwt_alg_values": ["ES256"]}},
  "constraints": {"limit_disclosure": "required", "fields": [
    {"path": ["$.vct"], "filter": {"type": "string", "const": "https://issuer.example/vct/employee"}},
    {"id": "name", "path": ["$.given_name", "$.credentialSubject.given_name"]},
    {"path": ["$.age"], "filter": {"type": "integer", "minimum": 18}},
    {"path": ["$.nickname"], "optional": true}]}}]}`

func TestParseValidates(t *testing.T) {
	cases := []struct{ name, def, field string }{
		{"not an object", `"x"`, "presentationDefinition"},
		{"no id", `{"input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"]}]}}]}`, "presentationDefinition.id"},
		{"no descriptors", `{"id": "x", "input_descriptors": []}`, "presentationDefinition.input_descriptors"},
		{"submission requirements", `{"id": "x", "submission_requirements": [{"rule": "all", "from": "A"}], "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"]}]}}]}`, "presentationDefinition.submission_requirements"},
		{"ldp only", `{"id": "x", "format": {"ldp_vp": {}}, "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"]}]}}]}`, "presentationDefinition.format"},
		{"repeated descriptor id", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"]}]}}, {"id": "a", "constraints": {"fields": [{"path": ["$.vct"]}]}}]}`, "presentationDefinition.input_descriptors[1].id"},
		{"no constraints", `{"id": "x", "input_descriptors": [{"id": "a"}]}`, "presentationDefinition.input_descriptors[0].constraints"},
		{"no fields", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {}}]}`, "presentationDefinition.input_descriptors[0].constraints.fields"},
		{"bad limit_disclosure", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"limit_disclosure": "always", "fields": [{"path": ["$.vct"]}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.limit_disclosure"},
		{"statuses", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"statuses": {"active": {"directive": "required"}}, "fields": [{"path": ["$.vct"]}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.statuses"},
		{"bad path", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$..["]}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.fields[0].path[0]"},
		{"empty path", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": []}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.fields[0].path"},
		{"bad filter", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"], "filter": {"type": 7}}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.fields[0].filter"},
		{"filter loading a file", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"], "filter": {"$ref": "file:///etc/passwd"}}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.fields[0].filter"},
		{"filter loading a URL", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.vct"], "filter": {"$ref": "http://169.254.169.254/latest"}}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.fields[0].filter"},
		{"predicate", `{"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["$.age"], "predicate": "required", "filter": {"type": "integer"}}]}}]}`, "presentationDefinition.input_descriptors[0].constraints.fields[0].predicate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.def), "presentationDefinition")
			var v *validation.Error
			if !errors.As(err, &v) || v.Field != c.field {
				t.Fatalf("err = %v, want a validation error at %q", err, c.field)
			}
		})
	}
	if _, err := Parse([]byte(employment), "presentationDefinition"); err != nil {
		t.Fatalf("valid definition refused: %v", err)
	}
}

func decode(t *testing.T, doc string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEvaluate(t *testing.T) {
	d, err := Parse([]byte(employment), "presentationDefinition")
	if err != nil {
		t.Fatal(err)
	}
	ok := Presented{Typ: "vc+sd-jwt", Claims: decode(t, `{"vct": "https://issuer.example/vct/employee", "given_name": "Erika", "age": 42}`)}
	sub := func(entries ...string) *Submission {
		s := &Submission{ID: "s", DefinitionID: "employment"}
		for _, p := range entries {
			s.DescriptorMap = append(s.DescriptorMap, Descriptor{ID: "employee", Format: "vc+sd-jwt", Path: p})
		}
		return s
	}
	cases := []struct {
		name      string
		sub       *Submission
		presented []Presented
		single    bool
		reason    string
	}{
		{"single", sub("$"), []Presented{ok}, true, ""},
		{"array", sub("$[0]"), []Presented{ok}, false, ""},
		{"dc+sd-jwt typ", sub("$"), []Presented{{Typ: "dc+sd-jwt", Claims: ok.Claims}}, true, ""},
		{"other definition", &Submission{ID: "s", DefinitionID: "other", DescriptorMap: sub("$").DescriptorMap}, []Presented{ok}, true, "definition_id"},
		{"unknown descriptor", &Submission{ID: "s", DefinitionID: "employment", DescriptorMap: []Descriptor{{ID: "x", Format: "vc+sd-jwt", Path: "$"}}}, []Presented{ok}, true, "does not have"},
		{"other format", &Submission{ID: "s", DefinitionID: "employment", DescriptorMap: []Descriptor{{ID: "employee", Format: "jwt_vp", Path: "$"}}}, []Presented{ok}, true, "format"},
		{"path past the token", sub("$[1]"), []Presented{ok}, false, "no single presentation"},
		{"array path on one token", sub("$[0]"), []Presented{ok}, true, "no single presentation"},
		{"whole array", sub("$"), []Presented{ok}, false, "no single presentation"},
		{"unmapped presentation", sub("$[0]"), []Presented{ok, ok}, false, "not in the descriptor_map"},
		{"wrong vct", sub("$"), []Presented{{Typ: "vc+sd-jwt", Claims: decode(t, `{"vct": "other", "given_name": "E", "age": 42}`)}}, true, "fields[0]"},
		{"name missing", sub("$"), []Presented{{Typ: "vc+sd-jwt", Claims: decode(t, `{"vct": "https://issuer.example/vct/employee", "age": 42}`)}}, true, "field name"},
		{"second path", sub("$"), []Presented{{Typ: "vc+sd-jwt", Claims: decode(t, `{"vct": "https://issuer.example/vct/employee", "credentialSubject": {"given_name": "E"}, "age": 42}`)}}, true, ""},
		{"too young", sub("$"), []Presented{{Typ: "vc+sd-jwt", Claims: decode(t, `{"vct": "https://issuer.example/vct/employee", "given_name": "E", "age": 17}`)}}, true, "fields[2]"},
		{"not an SD-JWT VC", sub("$"), []Presented{{Typ: "JWT", Claims: ok.Claims}}, true, "not an SD-JWT VC"},
		{"nothing mapped", &Submission{ID: "s", DefinitionID: "employment"}, []Presented{}, false, "no presentation is mapped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := d.Evaluate(c.sub, c.presented, c.single)
			if c.reason == "" {
				if err != nil || len(m["employee"]) != 1 {
					t.Fatalf("refused: %v (%v)", err, m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("err = %v, want %q", err, c.reason)
			}
			if strings.Contains(err.Error(), "Erika") {
				t.Fatalf("reason quotes a claim value: %v", err)
			}
		})
	}
}

func TestParseSubmission(t *testing.T) {
	for _, bad := range []string{`{}`, `{"id": "s"}`, `{"id": "s", "definition_id": "d"}`,
		`{"id": "s", "definition_id": "d", "descriptor_map": [{"id": "a"}]}`,
		`{"id": "s", "definition_id": "d", "descriptor_map": [{"id": "a", "format": "vc+sd-jwt", "path": "$", "path_nested": {}}]}`,
		`{"id": "s", "id": "t", "definition_id": "d", "descriptor_map": [{"id": "a", "format": "vc+sd-jwt", "path": "$"}]}`} {
		if _, err := ParseSubmission([]byte(bad)); !errors.Is(err, ErrSubmission) {
			t.Errorf("%s: err = %v, want ErrSubmission", bad, err)
		}
	}
	if _, err := ParseSubmission([]byte(`{"id": "s", "definition_id": "d", "descriptor_map": [{"id": "a", "format": "vc+sd-jwt", "path": "$"}]}`)); err != nil {
		t.Fatal(err)
	}
}
