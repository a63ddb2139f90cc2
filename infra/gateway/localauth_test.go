package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/sdjwt-issuer/issuer/infra/template"
)

// busKey is the admin key of the test gateways: the secret access key their EventBridge clients sign with.
const busKey = "local-admin-key-0123456789"

func signedClient(url, secret string) *eventbridge.Client {
	return eventbridge.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", secret, "")})
}

// TestLocalBusNeedsTheAdminKey (docs/security.md, "Open local event bus"): PutEvents and GET /_local/events
// answer only a caller holding the admin key, as the SigV4 secret of an EventBridge client or as
// `Authorization: ApiKey <key>`. An unauthenticated DeferredCredentialReady is neither recorded nor delivered.
func TestLocalBusNeedsTheAdminKey(t *testing.T) {
	fn := &fakeFunction{}
	g := New(nil, map[string]lambda.Handler{"DeferredIssueFunction": fn}, WithLogger(quietLogger()),
		WithEventRules(deferredRules), WithAdminKey(busKey))
	defer g.Close()
	srv := httptest.NewServer(g)
	defer srv.Close()
	ready := []ebtypes.PutEventsRequestEntry{entry("DeferredCredentialReady", `{"credentialExchangeId":"x1","credential":{"credentialSubject":{"is_admin":true}}}`)}

	for _, secret := range []string{"local", busKey + "x", strings.ToUpper(busKey)} {
		_, err := signedClient(srv.URL, secret).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: ready})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
			t.Errorf("PutEvents signed with %q: %v, want AccessDeniedException", secret, err)
		}
	}
	raw := func(method, path, auth, body string, header ...string) int {
		t.Helper()
		return status(t, method, srv.URL+path, auth, body, header...)
	}
	put := `{"Entries":[{"Source":"x","DetailType":"DeferredCredentialReady","Detail":"{\"credentialExchangeId\":\"x2\"}"}]}`
	for _, auth := range []string{"", "ApiKey wrong", "ApiKey " + busKey[:len(busKey)-1], "Bearer " + busKey,
		"AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=00"} {
		if got := raw("POST", "/", auth, put, "X-Amz-Target", PutEventsTarget); got != http.StatusForbidden {
			t.Errorf("raw PutEvents with %q: %d, want 403", auth, got)
		}
		if got := raw("GET", EventsPath, auth, ""); got != http.StatusUnauthorized {
			t.Errorf("GET %s with %q: %d, want 401", EventsPath, auth, got)
		}
	}
	if n := len(g.Events()); n != 0 || fn.count() != 0 {
		t.Fatalf("refused puts recorded %d events, delivered %d", n, fn.count())
	}

	// The key holder gets through, either way.
	if _, err := signedClient(srv.URL, busKey).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: ready}); err != nil {
		t.Fatalf("PutEvents signed with the key: %v", err)
	}
	if got := raw("POST", "/", "ApiKey "+busKey, put, "X-Amz-Target", PutEventsTarget); got != http.StatusOK {
		t.Errorf("raw PutEvents with the ApiKey: %d", got)
	}
	if got := raw("GET", EventsPath, "ApiKey "+busKey, ""); got != http.StatusOK {
		t.Errorf("GET %s with the ApiKey: %d", EventsPath, got)
	}
	waitIdle(t, g)
	if n := len(g.Events()); n != 2 || fn.count() != 2 {
		t.Errorf("recorded %d, delivered %d; want 2 and 2", n, fn.count())
	}
}

// TestLocalBusSignatureCoversTheBody: a valid signature replayed with another body is refused.
func TestLocalBusSignatureCoversTheBody(t *testing.T) {
	g := New(nil, nil, WithLogger(quietLogger()), WithAdminKey(busKey))
	defer g.Close()
	var captured *http.Request
	var capturedBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		captured, capturedBody = r.Clone(context.Background()), string(b)
		g.ServeHTTP(w, withBody(r, capturedBody))
	}))
	defer srv.Close()
	if _, err := signedClient(srv.URL, busKey).PutEvents(context.Background(), &eventbridge.PutEventsInput{
		Entries: []ebtypes.PutEventsRequestEntry{entry("a", `{"n":1}`)}}); err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(capturedBody, `\"n\":1`, `\"n\":2`, 1)
	if tampered == capturedBody {
		t.Fatalf("body %s has no n", capturedBody)
	}
	rec := httptest.NewRecorder()
	req := withBody(captured, tampered)
	req.RequestURI = ""
	g.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("replayed signature with a changed body: %d, want 403", rec.Code)
	}
	// Replayed unchanged but 20 minutes later: refused too.
	late := New(nil, nil, WithLogger(quietLogger()), WithAdminKey(busKey), WithClock(func() time.Time { return time.Now().Add(20 * time.Minute) }))
	defer late.Close()
	rec = httptest.NewRecorder()
	late.ServeHTTP(rec, withBody(captured, capturedBody))
	if rec.Code != http.StatusForbidden {
		t.Errorf("signature replayed 20 minutes later: %d, want 403", rec.Code)
	}
}

// TestLocalEndpointsClosedWithoutKey: a gateway given no admin key serves no local-only endpoint.
func TestLocalEndpointsClosedWithoutKey(t *testing.T) {
	g := New(nil, nil, WithLogger(quietLogger()))
	defer g.Close()
	srv := httptest.NewServer(g)
	defer srv.Close()
	if _, err := signedClient(srv.URL, "").PutEvents(context.Background(), &eventbridge.PutEventsInput{
		Entries: []ebtypes.PutEventsRequestEntry{entry("a", `{}`)}}); err == nil {
		t.Error("PutEvents accepted without an admin key configured")
	}
	if got := status(t, "GET", srv.URL+EventsPath, "", ""); got != http.StatusUnauthorized {
		t.Errorf("GET %s: %d", EventsPath, got)
	}
}

// TestHostCheck (docs/security.md, "DNS rebinding"): the gateway answers only requests whose Host is a
// loopback address, localhost, or the ISSUER_URL host; a page on another name that resolves to 127.0.0.1 gets
// 403 on every path, before any function or local endpoint runs.
func TestHostCheck(t *testing.T) {
	fn := &fakeFunction{}
	g := New([]template.Route{{Method: "GET", Path: "/items", FunctionLogicalID: "Items"}},
		map[string]lambda.Handler{"Items": fn}, WithLogger(quietLogger()), WithAdminKey(busKey),
		WithIssuerURL("https://Issuer.Example.org"))
	defer g.Close()
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:3000", true}, {"127.0.0.1", true}, {"127.1.2.3:8080", true}, {"localhost:3000", true},
		{"LOCALHOST", true}, {"[::1]:3000", true}, {"[::1]", true}, {"issuer.example.org", true},
		{"issuer.example.org:443", true},
		{"evil.example", false}, {"evil.example:3000", false}, {"127.0.0.1.evil.example", false},
		{"localhost.evil.example", false}, {"issuer.example.org.evil.example", false}, {"", false},
		{"0.0.0.0:3000", false}, {"10.0.0.1:3000", false}, {"[::ffff:127.0.0.1]:3000", true},
		{"2130706433", false}, {"xn--issuer-example-org", false},
	}
	for _, tc := range tests {
		for _, path := range []string{"/items", EventsPath} {
			req := httptest.NewRequest("GET", path, nil)
			req.Host = tc.host
			req.Header.Set("Authorization", "ApiKey "+busKey)
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			refused := rec.Code == http.StatusForbidden && strings.Contains(rec.Body.String(), "Host")
			if refused == tc.ok {
				t.Errorf("Host %q %s: %d %s", tc.host, path, rec.Code, rec.Body.String())
			}
			if strings.Contains(rec.Body.String(), "evil") {
				t.Errorf("Host %q is echoed: %s", tc.host, rec.Body.String())
			}
		}
	}
}

// TestGatewaySecurityHeaders (docs/security.md, "Response headers"): every answer of the local gateway, its
// own errors included, carries nosniff, and HSTS when the issuer URL is https; no error echoes the path.
func TestGatewaySecurityHeaders(t *testing.T) {
	fn := &fakeFunction{}
	for _, issuer := range []string{"http://127.0.0.1:3000", "https://issuer.example"} {
		g := New([]template.Route{{Method: "GET", Path: "/items", FunctionLogicalID: "Items"}},
			map[string]lambda.Handler{"Items": fn}, WithLogger(quietLogger()), WithAdminKey(busKey), WithIssuerURL(issuer))
		for _, r := range []struct{ method, path, host string }{
			{"GET", "/items", "127.0.0.1"}, {"POST", "/items", "127.0.0.1"}, {"GET", "/%3Cscript%3Ealert(1)%3C/script%3E", "127.0.0.1"},
			{"GET", EventsPath, "127.0.0.1"}, {"GET", "/items", "evil.example"},
		} {
			req := httptest.NewRequest(r.method, r.path, nil)
			req.Host = r.host
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s %s: no nosniff", issuer, r.method, r.path)
			}
			if got := rec.Header().Get("Strict-Transport-Security"); (got != "") != strings.HasPrefix(issuer, "https:") {
				t.Errorf("%s %s %s: HSTS %q", issuer, r.method, r.path, got)
			}
			if strings.Contains(rec.Body.String(), "script") {
				t.Errorf("%s %s: the path is echoed: %s", r.method, r.path, rec.Body.String())
			}
		}
		g.Close()
	}
}

// withBody is a copy of r, as the server received it, with body.
func withBody(r *http.Request, body string) *http.Request {
	c := r.Clone(context.Background())
	c.Body = io.NopCloser(strings.NewReader(body))
	c.ContentLength = int64(len(body))
	return c
}

// status sends one request (auth as the Authorization header when not empty, then header pairs) and returns the
// status code.
func status(t *testing.T, method, url, auth, body string, header ...string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
