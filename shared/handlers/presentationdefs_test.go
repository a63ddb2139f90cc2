package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/handlers"
)

const dcqlDefinitionBody = `{"label": "Legal person identification",
  "dcqlQuery": {"credentials": [{"id": "lpid", "format": "dc+sd-jwt",
    "meta": {"vct_values": ["https://registry.example/vct/lpid"]},
    "claims": [{"path": ["legal_name"]}, {"path": ["registration_number"]}]}]},
  "trustedIssuers": ["https://registry.example"]}`

const peDefinitionBody = `{"label": "Employee (draft wallets)",
  "presentationDefinition": {"id": "employment", "input_descriptors": [{"id": "employee",
    "constraints": {"fields": [{"path": ["$.vct"], "filter": {"type": "string", "const": "EmployeeID"}}]}}]}}`

// TestPresentationDefinitionsAPI: create (DCQL and Presentation Exchange), read, replace, list with cursor,
// delete, over DynamoDB Local; the stored query comes back as sent.
func TestPresentationDefinitionsAPI(t *testing.T) {
	a := newAPI(t)
	r := a.do(call{method: "POST", path: base + "/presentation-definition", body: dcqlDefinitionBody})
	var got handlers.PresentationDefinitionResponse
	r.json(t, &got)
	pd := got.PresentationDefinition
	if r.status != http.StatusCreated || pd.ID == "" || pd.CreatedAt == 0 || pd.Label != "Legal person identification" ||
		!strings.Contains(string(pd.DCQLQuery), `"vct_values":["https://registry.example/vct/lpid"]`) ||
		len(pd.TrustedIssuers) != 1 || pd.PresentationDefinition != nil {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if !strings.Contains(r.body, `"trustedIssuers":["https://registry.example"]`) {
		t.Fatalf("create: trusted issuers not rendered: %s", r.body)
	}
	r = a.do(call{method: "GET", path: base + "/presentation-definition/" + pd.ID})
	r.json(t, &got)
	if r.status != 200 || got.PresentationDefinition.ID != pd.ID || string(got.PresentationDefinition.DCQLQuery) != string(pd.DCQLQuery) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = a.do(call{method: "PUT", path: base + "/presentation-definition/" + pd.ID, body: peDefinitionBody})
	got = handlers.PresentationDefinitionResponse{}
	r.json(t, &got)
	if r.status != 200 || got.PresentationDefinition.CreatedAt != pd.CreatedAt || got.PresentationDefinition.DCQLQuery != nil ||
		!strings.Contains(string(got.PresentationDefinition.PresentationDefinition), `"input_descriptors"`) ||
		len(got.PresentationDefinition.TrustedIssuers) != 0 || !strings.Contains(r.body, `"trustedIssuers":[]`) {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	for range 4 {
		if r := a.do(call{method: "POST", path: base + "/presentation-definition", body: peDefinitionBody}); r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
	}
	a.createDefinition() // a credential definition is not listed among presentation definitions
	ids := a.listIDs(base+"/presentation-definitions", "presentationDefinitions", "presentationDefinitionId")
	if len(ids) != 5 || ids[4] != pd.ID {
		t.Fatalf("listed %v, want 5 with the first created last", ids)
	}
	if r := a.do(call{method: "GET", path: base + "/presentation-definitions", query: map[string]string{"cursor": "bm90LWEtY3Vyc29y"}}); r.status != 400 || !strings.Contains(r.body, "cursor") {
		t.Fatalf("garbage cursor: %d %s", r.status, r.body)
	}
	if r := a.do(call{method: "DELETE", path: base + "/presentation-definition/" + pd.ID}); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if r := a.do(call{method: m, path: base + "/presentation-definition/" + pd.ID}); r.status != 404 || !strings.Contains(r.body, "presentation definition not found") {
			t.Fatalf("%s deleted: %d %s", m, r.status, r.body)
		}
	}
	if r := a.do(call{method: "PUT", path: base + "/presentation-definition/" + pd.ID, body: dcqlDefinitionBody}); r.status != 404 {
		t.Fatalf("replace deleted: %d", r.status)
	}
}

// TestPresentationDefinitionValidation: every fault is a 400 whose description starts with the field (what the
// console shows at that field), and nothing is stored.
func TestPresentationDefinitionValidation(t *testing.T) {
	a := newAPI(t)
	cases := []struct{ name, body, field string }{
		{"no label", `{"dcqlQuery": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}}`, "label"},
		{"neither", `{"label": "x"}`, "presentationDefinition"},
		{"both", `{"label": "x", "dcqlQuery": {"credentials": []}, "presentationDefinition": {"id": "x"}}`, "dcqlQuery"},
		{"dcql not an object", `{"label": "x", "dcqlQuery": [1]}`, "dcqlQuery"},
		{"dcql for mdoc", `{"label": "x", "dcqlQuery": {"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {"doctype_value": "x"}}]}}`, "dcqlQuery.credentials[0].format"},
		{"dcql without vct_values", `{"label": "x", "dcqlQuery": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}]}}`, "dcqlQuery.credentials[0].meta.vct_values"},
		{"pe without descriptors", `{"label": "x", "presentationDefinition": {"id": "x", "input_descriptors": []}}`, "presentationDefinition.input_descriptors"},
		{"pe bad path", `{"label": "x", "presentationDefinition": {"id": "x", "input_descriptors": [{"id": "a", "constraints": {"fields": [{"path": ["vct"]}]}}]}}`, "presentationDefinition.input_descriptors[0].constraints.fields[0].path[0]"},
		{"issuer not https", `{"label": "x", "trustedIssuers": ["http://registry.example"], "dcqlQuery": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}}`, "trustedIssuers[0]"},
		{"issuer with query", `{"label": "x", "trustedIssuers": ["https://registry.example?a=b"], "dcqlQuery": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}}`, "trustedIssuers[0]"},
		{"issuer twice", `{"label": "x", "trustedIssuers": ["https://r.example", "https://r.example"], "dcqlQuery": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}}`, "trustedIssuers[1]"},
	}
	for _, c := range cases {
		r := a.do(call{method: "POST", path: base + "/presentation-definition", body: c.body})
		if r.status != 400 || !strings.Contains(r.body, `"errorDescription":"`+c.field+": ") {
			t.Errorf("%s: %d %s, want 400 at %s", c.name, r.status, r.body, c.field)
		}
	}
	big := `{"label": "x", "dcqlQuery": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["` + strings.Repeat("v", 40<<10) + `"]}}]}}`
	if r := a.do(call{method: "POST", path: base + "/presentation-definition", body: big}); r.status != 413 || !strings.Contains(r.body, "dcqlQuery") {
		t.Errorf("a query over 32 KiB: %d %s", r.status, r.body)
	}
	r := a.do(call{method: "GET", path: base + "/presentation-definitions"})
	if r.status != 200 || !strings.Contains(r.body, `"presentationDefinitions":[]`) {
		t.Fatalf("a refused definition was stored: %s", r.body)
	}
}
