package apigw

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestEveryResponseHasNosniff (docs/security.md, "Response headers"): every answer of a router, success or any
// error (unknown route, wrong method, missing key, too large, handler error, panic), carries
// X-Content-Type-Options: nosniff, so no browser sniffs a JSON error into HTML.
func TestEveryResponseHasNosniff(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		var logs bytes.Buffer
		r := newTestRouter(t, &logs)
		WithHSTS(hsts)(r)
		for _, req := range securityRequests() {
			resp, err := r.ServeEvent(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Headers["X-Content-Type-Options"]; got != "nosniff" {
				t.Errorf("%s %s (%d): X-Content-Type-Options = %q, want nosniff", req.HTTPMethod, req.Resource, resp.StatusCode, got)
			}
			got := resp.Headers["Strict-Transport-Security"]
			if hsts && !strings.HasPrefix(got, "max-age=") {
				t.Errorf("%s %s (%d): https issuer without HSTS (%q)", req.HTTPMethod, req.Resource, resp.StatusCode, got)
			}
			if !hsts && got != "" {
				t.Errorf("%s %s: HSTS %q on an http issuer", req.HTTPMethod, req.Resource, got)
			}
		}
	}
}

func securityRequests() []Request {
	return []Request{
		{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(), Body: `{"name":"a"}`},
		{HTTPMethod: "POST", Resource: "/v2/things", Body: `{}`},
		{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(), Body: strings.Repeat("x", MaxBodyBytes+1)},
		{HTTPMethod: "DELETE", Resource: "/v2/things"},
		{HTTPMethod: "GET", Resource: "/nowhere", Path: "/nowhere"},
		{HTTPMethod: "GET", Resource: "/boom"},
		{HTTPMethod: "GET", Resource: "/fail"},
		{HTTPMethod: "GET", Resource: "/png"},
	}
}

// TestErrorsDoNotEchoThePath (docs/security.md, "Reflected request path"): an unknown route or a wrong method
// answers without the path or method the client sent, whatever they contain.
func TestErrorsDoNotEchoThePath(t *testing.T) {
	var logs bytes.Buffer
	r := newTestRouter(t, &logs)
	const marker = "<script>alert(1)</script>"
	for _, req := range []Request{
		{HTTPMethod: "GET", Resource: "/" + marker, Path: "/" + marker},
		{HTTPMethod: "GET", Resource: "/{proxy+}", Path: "/v2/" + marker},
		{HTTPMethod: marker, Resource: "/v2/things", Path: "/v2/things"},
	} {
		resp, err := r.ServeEvent(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%q: status %d", req.Path, resp.StatusCode)
		}
		if strings.Contains(resp.Body, "<script") || strings.Contains(resp.Body, "alert(") || strings.Contains(resp.Body, `\u003cscript`) {
			t.Errorf("%q: the error echoes the request: %s", req.Path, resp.Body)
		}
	}
}
