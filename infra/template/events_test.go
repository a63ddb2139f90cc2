package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const eventsDir = "../events"

// sampleEvent is the part of an infra/events file this test reads: an API Gateway proxy event v1 or an
// EventBridge event.
type sampleEvent struct {
	Resource       string            `json:"resource"`
	Path           string            `json:"path"`
	HTTPMethod     string            `json:"httpMethod"`
	PathParameters map[string]string `json:"pathParameters"`
	RequestContext struct {
		RequestID    string `json:"requestId"`
		Stage        string `json:"stage"`
		ResourcePath string `json:"resourcePath"`
		HTTPMethod   string `json:"httpMethod"`
	} `json:"requestContext"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
	// Records are a DynamoDB stream batch (the publisher's event), each as decoded JSON.
	Records []map[string]any `json:"Records"`
}

// pathParamRe matches a resource path parameter, {name} or greedy {name+}.
var pathParamRe = regexp.MustCompile(`\{(\w+)\+?\}`)

// functionOfFile maps an event file name to the function whose dir is its longest prefix ("<dir>.json" or
// "<dir>-<variant>.json"), as infra/events/README.md explains.
func functionOfFile(name string, targets map[string]string) string {
	base := strings.TrimSuffix(name, ".json")
	best, bestDir := "", ""
	for id, dir := range targets {
		if (base == dir || strings.HasPrefix(base, dir+"-")) && len(dir) > len(bestDir) {
			best, bestDir = id, dir
		}
	}
	return best
}

// TestSampleEvents checks that every sample event is one the template really routes to the function it is
// named after, and that every route and every function has one.
func TestSampleEvents(t *testing.T) {
	f := loadFixture(t, templateFile)
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events in %s: %v", eventsDir, err)
	}
	routeOwner := map[string]string{}
	for _, r := range f.routes {
		routeOwner[r.Method+" "+r.Path] = r.FunctionLogicalID
	}
	covered := map[string]bool{}
	hasDefault := map[string]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			id := functionOfFile(name, f.targets)
			if id == "" {
				t.Fatalf("%s is named after no function dir", name)
			}
			if name == f.targets[id]+".json" {
				hasDefault[id] = true
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev sampleEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if len(ev.Records) > 0 {
				// A DynamoDB stream batch: the function must read a table's stream, and every record must pass the
				// mapping's filter (Lambda delivers no other).
				sources, err := StreamSources(f.path)
				if err != nil {
					t.Fatal(err)
				}
				var mine []StreamSource
				for _, s := range sources {
					if s.FunctionLogicalID == id {
						mine = append(mine, s)
					}
				}
				if len(mine) == 0 || f.design.streams[id] == "" {
					t.Fatalf("%s reads no table's stream", id)
				}
				for i, r := range ev.Records {
					if r["eventSource"] != "aws:dynamodb" {
						t.Errorf("record %d: eventSource %v, want aws:dynamodb", i, r["eventSource"])
					}
					pass := len(mine[0].Filters) == 0
					for _, p := range mine[0].Filters {
						pass = pass || FilterMatches(p, r)
					}
					if !pass {
						t.Errorf("record %d does not pass %s's filter: Lambda would not deliver it", i, mine[0].Name)
					}
				}
				return
			}
			if ev.DetailType != "" {
				if !contains(f.design.detailTypes[id], ev.DetailType) {
					t.Errorf("detail-type %q: %s's rule receives %v", ev.DetailType, id, f.design.detailTypes[id])
				}
				var detail struct {
					CredentialExchangeID string `json:"credentialExchangeId"`
				}
				if err := json.Unmarshal(ev.Detail, &detail); err != nil || detail.CredentialExchangeID == "" {
					t.Errorf("detail has no credentialExchangeId (%v)", err)
				}
				return
			}
			key := ev.HTTPMethod + " " + ev.Resource
			owner, ok := routeOwner[key]
			switch {
			case !ok:
				t.Fatalf("%s is not a route of the template", key)
			case owner != id:
				t.Errorf("%s is served by %s, the file is named after %s", key, owner, id)
			}
			covered[key] = true
			if ev.RequestContext.RequestID == "" || ev.RequestContext.Stage == "" {
				t.Error("requestContext needs requestId and stage")
			}
			if ev.RequestContext.ResourcePath != ev.Resource || ev.RequestContext.HTTPMethod != ev.HTTPMethod {
				t.Errorf("requestContext says %s %s, the event %s", ev.RequestContext.HTTPMethod, ev.RequestContext.ResourcePath, key)
			}
			var names []string
			for _, m := range pathParamRe.FindAllStringSubmatch(ev.Resource, -1) {
				names = append(names, m[1])
			}
			var got []string
			for k := range ev.PathParameters {
				got = append(got, k)
			}
			if !sameSet(got, names) {
				t.Errorf("pathParameters %v, resource %s has %v", got, ev.Resource, names)
			}
			want := pathParamRe.ReplaceAllStringFunc(ev.Resource, func(m string) string {
				return ev.PathParameters[pathParamRe.FindStringSubmatch(m)[1]]
			})
			if ev.Path != want {
				t.Errorf("path %q, want %q from resource and pathParameters", ev.Path, want)
			}
		})
	}
	var missing []string
	for key := range routeOwner {
		if !covered[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, key := range missing {
		t.Errorf("route %s has no sample event", key)
	}
	for _, id := range f.functionIDs() {
		if !hasDefault[id] {
			t.Errorf("%s has no %s.json", id, f.targets[id])
		}
	}
}

func TestFunctionOfFile(t *testing.T) {
	targets := map[string]string{"CredentialFunction": "credential", "DeferredCredentialFunction": "deferred-credential", "DeferredIssueFunction": "deferred-issue"}
	tests := []struct{ file, want string }{
		{"credential.json", "CredentialFunction"},
		{"credential-nonce.json", "CredentialFunction"},
		{"deferred-credential.json", "DeferredCredentialFunction"},
		{"deferred-issue-eventbridge.json", "DeferredIssueFunction"},
		{"credentials.json", ""},
		{"deferred.json", ""},
	}
	for _, tt := range tests {
		if got := functionOfFile(tt.file, targets); got != tt.want {
			t.Errorf("functionOfFile(%q) = %q, want %q", tt.file, got, tt.want)
		}
	}
}
