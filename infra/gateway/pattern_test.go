package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestPatternMatches(t *testing.T) {
	ev := events.CloudWatchEvent{Version: "0", ID: "1", DetailType: "DeferredCredentialReady", Source: "com.example.hr",
		AccountID: "1", Region: "us-east-1", Detail: json.RawMessage(`{"credentialExchangeId":"x-1"}`)}
	tests := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"detail-type in list", `{"detail-type":["DeferredCredentialReady","DeferredCredentialDenied"]}`, true},
		{"detail-type not in list", `{"detail-type":["DeferredCredentialDenied"]}`, false},
		{"source", `{"source":["com.example.hr"]}`, true},
		{"source mismatch", `{"source":["sdjwt-issuer"]}`, false},
		{"two fields both match", `{"source":["com.example.hr"],"detail-type":["DeferredCredentialReady"]}`, true},
		{"two fields one fails", `{"source":["other"],"detail-type":["DeferredCredentialReady"]}`, false},
		{"exact, not case-insensitive", `{"detail-type":["deferredcredentialready"]}`, false},
		{"exact, not a prefix", `{"source":["com.example"]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raw map[string]any
			if err := json.Unmarshal([]byte(tc.pattern), &raw); err != nil {
				t.Fatal(err)
			}
			p, err := compilePattern(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.matches(ev); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCompilePatternRefusesTheRest feeds the pattern examples of EventBridge's documentation that go beyond exact
// envelope values: each is refused with a message naming the field, never evaluated half-way.
func TestCompilePatternRefusesTheRest(t *testing.T) {
	tests := []struct {
		pattern, wantErr string
	}{
		{`{}`, "empty"},
		{`{"detail-type":[]}`, "detail-type: must be a non-empty list"},
		{`{"detail-type":"A"}`, "detail-type: must be a non-empty list"},
		{`{"source":[{"prefix":"com."}]}`, "source: the local event bus matches only exact string values"},
		{`{"source":[{"anything-but":"aws.ec2"}]}`, "source: the local event bus matches only exact string values"},
		{`{"source":[{"wildcard":"com.*"}]}`, "source: the local event bus matches only exact string values"},
		{`{"source":[null]}`, "source: the local event bus matches only exact string values"},
		{`{"detail":{"state":["running"]}}`, "detail: the local event bus matches only the fields detail-type and source"},
		{`{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, "detail: the local event bus matches only the fields"},
		{`{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, "resources: the local event bus matches only the fields"},
		{`{"account":["111122223333"]}`, "account: the local event bus matches only the fields"},
	}
	for _, tc := range tests {
		var raw map[string]any
		if err := json.Unmarshal([]byte(tc.pattern), &raw); err != nil {
			t.Fatal(err)
		}
		_, err := compilePattern(raw)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("compilePattern(%s) = %v, want an error containing %q", tc.pattern, err, tc.wantErr)
		}
	}
}
