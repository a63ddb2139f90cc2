package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/template"
)

const templateFile = "../../template.yaml"

var paramRe = regexp.MustCompile(`\{([^}/]+?)(\+?)\}`)

// concretePath fills a resource path's parameters with sample values, returning the path and the parameters a
// proxy event must carry.
func concretePath(resource string) (string, map[string]string) {
	params := map[string]string{}
	path := paramRe.ReplaceAllStringFunc(resource, func(m string) string {
		sub := paramRe.FindStringSubmatch(m)
		v := "sample-" + strings.ToLower(sub[1])
		if sub[2] == "+" {
			v += "/deeper"
		}
		params[sub[1]] = v
		return v
	})
	if len(params) == 0 {
		params = nil
	}
	return path, params
}

// TestTemplateRoutes proves that every route of template.yaml reaches the function the template maps it to, with
// the resource and path parameters API Gateway would send; that every function of the template is reachable
// through a route or an EventBridge rule; and that the gateway serves no route the template lacks.
func TestTemplateRoutes(t *testing.T) {
	routes, err := template.Routes(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := template.EventRules(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) == 0 || len(rules) == 0 {
		t.Fatalf("%d routes and %d rules in the template", len(routes), len(rules))
	}
	functions := testkit.TemplateFunctions(t, templateFile)
	fakes := map[string]*fakeFunction{}
	handlers := map[string]lambda.Handler{}
	for _, id := range functions {
		fakes[id] = &fakeFunction{}
		handlers[id] = fakes[id]
	}
	g := New(routes, handlers, WithLogger(quietLogger()), WithEventRules(rules))
	if err := g.Err(); err != nil {
		t.Fatalf("the gateway leaves template routes or rules out: %v", err)
	}
	if missing := g.MissingFunctions(); len(missing) > 0 {
		t.Fatalf("routes or rules name functions the template lacks: %v", missing)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	reached := map[string]bool{}
	for _, r := range routes {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			path, params := concretePath(r.Path)
			before := map[string]int{}
			for id, f := range fakes {
				before[id] = f.count()
			}
			req, err := http.NewRequest(r.Method, srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for id, f := range fakes {
				want := before[id]
				if id == r.FunctionLogicalID {
					want++
				}
				if f.count() != want {
					t.Errorf("%s invoked %d times, want %d", id, f.count()-before[id], want-before[id])
				}
			}
			ev := fakes[r.FunctionLogicalID].lastEvent(t)
			if ev.Resource != r.Path || ev.HTTPMethod != r.Method || ev.Path != path {
				t.Errorf("event %s %s (%s), want %s %s (%s)", ev.HTTPMethod, ev.Resource, ev.Path, r.Method, r.Path, path)
			}
			if len(ev.PathParameters) != len(params) {
				t.Errorf("pathParameters %v, want %v", ev.PathParameters, params)
			}
			for k, v := range params {
				if ev.PathParameters[k] != v {
					t.Errorf("pathParameters %v, want %v", ev.PathParameters, params)
				}
			}
			reached[r.FunctionLogicalID] = true
		})
	}
	for _, rule := range rules {
		reached[rule.FunctionLogicalID] = true
	}
	sources, err := template.StreamSources(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sources {
		reached[s.FunctionLogicalID] = true // played by the gateway's stream polling (streams_test.go)
	}
	for _, id := range functions {
		if !reached[id] {
			t.Errorf("function %s is reachable through no route, no rule and no stream", id)
		}
	}

	// Vice versa: the gateway serves exactly the template's routes.
	key := func(r template.Route) string { return r.Method + " " + r.Path + " -> " + r.FunctionLogicalID }
	var want, got []string
	for _, r := range routes {
		want = append(want, key(r))
	}
	for _, r := range g.Routes() {
		got = append(got, key(r))
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gateway routes differ from the template:\n got %v\nwant %v", got, want)
	}
}

// TestTemplateEventRules checks that the template's deferred completion rule reaches DeferredIssueFunction for
// both detail types, and nothing else.
func TestTemplateEventRules(t *testing.T) {
	raw, err := template.EventRules(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := template.ResolveParameters(raw, nil); err == nil {
		t.Error("the rules resolve without CompletionEventSource")
	}
	rules, err := template.ResolveParameters(raw, map[string]string{"CompletionEventSource": "com.example.hr"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		detailType, source string
		want               []string
	}{
		{"DeferredCredentialReady", "com.example.hr", []string{"DeferredIssueFunction"}},
		{"DeferredCredentialDenied", "com.example.hr", []string{"DeferredIssueFunction"}},
		{"credential.offer_sent", "com.example.hr", nil},
		{"credential.credential_issued", "com.example.hr", nil},
		// docs/security.md, "Forged completion event": another source, even the issuer's own, completes nothing.
		{"DeferredCredentialReady", "sdjwt-issuer", nil},
		{"DeferredCredentialDenied", "com.example.hr.evil", nil},
		{"DeferredCredentialReady", "COM.EXAMPLE.HR", nil},
	}
	for _, tc := range tests {
		t.Run(tc.detailType+" from "+tc.source, func(t *testing.T) {
			ev := events.CloudWatchEvent{Version: "0", ID: "1", DetailType: tc.detailType, Source: tc.source,
				AccountID: "1", Region: "us-east-1", Detail: json.RawMessage(`{"credentialExchangeId":"x"}`)}
			var got []string
			for _, r := range rules {
				p, err := compilePattern(r.Pattern)
				if err != nil {
					t.Fatalf("rule %s: %v", r.EventName, err)
				}
				if p.matches(ev) {
					got = append(got, r.FunctionLogicalID)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				b, _ := json.Marshal(rules)
				t.Errorf("targets %v, want %v (rules %s)", got, tc.want, b)
			}
		})
	}
}
