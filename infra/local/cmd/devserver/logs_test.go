package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// requestLogProblems checks the dev server's log (stderr): every request line of the handlers carries the
// request id, route, status, latency and AWS call count; each successful (200) line of wantRoute counts at least
// one AWS call, and there is one; and
// none of secrets (claim values, offer links, keys) appears anywhere in it. It returns what is wrong.
func requestLogProblems(stderr, wantRoute string, secrets ...string) []string {
	var problems []string
	found := false
	for _, raw := range strings.Split(stderr, "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(strings.TrimSpace(raw)), &line) != nil || line["msg"] != "request" {
			continue
		}
		id, _ := line["request_id"].(string)
		route, _ := line["route"].(string)
		status, hasStatus := line["status"].(float64)
		_, hasLatency := line["latency_ms"].(float64)
		calls, hasCalls := line["aws_calls"].(float64)
		if id == "" || route == "" || !hasStatus || !hasLatency || !hasCalls {
			problems = append(problems, "request log line lacks request_id, route, status, latency_ms or aws_calls: "+raw)
		}
		if route == wantRoute && status == 200 {
			found = true
			if calls < 1 {
				problems = append(problems, fmt.Sprintf("request log line of %s counts no AWS calls: %s", wantRoute, raw))
			}
		}
	}
	if !found {
		problems = append(problems, "no successful request log line for "+wantRoute)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(stderr, s) {
			problems = append(problems, fmt.Sprintf("the log contains %q", s))
		}
	}
	return problems
}

func TestRequestLogProblems(t *testing.T) {
	good := `{"msg":"request","request_id":"r1","route":"POST /x","status":200,"latency_ms":1.2,"aws_calls":2}` + "\n" +
		`{"msg":"local stack started"}` + "\n"
	tests := []struct {
		name    string
		log     string
		secrets []string
		want    string // substring of the one problem; empty: none
	}{
		{"complete", good, []string{"Mustermann"}, ""},
		{"secret in log", good + `{"msg":"x","detail":"Mustermann"}`, []string{"Mustermann"}, `contains "Mustermann"`},
		{"no AWS calls counted", strings.Replace(good, `"aws_calls":2`, `"aws_calls":0`, 1), nil, "counts no AWS calls"},
		{"field missing", strings.Replace(good, `"request_id":"r1",`, "", 1), nil, "lacks request_id"},
		{"route never logged", strings.Replace(good, "POST /x", "GET /y", 1), nil, "no successful request log line for POST /x"},
		{"only refusals of the route", strings.Replace(good, `"status":200`, `"status":401`, 1), nil, "no successful request log line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := requestLogProblems(tc.log, "POST /x", tc.secrets...)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("problems %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("problems %q, want one with %q", got, tc.want)
			}
		})
	}
}
