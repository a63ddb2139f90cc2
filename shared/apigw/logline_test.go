package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/awscalls"
)

// Values that must never reach the request log line: they stand for claims, PINs and codes in bodies.
const (
	requestSecret  = "req-body-Qw3rTy-claim-value"
	responseSecret = "resp-body-Zx9Vb-claim-value"
	queryPin       = "q-pin-Lk7Jh"
)

// TestRequestLogLine checks the one log line per request: exactly the fields function, request_id, route,
// status, latency_ms and aws_calls (plus error for refusals), with the values of this request, and nothing of
// the request or response body, the query string or the API key, whatever the outcome.
func TestRequestLogLine(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		resource  string
		auth      bool
		calls     int
		status    int
		wantError string
	}{
		{"ok with AWS calls", "POST", "/v2/items", true, 3, 200, ""},
		{"ok without AWS calls", "POST", "/v2/items", true, 0, 200, ""},
		{"handler refusal", "POST", "/v2/refuse", true, 2, 400, "400 invalid_request"},
		{"handler failure", "POST", "/v2/fail", true, 1, 500, "500 server_error"},
		{"handler panic", "POST", "/v2/panic", true, 1, 500, "500 server_error"},
		{"no API key", "POST", "/v2/items", false, 0, 401, "401 invalid_client"},
		{"unknown route", "POST", "/v2/nowhere", true, 0, 404, "404 not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			ticks := []time.Time{start, start.Add(1500 * time.Microsecond)}
			clock := func() time.Time {
				now := ticks[0]
				if len(ticks) > 1 {
					ticks = ticks[1:]
				}
				return now
			}
			keys, err := NewAPIKeys(HashAPIKey(testKey))
			if err != nil {
				t.Fatal(err)
			}
			r := NewRouter("items", WithAPIKeys(keys), WithClock(clock),
				WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			work := func(ctx context.Context) {
				for i := 0; i < tc.calls; i++ {
					awscalls.FromContext(ctx).Add("DynamoDB.GetItem")
				}
			}
			r.Handle("POST", "/v2/items", Admin, func(ctx context.Context, req *Request) (Response, error) {
				work(ctx)
				return JSON(http.StatusOK, map[string]string{"echo": responseSecret})
			})
			r.Handle("POST", "/v2/refuse", Admin, func(ctx context.Context, req *Request) (Response, error) {
				work(ctx)
				return Response{}, BadRequest("field %q is wrong; send a string", "name")
			})
			r.Handle("POST", "/v2/fail", Admin, func(ctx context.Context, req *Request) (Response, error) {
				work(ctx)
				return Response{}, errors.New("dynamodb: throttled")
			})
			r.Handle("POST", "/v2/panic", Admin, func(ctx context.Context, req *Request) (Response, error) {
				work(ctx)
				panic("broken")
			})
			req := Request{HTTPMethod: tc.method, Resource: tc.resource, Path: tc.resource,
				Body:                  `{"name":"` + requestSecret + `"}`,
				QueryStringParameters: map[string]string{"pin": queryPin},
				Headers:               map[string]string{"Content-Type": "application/json"}}
			req.RequestContext.RequestID = "req-7f3a"
			if tc.auth {
				req.Headers["Authorization"] = "ApiKey " + testKey
			}
			resp, err := r.ServeEvent(context.Background(), req)
			if err != nil || resp.StatusCode != tc.status {
				t.Fatalf("status %d (err %v), want %d", resp.StatusCode, err, tc.status)
			}

			out := strings.TrimSpace(logs.String())
			if strings.Count(out, "\n") != 0 {
				t.Fatalf("want exactly one log line, got:\n%s", out)
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(out), &line); err != nil {
				t.Fatalf("log line is not JSON: %v\n%s", err, out)
			}
			want := map[string]any{"msg": "request", "function": "items", "request_id": "req-7f3a",
				"route": tc.method + " " + tc.resource, "status": float64(tc.status), "latency_ms": 1.5,
				"aws_calls": float64(tc.calls)}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("log %s = %#v, want %#v", k, line[k], v)
				}
			}
			if tc.wantError != "" && line["error"] != tc.wantError {
				t.Errorf("log error = %#v, want %q", line["error"], tc.wantError)
			}
			allowed := map[string]bool{"time": true, "level": true, "error": tc.wantError != "",
				"cause": tc.status >= 500}
			for k := range want {
				allowed[k] = true
			}
			var extra []string
			for k := range line {
				if !allowed[k] {
					extra = append(extra, k)
				}
			}
			sort.Strings(extra)
			if len(extra) > 0 {
				t.Errorf("log line has unexpected fields %v: %s", extra, out)
			}
			for _, secret := range []string{requestSecret, responseSecret, queryPin, testKey} {
				if strings.Contains(out, secret) {
					t.Errorf("log line contains %q: %s", secret, out)
				}
			}
		})
	}
}
