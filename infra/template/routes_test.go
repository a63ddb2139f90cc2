package template

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	const header = "AWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::Serverless-2016-10-31\nResources:\n" +
		"  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: dev\n"
	tests := []struct {
		name    string
		body    string
		want    []Route
		wantErr string
	}{
		{
			name: "sorted by path then method, non-Api events ignored, method upper-cased",
			body: `  B:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Put:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/items/{id}", Method: put}
        Get:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/items/{id}", Method: GET}
        Rule:
          Type: EventBridgeRule
          Properties:
            Pattern: {detail-type: [X]}
  A:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Root:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /.well-known/x, Method: GET}
`,
			want: []Route{
				{Method: "GET", Path: "/.well-known/x", FunctionLogicalID: "A"},
				{Method: "GET", Path: "/items/{id}", FunctionLogicalID: "B"},
				{Method: "PUT", Path: "/items/{id}", FunctionLogicalID: "B"},
			},
		},
		{
			name: "no functions, no routes",
			body: "",
			want: nil,
		},
		{
			name: "one route on two functions",
			body: `  A:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Api, Properties: {Path: /x, Method: POST}}
  B:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Api, Properties: {Path: /x, Method: post}}
`,
			wantErr: "POST /x is mapped twice",
		},
		{
			name: "path missing",
			body: `  A:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Api, Properties: {Method: GET}}
`,
			wantErr: "must both be set",
		},
		{
			name: "unknown Api property",
			body: `  A:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Api, Properties: {Path: /x, Method: GET, Wrong: 1}}
`,
			wantErr: "not a valid Api event",
		},
		{
			name:    "not YAML",
			body:    "  A: [\n",
			wantErr: "parse template",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(header+tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Routes(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Routes() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Routes() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Routes() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoutesMissingFile(t *testing.T) {
	if _, err := Routes(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Fatal("Routes() of a missing file: want an error")
	}
}

// TestRoutesOfTemplate pins what the local gateway gets from the real template: every route of docs/design.md,
// each once, admin routes under the admin base path.
func TestRoutesOfTemplate(t *testing.T) {
	routes, err := Routes(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDesign(designFile)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(routes, d.routes) {
		t.Errorf("Routes(template.yaml) =\n%v\ndocs/design.md:\n%v", routes, d.routes)
	}
	for _, r := range routes {
		admin := strings.HasPrefix(r.Path, "/v2/config/digital-wallet/openid/sdjwt/")
		switch r.FunctionLogicalID {
		case "DefinitionsFunction", "IssueFunction", "StatusFunction", "DeferredIssueFunction":
			if !admin {
				t.Errorf("%s %s of admin function %s is outside the admin base path", r.Method, r.Path, r.FunctionLogicalID)
			}
		default:
			if admin {
				t.Errorf("%s %s of wallet function %s is under the admin base path", r.Method, r.Path, r.FunctionLogicalID)
			}
		}
	}
}

func TestParseDesign(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    design
		wantErr bool
	}{
		{
			name: "methods, admin base, comments and event rules",
			doc: "Admin base path `A` = `/v2/a`.\n\n| Logical ID | dir | routes |\n|---|---|---|\n" +
				"| XFunction | functions/x | POST A/things; GET, DELETE A/things/{id} (a comment); EventBridge rule: detail-type One, Two |\n" +
				"| YFunction | functions/y | GET /.well-known/y |\n" +
				"| ZFunction | functions/z | DynamoDB stream of ZTable (ZStream: every write) |\n",
			want: design{
				dirs: map[string]string{"XFunction": "x", "YFunction": "y", "ZFunction": "z"},
				routes: []Route{
					{"GET", "/.well-known/y", "YFunction"},
					{"POST", "/v2/a/things", "XFunction"},
					{"DELETE", "/v2/a/things/{id}", "XFunction"},
					{"GET", "/v2/a/things/{id}", "XFunction"},
				},
				detailTypes: map[string][]string{"XFunction": {"One", "Two"}},
				streams:     map[string]string{"ZFunction": "ZTable"},
			},
		},
		{name: "no admin base", doc: "| XFunction | functions/x | GET /x |\n", wantErr: true},
		{name: "unreadable route", doc: "Admin base path `A` = `/a`\n| XFunction | functions/x | FETCH /x |\n", wantErr: true},
		{name: "no table", doc: "Admin base path `A` = `/a`\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "design.md")
			if err := os.WriteFile(path, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := parseDesign(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseDesign() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseDesign() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
