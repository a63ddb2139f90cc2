package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

const testKey = "s3cret-admin-key"

func newTestRouter(t *testing.T, logs *bytes.Buffer) *Router {
	t.Helper()
	keys, err := NewAPIKeys(HashAPIKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRouter("test", WithAPIKeys(keys), WithLogger(slog.New(slog.NewJSONHandler(logs, nil))))
	r.Handle("POST", "/v2/things", Admin, func(ctx context.Context, req *Request) (Response, error) {
		var body struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		}
		if err := DecodeJSON(req, &body); err != nil {
			return Response{}, err
		}
		return JSON(http.StatusCreated, map[string]any{"name": body.Name, "count": body.Count})
	})
	r.Handle("GET", "/v2/things/{id}", Admin, func(ctx context.Context, req *Request) (Response, error) {
		id, err := PathParam(req, "id")
		if err != nil {
			return Response{}, err
		}
		if id == "missing" {
			return Response{}, NotFound("thing %s does not exist", id)
		}
		return JSON(http.StatusOK, map[string]string{"id": id})
	})
	r.Handle("POST", "/token", Public, func(ctx context.Context, req *Request) (Response, error) {
		form, err := Form(req)
		if err != nil {
			return Response{}, err
		}
		if form.Get("grant_type") == "" {
			return Response{}, Errorf(http.StatusBadRequest, "invalid_request", "grant_type is missing")
		}
		return JSON(http.StatusOK, map[string]string{"grant_type": form.Get("grant_type")})
	})
	r.Handle("GET", "/boom", Public, func(ctx context.Context, req *Request) (Response, error) {
		panic("something broke")
	})
	r.Handle("GET", "/fail", Public, func(ctx context.Context, req *Request) (Response, error) {
		return Response{}, errors.New("dynamodb: connection refused")
	})
	r.Handle("GET", "/png", Public, func(ctx context.Context, req *Request) (Response, error) {
		return Binary(http.StatusOK, "image/png", []byte{0x89, 'P', 'N', 'G'}), nil
	})
	return r
}

func adminHeaders() map[string]string {
	return map[string]string{"authorization": "ApiKey " + testKey, "content-type": "application/json"}
}

func TestRouterServeEvent(t *testing.T) {
	tests := []struct {
		name       string
		req        Request
		wantStatus int
		wantBody   map[string]any
	}{
		{"admin ok", Request{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(),
			Body: `{"name":"a","count":2}`}, 201, map[string]any{"name": "a", "count": float64(2)}},
		{"admin base64 body", Request{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(),
			Body: base64.StdEncoding.EncodeToString([]byte(`{"name":"b"}`)), IsBase64Encoded: true}, 201,
			map[string]any{"name": "b", "count": float64(0)}},
		{"admin no key", Request{HTTPMethod: "POST", Resource: "/v2/things", Body: `{}`}, 401,
			map[string]any{"errorCode": float64(401), "errorDescription": "missing or wrong admin API key; send the header `Authorization: ApiKey <key>`"}},
		{"admin wrong key", Request{HTTPMethod: "POST", Resource: "/v2/things", Body: `{}`,
			Headers: map[string]string{"Authorization": "ApiKey nope"}}, 401, nil},
		{"admin bearer scheme", Request{HTTPMethod: "POST", Resource: "/v2/things", Body: `{}`,
			Headers: map[string]string{"Authorization": "Bearer " + testKey}}, 401, nil},
		{"admin wrong type names field", Request{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(),
			Body: `{"name":5}`}, 400, map[string]any{"errorCode": float64(400),
			"errorDescription": `field "name" must be a string, not a JSON number`}},
		{"admin not json", Request{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(),
			Body: `{"name":`}, 400, nil},
		{"admin trailing data", Request{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(),
			Body: `{"name":"a"} {}`}, 400, nil},
		{"admin empty body", Request{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders()}, 400, nil},
		{"admin too large", Request{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(),
			Body: `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`}, 413, nil},
		{"admin path param", Request{HTTPMethod: "GET", Resource: "/v2/things/{id}", Headers: adminHeaders(),
			PathParameters: map[string]string{"id": "abc"}}, 200, map[string]any{"id": "abc"}},
		{"admin not found error", Request{HTTPMethod: "GET", Resource: "/v2/things/{id}", Headers: adminHeaders(),
			PathParameters: map[string]string{"id": "missing"}}, 404, map[string]any{"errorCode": float64(404),
			"errorDescription": "thing missing does not exist"}},
		{"method not allowed", Request{HTTPMethod: "DELETE", Resource: "/v2/things", Headers: adminHeaders()}, 405, nil},
		{"unknown route", Request{HTTPMethod: "GET", Resource: "/nowhere", Path: "/nowhere"}, 404, nil},
		{"oauth error shape", Request{HTTPMethod: "POST", Resource: "/token",
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: "x=1"}, 400,
			map[string]any{"error": "invalid_request", "error_description": "grant_type is missing"}},
		{"oauth wrong content type", Request{HTTPMethod: "POST", Resource: "/token",
			Headers: map[string]string{"Content-Type": "application/json"}, Body: "{}"}, 400, nil},
		{"oauth form ok", Request{HTTPMethod: "POST", Resource: "/token",
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
			Body:    "grant_type=abc"}, 200, map[string]any{"grant_type": "abc"}},
		{"panic becomes 500", Request{HTTPMethod: "GET", Resource: "/boom"}, 500, map[string]any{"error": "server_error",
			"error_description": "internal error; retry later, and report the request id if it persists"}},
		{"plain error becomes 500", Request{HTTPMethod: "GET", Resource: "/fail"}, 500, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := newTestRouter(t, &logs)
			resp, err := r.ServeEvent(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("ServeEvent returned error %v; it must always answer a response", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			if tc.wantBody != nil {
				var got map[string]any
				if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
					t.Fatalf("body %q is not JSON: %v", resp.Body, err)
				}
				for k, v := range tc.wantBody {
					if got[k] != v {
						t.Errorf("body[%q] = %#v, want %#v", k, got[k], v)
					}
				}
			}
			if resp.StatusCode >= 400 && resp.Headers["Content-Type"] != "application/json" {
				t.Errorf("error Content-Type = %q", resp.Headers["Content-Type"])
			}
			var line map[string]any
			if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
				t.Fatalf("want exactly one JSON log line, got %q", logs.String())
			}
			if line["status"] != float64(tc.wantStatus) || line["route"] != tc.req.HTTPMethod+" "+tc.req.Resource {
				t.Errorf("log line %v does not name route and status", line)
			}
			if _, ok := line["aws_calls"]; !ok {
				t.Errorf("log line %v lacks aws_calls", line)
			}
			if tc.req.Body != "" && len(tc.req.Body) > 3 && strings.Contains(logs.String(), tc.req.Body) {
				t.Errorf("log line contains the request body")
			}
			if strings.Contains(logs.String(), testKey) {
				t.Errorf("log line contains the API key")
			}
		})
	}
}

func TestRouterMethodNotAllowedNamesAllowed(t *testing.T) {
	r := newTestRouter(t, &bytes.Buffer{})
	resp, _ := r.ServeEvent(context.Background(), Request{HTTPMethod: "PUT", Resource: "/v2/things", Headers: adminHeaders()})
	if resp.Headers["Allow"] != "POST" {
		t.Fatalf("Allow = %q, want POST", resp.Headers["Allow"])
	}
}

func TestBinaryResponseIsBase64(t *testing.T) {
	r := newTestRouter(t, &bytes.Buffer{})
	resp, _ := r.ServeEvent(context.Background(), Request{HTTPMethod: "GET", Resource: "/png"})
	if !resp.IsBase64Encoded || resp.Headers["Content-Type"] != "image/png" {
		t.Fatalf("binary response not base64: %+v", resp)
	}
	b, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil || string(b[1:]) != "PNG" {
		t.Fatalf("body does not decode to the PNG bytes: %v %q", err, b)
	}
}

func TestRoutesSorted(t *testing.T) {
	r := newTestRouter(t, &bytes.Buffer{})
	got := strings.Join(r.Routes(), "|")
	want := "GET /boom|GET /fail|GET /png|GET /v2/things/{id}|POST /token|POST /v2/things"
	if got != want {
		t.Fatalf("Routes() = %s, want %s", got, want)
	}
}

func TestAPIKeys(t *testing.T) {
	if _, err := NewAPIKeys("abc"); err == nil {
		t.Fatal("a short hash must be rejected")
	}
	k, err := NewAPIKeys(HashAPIKey("one"), HashAPIKey("two"))
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]bool{
		"ApiKey one": true, "apikey two": true, "ApiKey  two ": true, "ApiKey three": false, "ApiKey ": false,
		"one": false, "": false, "Basic one": false,
	} {
		if got := k.Allowed(header); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", header, got, want)
		}
	}
	var none *APIKeys
	if none.Allowed("ApiKey one") {
		t.Error("a router without keys must refuse every admin request")
	}
}

func TestHeaderCaseInsensitive(t *testing.T) {
	req := &Request{Headers: map[string]string{"X-Thing": "a"}, MultiValueHeaders: map[string][]string{"x-other": {"b", "c"}}}
	if Header(req, "x-thing") != "a" || Header(req, "X-OTHER") != "b" || Header(req, "none") != "" {
		t.Fatal("Header lookup is not case-insensitive")
	}
}

// TestCORSOnlyOnPublicRoutes: every answer of a public route of a router WithCORS (success, error, panic) lets any
// origin read it with the headers wallets need; admin answers (success and error) and unknown paths carry no CORS
// header, nor do the public routes of a router without it.
func TestCORSOnlyOnPublicRoutes(t *testing.T) {
	r := newTestRouter(t, &bytes.Buffer{})
	WithCORS(true)(r)
	cases := []struct {
		name string
		req  Request
		cors bool
	}{
		{"public success", Request{HTTPMethod: "POST", Resource: "/token", Body: "grant_type=x",
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, true},
		{"public error", Request{HTTPMethod: "POST", Resource: "/token", Body: "x=y",
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, true},
		{"public panic", Request{HTTPMethod: "GET", Resource: "/boom"}, true},
		{"public 500", Request{HTTPMethod: "GET", Resource: "/fail"}, true},
		{"admin success", Request{HTTPMethod: "GET", Resource: "/v2/things/{id}", PathParameters: map[string]string{"id": "a"},
			Headers: adminHeaders()}, false},
		{"admin without key", Request{HTTPMethod: "GET", Resource: "/v2/things/{id}", PathParameters: map[string]string{"id": "a"}}, false},
		{"unknown path", Request{HTTPMethod: "GET", Resource: "/nope"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := r.ServeEvent(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			origin, expose := resp.Headers["Access-Control-Allow-Origin"], resp.Headers["Access-Control-Expose-Headers"]
			if tc.cors && (origin != "*" || !strings.Contains(expose, "DPoP-Nonce") || !strings.Contains(expose, "WWW-Authenticate")) {
				t.Errorf("%d: CORS headers %q %q", resp.StatusCode, origin, expose)
			}
			if !tc.cors && (origin != "" || expose != "") {
				t.Errorf("%d: CORS headers on a non-public answer: %q %q", resp.StatusCode, origin, expose)
			}
		})
	}
}

func TestNoCORSWithoutWithCORS(t *testing.T) {
	r := newTestRouter(t, &bytes.Buffer{})
	resp, err := r.ServeEvent(context.Background(), Request{HTTPMethod: "GET", Resource: "/png"})
	if err != nil || resp.Headers["Access-Control-Allow-Origin"] != "" {
		t.Errorf("a router without WithCORS answers CORS: %v %v", resp.Headers, err)
	}
}

// TestRouteBodyBound: a route registered with MaxBody takes bodies up to its own bound (also base64 encoded, as
// API Gateway delivers them) and answers 413 naming that bound beyond it; other routes keep MaxBodyBytes.
func TestRouteBodyBound(t *testing.T) {
	r := NewRouter("test", WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	ok := func(ctx context.Context, req *Request) (Response, error) {
		return JSON(http.StatusOK, map[string]string{})
	}
	r.Handle("POST", "/large", Public, ok, MaxBody(3*MaxBodyBytes))
	r.Handle("POST", "/small", Public, ok)
	for _, c := range []struct {
		resource string
		size     int
		base64   bool
		want     int
	}{
		{"/large", 3 * MaxBodyBytes, false, 200},
		{"/large", 3 * MaxBodyBytes, true, 200},
		{"/large", 3*MaxBodyBytes + 1, false, 413},
		{"/large", 3*MaxBodyBytes + 1, true, 413},
		{"/small", MaxBodyBytes + 1, false, 413},
	} {
		body := strings.Repeat("x", c.size)
		if c.base64 {
			body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		resp, _ := r.ServeEvent(context.Background(), Request{HTTPMethod: "POST", Resource: c.resource, Body: body, IsBase64Encoded: c.base64})
		if resp.StatusCode != c.want {
			t.Errorf("%s %d bytes (base64 %v): %d %s", c.resource, c.size, c.base64, resp.StatusCode, resp.Body)
		}
		limit := MaxBodyBytes
		if c.resource == "/large" {
			limit = 3 * MaxBodyBytes
		}
		if c.want == 413 && !strings.Contains(resp.Body, fmt.Sprintf("larger than %d KiB", limit>>10)) {
			t.Errorf("%s: %s does not name the bound", c.resource, resp.Body)
		}
	}
}
