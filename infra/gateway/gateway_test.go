package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sdjwt-issuer/issuer/infra/template"
)

// fakeFunction is a Lambda handler that records its payloads and answers with respond.
type fakeFunction struct {
	mu      sync.Mutex
	calls   [][]byte
	ctxs    []context.Context
	respond func(ctx context.Context, payload []byte) ([]byte, error)
}

func (f *fakeFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, append([]byte(nil), payload...))
	f.ctxs = append(f.ctxs, ctx)
	f.mu.Unlock()
	if f.respond == nil {
		return proxyResponse(200, `{"ok":true}`)
	}
	return f.respond(ctx, payload)
}

func (f *fakeFunction) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeFunction) lastEvent(t *testing.T) proxyEvent {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the function was not invoked")
	}
	var ev proxyEvent
	if err := json.Unmarshal(f.calls[len(f.calls)-1], &ev); err != nil {
		t.Fatalf("the payload is not a proxy event: %v", err)
	}
	return ev
}

func proxyResponse(status int, body string) ([]byte, error) {
	return json.Marshal(events.APIGatewayProxyResponse{StatusCode: status, Body: body,
		Headers: map[string]string{"Content-Type": "application/json"}})
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var testRoutes = []template.Route{
	{Method: "GET", Path: "/.well-known/openid-credential-issuer", FunctionLogicalID: "Metadata"},
	{Method: "GET", Path: "/items", FunctionLogicalID: "Items"},
	{Method: "POST", Path: "/items", FunctionLogicalID: "Items"},
	{Method: "GET", Path: "/items/{itemId}", FunctionLogicalID: "Items"},
	{Method: "GET", Path: "/items/special", FunctionLogicalID: "Special"},
	{Method: "GET", Path: "/items/{itemId}/parts/{partId}", FunctionLogicalID: "Items"},
	{Method: "ANY", Path: "/files/{proxy+}", FunctionLogicalID: "Files"},
}

func TestRequestConversion(t *testing.T) {
	big := bytes.Repeat([]byte{0xff, 0x00, 0x10}, 100)
	tests := []struct {
		name        string
		method      string
		target      string
		headers     [][2]string
		body        []byte
		wantFn      string
		wantRes     string
		wantPath    string
		wantParams  map[string]string
		wantQuery   map[string]string
		wantMQuery  map[string][]string
		wantHeaders map[string]string
		wantMHeader map[string][]string
		wantBody    *string
		wantB64     bool
	}{
		{name: "literal route, no query, no body", method: "GET", target: "/.well-known/openid-credential-issuer",
			wantFn: "Metadata", wantRes: "/.well-known/openid-credential-issuer", wantPath: "/.well-known/openid-credential-issuer"},
		{name: "query single and multi values, decoded", method: "GET", target: "/items?limit=10&status=a&status=b%20c&cursor=x%2By",
			wantFn: "Items", wantRes: "/items", wantPath: "/items",
			wantQuery:  map[string]string{"limit": "10", "status": "b c", "cursor": "x+y"},
			wantMQuery: map[string][]string{"limit": {"10"}, "status": {"a", "b c"}, "cursor": {"x+y"}}},
		{name: "headers single (last wins) and multi", method: "GET", target: "/items",
			headers: [][2]string{{"Accept", "application/json"}, {"X-Custom", "one"}, {"X-Custom", "two"}, {"Authorization", "ApiKey k"}},
			wantFn:  "Items", wantRes: "/items", wantPath: "/items",
			wantHeaders: map[string]string{"Accept": "application/json", "X-Custom": "two", "Authorization": "ApiKey k", "X-Forwarded-Proto": "http"},
			wantMHeader: map[string][]string{"X-Custom": {"one", "two"}}},
		{name: "path parameter", method: "GET", target: "/items/abc-123", wantFn: "Items", wantRes: "/items/{itemId}",
			wantPath: "/items/abc-123", wantParams: map[string]string{"itemId": "abc-123"}},
		{name: "path parameter stays encoded", method: "GET", target: "/items/a%20b", wantFn: "Items", wantRes: "/items/{itemId}",
			wantPath: "/items/a b", wantParams: map[string]string{"itemId": "a%20b"}},
		{name: "trailing slash", method: "GET", target: "/items/abc/", wantFn: "Items", wantRes: "/items/{itemId}",
			wantPath: "/items/abc/", wantParams: map[string]string{"itemId": "abc"}},
		{name: "literal beats parameter", method: "GET", target: "/items/special", wantFn: "Special", wantRes: "/items/special",
			wantPath: "/items/special"},
		{name: "two parameters", method: "GET", target: "/items/i1/parts/p2", wantFn: "Items",
			wantRes: "/items/{itemId}/parts/{partId}", wantPath: "/items/i1/parts/p2",
			wantParams: map[string]string{"itemId": "i1", "partId": "p2"}},
		{name: "greedy proxy+ with ANY", method: "DELETE", target: "/files/a/b/c.txt", wantFn: "Files", wantRes: "/files/{proxy+}",
			wantPath: "/files/a/b/c.txt", wantParams: map[string]string{"proxy": "a/b/c.txt"}},
		{name: "JSON body as text", method: "POST", target: "/items", headers: [][2]string{{"Content-Type", "application/json"}},
			body: []byte(`{"label":"x"}`), wantFn: "Items", wantRes: "/items", wantPath: "/items",
			wantBody: ptr(`{"label":"x"}`)},
		{name: "form body as text", method: "POST", target: "/items", headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
			body: []byte(`a=1&b=2`), wantFn: "Items", wantRes: "/items", wantPath: "/items", wantBody: ptr(`a=1&b=2`)},
		{name: "binary body as base64", method: "POST", target: "/items", headers: [][2]string{{"Content-Type", "application/octet-stream"}},
			body: big, wantFn: "Items", wantRes: "/items", wantPath: "/items",
			wantBody: ptr(base64.StdEncoding.EncodeToString(big)), wantB64: true},
		{name: "image body as base64", method: "POST", target: "/items", headers: [][2]string{{"Content-Type", "image/png"}},
			body: []byte("PNGtext"), wantFn: "Items", wantRes: "/items", wantPath: "/items",
			wantBody: ptr(base64.StdEncoding.EncodeToString([]byte("PNGtext"))), wantB64: true},
		{name: "no content type, invalid UTF-8 as base64", method: "POST", target: "/items",
			body: []byte{0xc3, 0x28}, wantFn: "Items", wantRes: "/items", wantPath: "/items",
			wantBody: ptr(base64.StdEncoding.EncodeToString([]byte{0xc3, 0x28})), wantB64: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fns := map[string]*fakeFunction{"Metadata": {}, "Items": {}, "Special": {}, "Files": {}}
			handlers := map[string]lambda.Handler{}
			for k, v := range fns {
				handlers[k] = v
			}
			received := time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)
			g := New(testRoutes, handlers, WithLogger(quietLogger()), WithStage("test"), WithAccount("123456789012", "eu-west-1"),
				WithClock(func() time.Time { return received }))
			srv := httptest.NewServer(g)
			defer srv.Close()
			req, err := http.NewRequest(tc.method, srv.URL+tc.target, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.headers {
				req.Header.Add(h[0], h[1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for name, f := range fns {
				if want := 0; name != tc.wantFn && f.count() != want {
					t.Errorf("%s invoked %d times, want only %s", name, f.count(), tc.wantFn)
				}
			}
			ev := fns[tc.wantFn].lastEvent(t)
			if ev.Resource != tc.wantRes || ev.Path != tc.wantPath || ev.HTTPMethod != tc.method {
				t.Errorf("resource, path, method = %q %q %q, want %q %q %q", ev.Resource, ev.Path, ev.HTTPMethod, tc.wantRes, tc.wantPath, tc.method)
			}
			if !reflect.DeepEqual(ev.PathParameters, tc.wantParams) {
				t.Errorf("pathParameters %v, want %v", ev.PathParameters, tc.wantParams)
			}
			if !reflect.DeepEqual(ev.QueryStringParameters, tc.wantQuery) || !reflect.DeepEqual(ev.MultiValueQueryStringParameters, tc.wantMQuery) {
				t.Errorf("query %v / %v, want %v / %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters, tc.wantQuery, tc.wantMQuery)
			}
			for k, v := range tc.wantHeaders {
				if ev.Headers[k] != v {
					t.Errorf("headers[%s] = %q, want %q", k, ev.Headers[k], v)
				}
			}
			for k, v := range tc.wantMHeader {
				if !reflect.DeepEqual(ev.MultiValueHeaders[k], v) {
					t.Errorf("multiValueHeaders[%s] = %q, want %q", k, ev.MultiValueHeaders[k], v)
				}
			}
			if ev.Headers["Host"] == "" || ev.Headers["X-Forwarded-For"] != "127.0.0.1" || ev.Headers["X-Forwarded-Port"] == "" {
				t.Errorf("Host / X-Forwarded-For / X-Forwarded-Port missing: %v", ev.Headers)
			}
			if (ev.Body == nil) != (tc.wantBody == nil) || ev.Body != nil && *ev.Body != *tc.wantBody {
				t.Errorf("body %v, want %v", deref(ev.Body), deref(tc.wantBody))
			}
			if ev.IsBase64Encoded != tc.wantB64 {
				t.Errorf("isBase64Encoded %v, want %v", ev.IsBase64Encoded, tc.wantB64)
			}
			rc := ev.RequestContext
			if rc.RequestID == "" || resp.Header.Get(RequestIDHeader) != rc.RequestID {
				t.Errorf("requestId %q, response header %q", rc.RequestID, resp.Header.Get(RequestIDHeader))
			}
			if rc.Stage != "test" || rc.ResourcePath != tc.wantRes || rc.HTTPMethod != tc.method || rc.Path != tc.wantPath ||
				rc.Identity.SourceIP != "127.0.0.1" || rc.Protocol != "HTTP/1.1" || rc.AccountID != "123456789012" ||
				rc.RequestTimeEpoch != received.UnixMilli() || rc.RequestTime != "27/Nov/2026:01:02:03 +0000" {
				t.Errorf("requestContext %+v", rc)
			}
			if lc, ok := lambdacontext.FromContext(fns[tc.wantFn].ctxs[0]); !ok || lc.AwsRequestID != rc.RequestID ||
				lc.InvokedFunctionArn != "arn:aws:lambda:eu-west-1:123456789012:function:"+tc.wantFn {
				t.Errorf("lambda context %+v", lc)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// TestProxyEventWireFormat checks the JSON the function receives: null maps and body when absent, and an explicit
// isBase64Encoded, as API Gateway sends them.
func TestProxyEventWireFormat(t *testing.T) {
	fn := &fakeFunction{}
	g := New(testRoutes, map[string]lambda.Handler{"Metadata": fn}, WithLogger(quietLogger()))
	rec := httptest.NewRecorder()
	req := localRequest("GET", "/.well-known/openid-credential-issuer", nil)
	g.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(fn.calls[0], &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "stageVariables", "body"} {
		if string(raw[k]) != "null" {
			t.Errorf("%s = %s, want null", k, raw[k])
		}
	}
	if string(raw["isBase64Encoded"]) != "false" {
		t.Errorf("isBase64Encoded = %s, want false", raw["isBase64Encoded"])
	}
	var decoded events.APIGatewayProxyRequest
	if err := json.Unmarshal(fn.calls[0], &decoded); err != nil || decoded.Resource != "/.well-known/openid-credential-issuer" {
		t.Errorf("aws-lambda-go does not read the event: %v %+v", err, decoded)
	}
}

func TestResponseConversion(t *testing.T) {
	binary := []byte{0x89, 'P', 'N', 'G', 0x00, 0xff}
	tests := []struct {
		name       string
		respond    func(ctx context.Context, payload []byte) ([]byte, error)
		timeout    time.Duration
		wantStatus int
		wantBody   []byte
		wantHeader map[string][]string
	}{
		{name: "200 JSON", respond: func(context.Context, []byte) ([]byte, error) { return proxyResponse(200, `{"a":1}`) },
			wantStatus: 200, wantBody: []byte(`{"a":1}`), wantHeader: map[string][]string{"Content-Type": {"application/json"}}},
		{name: "201", respond: func(context.Context, []byte) ([]byte, error) { return proxyResponse(201, `{}`) },
			wantStatus: 201, wantBody: []byte(`{}`)},
		{name: "204 empty", respond: func(context.Context, []byte) ([]byte, error) {
			return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 204})
		}, wantStatus: 204, wantBody: []byte{}},
		{name: "no Content-Type is labelled JSON", respond: func(context.Context, []byte) ([]byte, error) {
			return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200, Body: "<p>x</p>"})
		}, wantStatus: 200, wantBody: []byte("<p>x</p>"), wantHeader: map[string][]string{"Content-Type": {"application/json"}}},
		{name: "400 passes through", respond: func(context.Context, []byte) ([]byte, error) {
			return proxyResponse(400, `{"error":"invalid_request"}`)
		}, wantStatus: 400, wantBody: []byte(`{"error":"invalid_request"}`)},
		{name: "500 from the function passes through", respond: func(context.Context, []byte) ([]byte, error) {
			return proxyResponse(500, `{"errorCode":500}`)
		}, wantStatus: 500, wantBody: []byte(`{"errorCode":500}`)},
		{name: "base64 body decoded", respond: func(context.Context, []byte) ([]byte, error) {
			return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200, IsBase64Encoded: true,
				Body: base64.StdEncoding.EncodeToString(binary), Headers: map[string]string{"Content-Type": "image/png"}})
		}, wantStatus: 200, wantBody: binary, wantHeader: map[string][]string{"Content-Type": {"image/png"}}},
		{name: "multi-value headers merged, multi wins", respond: func(context.Context, []byte) ([]byte, error) {
			return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200, Body: "x",
				Headers:           map[string]string{"Cache-Control": "no-store", "Set-Cookie": "single=1"},
				MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}}})
		}, wantStatus: 200, wantBody: []byte("x"),
			wantHeader: map[string][]string{"Cache-Control": {"no-store"}, "Set-Cookie": {"a=1", "b=2"}}},
		{name: "function error is 502", respond: func(context.Context, []byte) ([]byte, error) {
			return nil, errors.New("boom")
		}, wantStatus: 502, wantBody: []byte(`{"message":"Internal server error"}`)},
		{name: "function panic is 502", respond: func(context.Context, []byte) ([]byte, error) {
			panic("boom")
		}, wantStatus: 502, wantBody: []byte(`{"message":"Internal server error"}`)},
		{name: "not JSON is 502", respond: func(context.Context, []byte) ([]byte, error) { return []byte("hello"), nil },
			wantStatus: 502, wantBody: []byte(`{"message":"Internal server error"}`)},
		{name: "no statusCode is 502", respond: func(context.Context, []byte) ([]byte, error) { return []byte(`{"body":"x"}`), nil },
			wantStatus: 502, wantBody: []byte(`{"message":"Internal server error"}`)},
		{name: "bad base64 is 502", respond: func(context.Context, []byte) ([]byte, error) {
			return []byte(`{"statusCode":200,"body":"@@","isBase64Encoded":true}`), nil
		}, wantStatus: 502, wantBody: []byte(`{"message":"Internal server error"}`)},
		{name: "timeout is 504", timeout: 20 * time.Millisecond, respond: func(ctx context.Context, _ []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, wantStatus: 504, wantBody: []byte(`{"message":"Endpoint request timed out"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []Option{WithLogger(quietLogger())}
			if tc.timeout > 0 {
				opts = append(opts, WithIntegrationTimeout(tc.timeout))
			}
			g := New(testRoutes, map[string]lambda.Handler{"Items": &fakeFunction{respond: tc.respond}}, opts...)
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, localRequest("GET", "/items", nil))
			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if !bytes.Equal(rec.Body.Bytes(), tc.wantBody) {
				t.Errorf("body %q, want %q", rec.Body.Bytes(), tc.wantBody)
			}
			for k, v := range tc.wantHeader {
				if got := rec.Result().Header.Values(k); !reflect.DeepEqual(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if rec.Header().Get(RequestIDHeader) == "" {
				t.Error("no request id header")
			}
		})
	}
}

func TestGatewayErrors(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		target     string
		body       io.Reader
		wantStatus int
		wantBody   string
		wantType   string
	}{
		{name: "unknown path", method: "GET", target: "/nope", wantStatus: 404,
			wantBody: `{"message":"Missing Authentication Token"}`, wantType: "MissingAuthenticationTokenException"},
		{name: "unknown nested path", method: "GET", target: "/items/a/b", wantStatus: 404,
			wantBody: `{"message":"Missing Authentication Token"}`, wantType: "MissingAuthenticationTokenException"},
		{name: "empty segment", method: "GET", target: "/items//x", wantStatus: 404,
			wantBody: `{"message":"Missing Authentication Token"}`, wantType: "MissingAuthenticationTokenException"},
		{name: "greedy needs a segment", method: "GET", target: "/files/", wantStatus: 404,
			wantBody: `{"message":"Missing Authentication Token"}`, wantType: "MissingAuthenticationTokenException"},
		{name: "method not on resource", method: "DELETE", target: "/items", wantStatus: 403,
			wantBody: `{"message":"Missing Authentication Token"}`, wantType: "MissingAuthenticationTokenException"},
		{name: "route without handler", method: "GET", target: "/.well-known/openid-credential-issuer", wantStatus: 502,
			wantBody: `{"message":"Internal server error"}`, wantType: "InternalServerErrorException"},
		{name: "body over 10 MB", method: "POST", target: "/items", body: bytes.NewReader(make([]byte, MaxBodyBytes+1)),
			wantStatus: 413, wantBody: `{"message":"Request Too Long"}`, wantType: "RequestTooLarge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := &fakeFunction{}
			g := New(testRoutes, map[string]lambda.Handler{"Items": items}, WithLogger(quietLogger()))
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, localRequest(tc.method, tc.target, tc.body))
			if rec.Code != tc.wantStatus || rec.Body.String() != tc.wantBody {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
			}
			if rec.Header().Get("x-amzn-ErrorType") != tc.wantType || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", rec.Header())
			}
			if items.count() != 0 {
				t.Error("the function was invoked")
			}
		})
	}
	t.Run("body of exactly 10 MB passes", func(t *testing.T) {
		items := &fakeFunction{}
		g := New(testRoutes, map[string]lambda.Handler{"Items": items}, WithLogger(quietLogger()))
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, localRequest("POST", "/items", bytes.NewReader(make([]byte, MaxBodyBytes))))
		if rec.Code != 200 || items.count() != 1 {
			t.Errorf("status %d, invocations %d", rec.Code, items.count())
		}
	})
}

func TestMalformedRoutesAreReported(t *testing.T) {
	tests := []struct {
		name  string
		route template.Route
	}{
		{"no leading slash", template.Route{Method: "GET", Path: "items", FunctionLogicalID: "F"}},
		{"greedy not last", template.Route{Method: "GET", Path: "/{proxy+}/x", FunctionLogicalID: "F"}},
		{"mixed segment", template.Route{Method: "GET", Path: "/a{b}", FunctionLogicalID: "F"}},
		{"empty segment", template.Route{Method: "GET", Path: "/a//b", FunctionLogicalID: "F"}},
		{"no method", template.Route{Path: "/a", FunctionLogicalID: "F"}},
		{"no function", template.Route{Method: "GET", Path: "/a"}},
		{"duplicate", testRoutes[1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := New(append(append([]template.Route(nil), testRoutes...), tc.route), nil, WithLogger(quietLogger()))
			if g.Err() == nil {
				t.Fatal("no error")
			}
			if got := len(g.Routes()); got != len(testRoutes) {
				t.Errorf("%d routes served, want the %d valid ones", got, len(testRoutes))
			}
		})
	}
	if g := New(testRoutes, nil, WithLogger(quietLogger())); g.Err() != nil {
		t.Errorf("valid routes reported: %v", g.Err())
	}
}

func TestResolve(t *testing.T) {
	g := New(testRoutes, nil, WithLogger(quietLogger()))
	tests := []struct {
		method, path, wantFn, wantRes string
		wantOK                        bool
	}{
		{"GET", "/items", "Items", "/items", true},
		{"get", "/items", "Items", "/items", true},
		{"PUT", "/items", "", "/items", false},
		{"GET", "/items/x", "Items", "/items/{itemId}", true},
		{"GET", "/items/special", "Special", "/items/special", true},
		{"PATCH", "/files/x", "Files", "/files/{proxy+}", true},
		{"GET", "/unknown", "", "", false},
		{"GET", "/", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			fn, res, ok := g.Resolve(tc.method, tc.path)
			if fn != tc.wantFn || res != tc.wantRes || ok != tc.wantOK {
				t.Errorf("got %q %q %v, want %q %q %v", fn, res, ok, tc.wantFn, tc.wantRes, tc.wantOK)
			}
		})
	}
}

func TestIsTextual(t *testing.T) {
	tests := []struct {
		ct   string
		body string
		want bool
	}{
		{"application/json", "{}", true},
		{"application/json; charset=utf-8", "{}", true},
		{"application/problem+json", "{}", true},
		{"text/plain", "x", true},
		{"application/x-www-form-urlencoded", "a=b", true},
		{"application/jwt", "a.b.c", true},
		{"application/statuslist+jwt", "a.b.c", true},
		{"application/xml", "<a/>", true},
		{"application/octet-stream", "x", false},
		{"image/png", "x", false},
		{"multipart/form-data; boundary=x", "x", false},
		{"not a media type;;", "x", false},
		{"", "plain", true},
		{"", "\xff\xfe", false},
		// docs/security.md, "Parser differentials": invalid UTF-8 reaches the function byte for byte (base64).
		{"application/json", "{\"a\":\"\xff\"}", false},
	}
	for _, tc := range tests {
		if got := isTextual(tc.ct, []byte(tc.body)); got != tc.want {
			t.Errorf("isTextual(%q, %q) = %v, want %v", tc.ct, tc.body, got, tc.want)
		}
	}
}

func TestNewIDIsUUIDv4(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := newID()
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || strings.Count(id, "-") != 4 {
			t.Fatalf("%q is not a UUID v4", id)
		}
		if seen[id] {
			t.Fatalf("%q repeated", id)
		}
		seen[id] = true
	}
}

// TestWaitInvocations: a handler the gateway gave up on (504) still counts as running until it returns, and
// WaitInvocations returns exactly then.
func TestWaitInvocations(t *testing.T) {
	release := make(chan struct{})
	returned := make(chan struct{})
	slow := &fakeFunction{respond: func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done()
		<-release // goes on after the gateway answered, like a function finishing its writes
		close(returned)
		return nil, ctx.Err()
	}}
	g := New(testRoutes, map[string]lambda.Handler{"Items": slow}, WithLogger(quietLogger()),
		WithIntegrationTimeout(10*time.Millisecond))
	if err := g.WaitInvocations(context.Background()); err != nil {
		t.Fatalf("nothing running: %v", err)
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, localRequest("GET", "/items", nil))
	if rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504", rec.Code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.WaitInvocations(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitInvocations with the handler still running = %v, want context.Canceled", err)
	}
	close(release)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.WaitInvocations(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-returned:
	default:
		t.Fatal("WaitInvocations returned before the handler did")
	}
}

// localRequest is httptest.NewRequest addressed to 127.0.0.1, a Host the gateway serves.
func localRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Host = "127.0.0.1"
	return r
}

// TestBasePath: with an issuer URL whose path is /stage, the API is served under /stage like an API Gateway stage
// (the event's path without it, requestContext.path with it); outside it only the path-inserted well-known
// location of that issuer is served.
func TestBasePath(t *testing.T) {
	routes := []template.Route{
		{Method: "GET", Path: "/items", FunctionLogicalID: "Items"},
		{Method: "GET", Path: "/.well-known/openid-credential-issuer", FunctionLogicalID: "Metadata"},
		{Method: "GET", Path: "/.well-known/openid-credential-issuer/{issuerPath+}", FunctionLogicalID: "Metadata"},
	}
	tests := []struct {
		path, wantResource, wantPath string // wantResource "": not found
	}{
		{"/stage/items", "/items", "/items"},
		{"/stage/items/", "/items", "/items/"},
		{"/stage/.well-known/openid-credential-issuer", "/.well-known/openid-credential-issuer", "/.well-known/openid-credential-issuer"},
		{"/.well-known/openid-credential-issuer/stage", "/.well-known/openid-credential-issuer/{issuerPath+}", "/.well-known/openid-credential-issuer/stage"},
		{"/items", "", ""},
		{"/stage", "", ""},
		{"/stagey/items", "", ""},
		{"/st%61ge/items", "", ""},
		{"/.well-known/openid-credential-issuer", "", ""},
		{"/.well-known/openid-credential-issuer/other", "", ""},
		{"/.well-known/openid-credential-issuer/x/stage", "", ""},
		{"/.well-known/stage", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			fakes := map[string]*fakeFunction{"Items": {}, "Metadata": {}}
			g := New(routes, map[string]lambda.Handler{"Items": fakes["Items"], "Metadata": fakes["Metadata"]},
				WithLogger(quietLogger()), WithBasePath("/stage/"))
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, localRequest("GET", tc.path, nil))
			if tc.wantResource == "" {
				if rec.Code != http.StatusNotFound || fakes["Items"].count()+fakes["Metadata"].count() != 0 {
					t.Fatalf("status %d, %d invocations; want 404 and none", rec.Code, fakes["Items"].count()+fakes["Metadata"].count())
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			fn := fakes["Items"]
			if fakes["Metadata"].count() > 0 {
				fn = fakes["Metadata"]
			}
			ev := fn.lastEvent(t)
			if ev.Resource != tc.wantResource || ev.Path != tc.wantPath || ev.RequestContext.Path != tc.path {
				t.Errorf("resource %q path %q requestContext.path %q, want %q %q %q", ev.Resource, ev.Path,
					ev.RequestContext.Path, tc.wantResource, tc.wantPath, tc.path)
			}
		})
	}
}

// TestPreflightsAnsweredLikeAPIGateway: an OPTIONS on a path with a preflight gets its status and headers without
// a function call; an OPTIONS on a path without one is a method the resource lacks (403).
func TestPreflightsAnsweredLikeAPIGateway(t *testing.T) {
	items := &fakeFunction{}
	g := New(testRoutes, map[string]lambda.Handler{"Items": items}, WithLogger(quietLogger()),
		WithPreflights([]template.Preflight{{Path: "/items/{itemId}", Status: 204,
			Headers: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET,OPTIONS"}}}))
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, localRequest(http.MethodOptions, "/items/42", nil))
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "*" ||
		rec.Header().Get("Access-Control-Allow-Methods") != "GET,OPTIONS" || rec.Body.Len() != 0 {
		t.Errorf("preflight: %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
	rec = httptest.NewRecorder()
	g.ServeHTTP(rec, localRequest(http.MethodOptions, "/items", nil))
	if rec.Code != 403 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("OPTIONS without a preflight: %d %v", rec.Code, rec.Header())
	}
	if items.count() != 0 {
		t.Error("a preflight invoked the function")
	}
}
