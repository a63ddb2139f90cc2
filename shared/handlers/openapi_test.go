package handlers_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sdjwt-issuer/issuer/infra/template"
	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
)

// openAPI is the part of docs/openapi.yaml the test reads.
type openAPI struct {
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Schemas map[string]schema `yaml:"schemas"`
	} `yaml:"components"`
}

type schema struct {
	Ref        string            `yaml:"$ref"`
	Properties map[string]schema `yaml:"properties"`
	AllOf      []schema          `yaml:"allOf"`
	Items      *schema           `yaml:"items"`
}

type operation struct {
	RequestBody struct {
		Content map[string]struct {
			Schema schema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]struct {
		Ref     string `yaml:"$ref"`
		Content map[string]struct {
			Schema schema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"responses"`
}

func repoFile(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	b, err := os.ReadFile(repoFile(t, "docs/openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml does not parse: %v", err)
	}
	return &doc
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}

// TestOpenAPIRoutesMatchTemplate: the paths and methods of docs/openapi.yaml are exactly the admin routes of
// template.yaml, and the admin routers register exactly those routes.
func TestOpenAPIRoutesMatchTemplate(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented []string
	for path, ops := range doc.Paths {
		for m := range ops {
			if httpMethods[m] {
				documented = append(documented, strings.ToUpper(m)+" "+path)
			}
		}
	}
	routes, err := template.Routes(repoFile(t, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var admin []string
	for _, r := range routes {
		if strings.HasPrefix(r.Path, handlers.AdminBase+"/") {
			admin = append(admin, r.Method+" "+r.Path)
		}
	}
	sort.Strings(documented)
	sort.Strings(admin)
	if strings.Join(documented, "\n") != strings.Join(admin, "\n") {
		t.Errorf("docs/openapi.yaml paths differ from template.yaml admin routes\nopenapi:\n%s\ntemplate:\n%s",
			strings.Join(documented, "\n"), strings.Join(admin, "\n"))
	}
	if len(admin) == 0 {
		t.Fatal("template.yaml has no admin routes")
	}
}

// schemaTypes maps each object schema of docs/openapi.yaml to the Go type whose JSON it describes.
var schemaTypes = map[string]reflect.Type{
	"Display":                            reflect.TypeFor[definition.Display](),
	"Logo":                               reflect.TypeFor[definition.Logo](),
	"KeyAttestationsRequired":            reflect.TypeFor[definition.KeyAttestationsRequired](),
	"Claim":                              reflect.TypeFor[definition.Claim](),
	"DefinitionRequest":                  reflect.TypeFor[handlers.DefinitionRequest](),
	"CredentialDefinition":               reflect.TypeFor[definition.Definition](),
	"DefinitionResponse":                 reflect.TypeFor[handlers.DefinitionResponse](),
	"Pagination":                         reflect.TypeFor[handlers.Pagination](),
	"DefinitionListResponse":             reflect.TypeFor[handlers.DefinitionListResponse](),
	"PresentationDefinitionRequest":      reflect.TypeFor[handlers.PresentationDefinitionRequest](),
	"PresentationDefinition":             reflect.TypeFor[presentationdef.Definition](),
	"PresentationDefinitionResponse":     reflect.TypeFor[handlers.PresentationDefinitionResponse](),
	"PresentationDefinitionListResponse": reflect.TypeFor[handlers.PresentationDefinitionListResponse](),
	"CredentialInput":                    reflect.TypeFor[admin.CredentialInput](),
	"IssueRequest":                       reflect.TypeFor[handlers.IssueRequest](),
	"DeferredIssueRequest":               reflect.TypeFor[handlers.DeferredIssueRequest](),
	"RenderedCredential":                 reflect.TypeFor[historyrecord.Credential](),
	"OfferDelivery":                      reflect.TypeFor[historyrecord.OfferDelivery](),
	"PresentationFailure":                reflect.TypeFor[historyrecord.PresentationFailure](),
	"CredentialHistory":                  reflect.TypeFor[historyrecord.Record](),
	"HistoryResponse":                    reflect.TypeFor[handlers.HistoryResponse](),
	"HistoryListResponse":                reflect.TypeFor[handlers.HistoryListResponse](),
	"IndividualRequest":                  reflect.TypeFor[handlers.IndividualRequest](),
	"RevocationStatusRequest":            reflect.TypeFor[handlers.RevocationStatusRequest](),
	"Individual":                         reflect.TypeFor[admin.Individual](),
	"IndividualResponse":                 reflect.TypeFor[handlers.IndividualResponse](),
	"Error": reflect.TypeFor[struct {
		ErrorCode        int    `json:"errorCode"`
		ErrorDescription string `json:"errorDescription"`
	}](),
}

// jsonNames lists the JSON member names of a struct type, following embedded structs, skipping "-".
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// properties lists a schema's property names, resolving $ref and allOf.
func properties(doc *openAPI, s schema, depth int) []string {
	if depth > 10 {
		return nil
	}
	if s.Ref != "" {
		return properties(doc, doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], depth+1)
	}
	var out []string
	for name := range s.Properties {
		out = append(out, name)
	}
	for _, part := range s.AllOf {
		out = append(out, properties(doc, part, depth+1)...)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPISchemasMatchGoTypes: every object schema has exactly the properties of its Go type's JSON.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, s := range doc.Components.Schemas {
		typ, ok := schemaTypes[name]
		if !ok {
			if len(properties(doc, s, 0)) > 0 {
				t.Errorf("schema %s has properties but no Go type in schemaTypes", name)
			}
			continue
		}
		got, want := properties(doc, s, 0), jsonNames(typ)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("schema %s properties\n  openapi: %v\n  Go %v: %v", name, got, typ, want)
		}
	}
	for name := range schemaTypes {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("Go type of schema %s is mapped but docs/openapi.yaml has no such schema", name)
		}
	}
}

// TestOpenAPIOperationsUseTheHandlersTypes: each operation's request and success response schemas are the
// types its handler decodes and encodes.
func TestOpenAPIOperationsUseTheHandlersTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	b := handlers.AdminBase
	tests := []struct {
		method, path, request, status, response string
	}{
		{"post", b + "/credential-definition", "DefinitionRequest", "201", "DefinitionResponse"},
		{"get", b + "/credential-definition/{credentialDefinitionId}", "", "200", "DefinitionResponse"},
		{"put", b + "/credential-definition/{credentialDefinitionId}", "DefinitionRequest", "200", "DefinitionResponse"},
		{"delete", b + "/credential-definition/{credentialDefinitionId}", "", "204", ""},
		{"get", b + "/credential-definitions", "", "200", "DefinitionListResponse"},
		{"post", b + "/presentation-definition", "PresentationDefinitionRequest", "201", "PresentationDefinitionResponse"},
		{"get", b + "/presentation-definition/{presentationDefinitionId}", "", "200", "PresentationDefinitionResponse"},
		{"put", b + "/presentation-definition/{presentationDefinitionId}", "PresentationDefinitionRequest", "200", "PresentationDefinitionResponse"},
		{"delete", b + "/presentation-definition/{presentationDefinitionId}", "", "204", ""},
		{"get", b + "/presentation-definitions", "", "200", "PresentationDefinitionListResponse"},
		{"post", b + "/credential/issue", "IssueRequest", "200", "HistoryResponse"},
		{"put", b + "/individual/{individualId}", "IndividualRequest", "200", "IndividualResponse"},
		{"get", b + "/individual/{individualId}", "", "200", "IndividualResponse"},
		{"delete", b + "/individual/{individualId}", "", "204", ""},
		{"get", b + "/credential/history", "", "200", "HistoryListResponse"},
		{"get", b + "/credential/history/{credentialExchangeId}", "", "200", "HistoryResponse"},
		{"delete", b + "/credential/history/{credentialExchangeId}", "", "204", ""},
		{"put", b + "/credential/history/{credentialExchangeId}", "DeferredIssueRequest", "200", "HistoryResponse"},
		{"get", b + "/credential/history/{credentialExchangeId}/offer-qr", "", "200", ""},
		{"put", b + "/credential/history/{credentialExchangeId}/revocation-status", "RevocationStatusRequest", "200", "HistoryResponse"},
	}
	for _, tt := range tests {
		node, ok := doc.Paths[tt.path][tt.method]
		if !ok {
			t.Errorf("%s %s not documented", tt.method, tt.path)
			continue
		}
		var op operation
		if err := node.Decode(&op); err != nil {
			t.Fatal(err)
		}
		if tt.request != "" {
			if ref := op.RequestBody.Content["application/json"].Schema.Ref; ref != "#/components/schemas/"+tt.request {
				t.Errorf("%s %s request schema %q, want %s", tt.method, tt.path, ref, tt.request)
			}
		}
		resp, ok := op.Responses[tt.status]
		if !ok {
			t.Errorf("%s %s has no %s response", tt.method, tt.path, tt.status)
			continue
		}
		if tt.response != "" {
			if ref := resp.Content["application/json"].Schema.Ref; ref != "#/components/schemas/"+tt.response {
				t.Errorf("%s %s %s schema %q, want %s", tt.method, tt.path, tt.status, ref, tt.response)
			}
		}
		if _, ok := op.Responses["401"]; !ok {
			t.Errorf("%s %s does not document 401", tt.method, tt.path)
		}
	}
}
