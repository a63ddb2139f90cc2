package issuerdoc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/delivery"
	"github.com/sdjwt-issuer/issuer/shared/issuerdoc"
	"github.com/sdjwt-issuer/issuer/shared/keys"
)

func TestMetadataURL(t *testing.T) {
	for iss, want := range map[string]string{
		"https://issuer.example":           "https://issuer.example/.well-known/jwt-vc-issuer",
		"https://issuer.example/":          "https://issuer.example/.well-known/jwt-vc-issuer",
		"https://issuer.example/tenant/a":  "https://issuer.example/.well-known/jwt-vc-issuer/tenant/a",
		"http://127.0.0.1:3000/stage":      "http://127.0.0.1:3000/.well-known/jwt-vc-issuer/stage",
		"https://issuer.example:8443/path": "https://issuer.example:8443/.well-known/jwt-vc-issuer/path",
	} {
		if got, err := issuerdoc.MetadataURL(iss); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", iss, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "issuer.example", "https://x?q=1", "https://x#f"} {
		if _, err := issuerdoc.MetadataURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// server is another credential issuer: its metadata document and a status list, with a hit counter.
type server struct {
	*httptest.Server
	hits     atomic.Int32
	metadata func(base string) string
	jwks     string
	status   string
	cc       string
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{cc: "max-age=600"}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		switch r.URL.Path {
		case "/.well-known/jwt-vc-issuer":
			_, _ = w.Write([]byte(s.metadata(s.URL)))
		case "/jwks":
			_, _ = w.Write([]byte(s.jwks))
		case "/status-lists/0":
			w.Header().Set("Cache-Control", s.cc)
			_, _ = w.Write([]byte(s.status))
		case "/redirect":
			http.Redirect(w, r, "/status-lists/0", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", issuerdoc.MaxStatusListBytes+1)))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func TestIssuerKeys(t *testing.T) {
	ctx := context.Background()
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(keys.PublicJWKS(signer))
	s := newServer(t)
	clock := time.Now()
	c, err := issuerdoc.New(http.DefaultClient, time.Second, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	s.metadata = func(base string) string { return `{"issuer": "` + base + `", "jwks": ` + string(set) + `}` }
	got, err := c.IssuerKeys(ctx, s.URL)
	if err != nil || got.Len() != 1 {
		t.Fatalf("keys %v %v", got, err)
	}
	if k, _ := got.Key(0); k.KeyID() != signer.KeyID() {
		t.Fatalf("kid %s", k.KeyID())
	}
	before := s.hits.Load()
	if _, err := c.IssuerKeys(ctx, s.URL); err != nil || s.hits.Load() != before {
		t.Fatalf("second call fetched again (%d hits) or failed: %v", s.hits.Load()-before, err)
	}
	clock = clock.Add(issuerdoc.MetadataTTL + time.Second)
	if _, err := c.IssuerKeys(ctx, s.URL); err != nil || s.hits.Load() != before+1 {
		t.Fatalf("after the cache time: %d hits, %v", s.hits.Load()-before, err)
	}

	s.jwks = string(set)
	for name, c2 := range map[string]struct {
		metadata func(base string) string
		want     string
	}{
		"jwks_uri":     {func(base string) string { return `{"issuer": "` + base + `", "jwks_uri": "` + base + `/jwks"}` }, ""},
		"other issuer": {func(string) string { return `{"issuer": "https://other.example", "jwks": ` + string(set) + `}` }, "names another issuer"},
		"both": {func(base string) string {
			return `{"issuer": "` + base + `", "jwks": {"keys": []}, "jwks_uri": "` + base + `/jwks"}`
		}, "both"},
		"neither": {func(base string) string { return `{"issuer": "` + base + `"}` }, "neither"},
		"private key": {func(base string) string {
			return `{"issuer": "` + base + `", "jwks": {"keys": [` + privateJWK(t) + `]}}`
		}, "private"},
		"symmetric key": {func(base string) string {
			return `{"issuer": "` + base + `", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}`
		}, "symmetric"},
		"repeated issuer": {func(base string) string {
			return `{"issuer": "` + base + `", "issuer": "` + base + `", "jwks": ` + string(set) + `}`
		}, "not a JSON object"},
		"not JSON": {func(string) string { return `<html>` }, "not a JSON object"},
	} {
		s.metadata = c2.metadata
		fresh, _ := issuerdoc.New(http.DefaultClient, time.Second, nil)
		_, err := fresh.IssuerKeys(ctx, s.URL)
		if c2.want == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c2.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c2.want)
		}
	}
	if _, err := c.IssuerKeys(ctx, s.URL+"/nowhere"); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("missing document: %v", err)
	}
}

func privateJWK(t *testing.T) string {
	t.Helper()
	return `{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "d": "jpsQnnGQmL-YBIffH1136cLYN7GpmIZXQaY5DUZqVF0"}`
}

func TestStatusListToken(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	s.status = "eyJ.status.token\n"
	clock := time.Now()
	c, _ := issuerdoc.New(http.DefaultClient, time.Second, func() time.Time { return clock })
	tok, err := c.StatusListToken(ctx, s.URL+"/status-lists/0")
	if err != nil || tok != "eyJ.status.token" {
		t.Fatalf("token %q %v", tok, err)
	}
	before := s.hits.Load()
	clock = clock.Add(issuerdoc.StatusListMaxTTL - time.Second)
	if _, err := c.StatusListToken(ctx, s.URL+"/status-lists/0"); err != nil || s.hits.Load() != before {
		t.Fatalf("within the cache time: fetched again")
	}
	clock = clock.Add(2 * time.Second) // max-age=600 is capped at StatusListMaxTTL
	if _, err := c.StatusListToken(ctx, s.URL+"/status-lists/0"); err != nil || s.hits.Load() != before+1 {
		t.Fatalf("past StatusListMaxTTL: not fetched again")
	}
	s.cc = "no-store"
	fresh, _ := issuerdoc.New(http.DefaultClient, time.Second, nil)
	_, _ = fresh.StatusListToken(ctx, s.URL+"/status-lists/0")
	before = s.hits.Load()
	_, _ = fresh.StatusListToken(ctx, s.URL+"/status-lists/0")
	if s.hits.Load() != before+1 {
		t.Fatal("a no-store token was cached")
	}
	if _, err := fresh.StatusListToken(ctx, s.URL+"/big"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized answer: %v", err)
	}
	if _, err := fresh.StatusListToken(ctx, "file:///etc/passwd"); err == nil {
		t.Fatal("a file URI was fetched")
	}
}

// TestFetchesAreSSRFSafe: through the client the issuer builds (delivery.NewHTTPClient without local access), a
// status list or metadata on a loopback address is refused at connection time, and a redirect is not followed.
func TestFetchesAreSSRFSafe(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	s.status = "eyJ.status.token"
	s.metadata = func(base string) string { return `{"issuer": "` + base + `", "jwks": {"keys": []}}` }
	public, _ := issuerdoc.New(delivery.NewHTTPClient(time.Second, false), time.Second, nil)
	if _, err := public.StatusListToken(ctx, s.URL+"/status-lists/0"); err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Fatalf("loopback status list: %v", err)
	}
	if _, err := public.IssuerKeys(ctx, s.URL); err == nil {
		t.Fatal("loopback metadata fetched")
	}
	local, _ := issuerdoc.New(delivery.NewHTTPClient(time.Second, true), time.Second, nil)
	if _, err := local.StatusListToken(ctx, s.URL+"/redirect"); err == nil || !strings.Contains(err.Error(), "HTTP 302") {
		t.Fatalf("redirect: %v", err)
	}
	if tok, err := local.StatusListToken(ctx, s.URL+"/status-lists/0"); err != nil || tok != "eyJ.status.token" {
		t.Fatalf("local run: %q %v", tok, err)
	}
}

// doerFunc answers requests in memory and records what was asked.
type doerFunc func(req *http.Request) (*http.Response, error)

func (f doerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// TestPlainHTTPOnlyOnLoopback: an issuer's keys and status lists come over https; plain http is for local runs
// (loopback) only. A trusted issuer's metadata naming an http jwks_uri on another host was fetched in the clear, so
// whoever sits on the path could hand over keys of their own and have credentials they signed accepted as that
// issuer's; an http status list lets them replay a token from before a revocation. Both are refused before any
// request is made, and so is an http issuer identifier off loopback.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	ctx := context.Background()
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(keys.PublicJWKS(signer))
	var asked []string
	doer := doerFunc(func(req *http.Request) (*http.Response, error) {
		asked = append(asked, req.URL.String())
		body := string(set)
		if req.URL.Path == "/.well-known/jwt-vc-issuer" {
			body = `{"issuer": "https://issuer.example", "jwks_uri": "http://keys.example/jwks"}`
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
	})
	c, _ := issuerdoc.New(doer, time.Second, nil)
	if _, err := c.IssuerKeys(ctx, "https://issuer.example"); err == nil || !strings.Contains(err.Error(), "jwks_uri") {
		t.Errorf("http jwks_uri: %v", err)
	}
	if _, err := c.StatusListToken(ctx, "http://status.example/lists/1"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http status list: %v", err)
	}
	if _, err := issuerdoc.MetadataURL("http://issuer.example"); err == nil {
		t.Error("http issuer identifier off loopback accepted")
	}
	if len(asked) != 1 || asked[0] != "https://issuer.example/.well-known/jwt-vc-issuer" {
		t.Errorf("fetched %v, want only the https metadata", asked)
	}
	for _, local := range []string{"http://127.0.0.1:3000/lists/1", "http://localhost:3000/lists/1", "http://[::1]:3000/lists/1"} {
		asked = nil
		if _, err := c.StatusListToken(ctx, local); err != nil || len(asked) != 1 {
			t.Errorf("%s (a local run): %v", local, err)
		}
	}
}
