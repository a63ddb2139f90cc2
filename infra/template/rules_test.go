package template

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEventRules(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []EventRule
		wantErr string
	}{
		{
			name: "rule on a bus, Api events ignored",
			body: `  Bus: {Type: AWS::Events::EventBus, Properties: {Name: b}}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: Api, Properties: {Path: /x, Method: GET}}
        Done:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {detail-type: [A, B]}
`,
			want: []EventRule{{FunctionLogicalID: "F", EventName: "Done", EventBus: "${Bus}",
				Pattern: map[string]interface{}{"detail-type": []interface{}{"A", "B"}}}},
		},
		{
			name: "rule without pattern",
			body: `  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Done: {Type: EventBridgeRule, Properties: {EventBusName: b}}
`,
			wantErr: "Pattern",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte("Resources:\n"+tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := EventRules(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("EventRules() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("EventRules() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEventRulesOfTemplate(t *testing.T) {
	rules, err := EventRules(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].FunctionLogicalID != "DeferredIssueFunction" || rules[0].EventBus != "${EventBus}" {
		t.Fatalf("EventRules(template.yaml) = %+v, want one rule of DeferredIssueFunction on EventBus", rules)
	}
	if got := strs(rules[0].Pattern["detail-type"]); !sameSet(got, []string{"DeferredCredentialReady", "DeferredCredentialDenied"}) {
		t.Errorf("detail-type %v", got)
	}
}
