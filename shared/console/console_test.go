package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

func newTestSite(t *testing.T) *Site {
	t.Helper()
	s, err := NewSite()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func serve(t *testing.T, s *Site, resource, asset string, headers map[string]string) apigw.Response {
	t.Helper()
	req := apigw.Request{HTTPMethod: http.MethodGet, Resource: resource, Path: "/console", Headers: headers}
	if asset != "" {
		req.Path = "/console/" + asset
		req.PathParameters = map[string]string{"asset": asset}
	}
	resp, err := s.Router(slog.New(slog.NewTextHandler(io.Discard, nil))).ServeEvent(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func checkSecurityHeaders(t *testing.T, what string, h map[string]string) {
	t.Helper()
	for k, v := range map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	} {
		if h[k] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, h[k], v)
		}
	}
}

func TestPageAnswer(t *testing.T) {
	s := newTestSite(t)
	resp := serve(t, s, PagePath, "", nil)
	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "text/html; charset=utf-8" {
		t.Fatalf("GET /console: %d %q", resp.StatusCode, resp.Headers["Content-Type"])
	}
	if resp.IsBase64Encoded || !strings.HasPrefix(resp.Body, "<!doctype html>") {
		t.Errorf("body is not the page: base64 %v, starts %.30q", resp.IsBase64Encoded, resp.Body)
	}
	if resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", resp.Headers["Cache-Control"])
	}
	checkSecurityHeaders(t, "page", resp.Headers)
	// The page is never answered 304: a browser always gets the page that names the current assets.
	again := serve(t, s, PagePath, "", map[string]string{"If-None-Match": resp.Headers["ETag"]})
	if again.StatusCode != http.StatusOK {
		t.Errorf("page with If-None-Match: %d, want 200", again.StatusCode)
	}
}

func TestAssetAnswers(t *testing.T) {
	s := newTestSite(t)
	want := map[string]string{"app.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8",
		"icon.svg": "image/svg+xml"}
	for name, ct := range want {
		resp := serve(t, s, AssetPath, name, nil)
		if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != ct || resp.Body == "" {
			t.Errorf("%s: %d %q (%d bytes), want 200 %q", name, resp.StatusCode, resp.Headers["Content-Type"], len(resp.Body), ct)
		}
		checkSecurityHeaders(t, name, resp.Headers)
		etag := resp.Headers["ETag"]
		if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) || resp.Headers["Cache-Control"] != "no-cache" {
			t.Errorf("%s: ETag %q, Cache-Control %q", name, etag, resp.Headers["Cache-Control"])
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			if r := serve(t, s, AssetPath, name, map[string]string{"if-none-match": inm}); r.StatusCode != http.StatusNotModified || r.Body != "" {
				t.Errorf("%s with If-None-Match %s: %d, want 304 without body", name, inm, r.StatusCode)
			}
		}
		if r := serve(t, s, AssetPath, name, map[string]string{"If-None-Match": `"0123"`}); r.StatusCode != http.StatusOK {
			t.Errorf("%s with another ETag: %d, want 200", name, r.StatusCode)
		}
	}
	for _, name := range []string{"index.html", "missing.js", "../console.go", ""} {
		resp := serve(t, s, AssetPath, name, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("asset %q: %d, want 404", name, resp.StatusCode)
		}
		checkSecurityHeaders(t, "404 "+name, resp.Headers)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(ContentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "frame-ancestors": "'none'",
		"base-uri": "'none'", "form-action": "'none'", "connect-src": "'self'", "img-src": "'self' blob:",
		"require-trusted-types-for": "'script'", "trusted-types": "'none'",
	} {
		if directives[name] != want {
			t.Errorf("CSP %s = %q, want %q", name, directives[name], want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "unsafe-hashes", "data:", "*"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("CSP allows %s", bad)
		}
	}
}

// TestPageHasNoInlineCode checks the HTML the page is served as: scripts only by src (none inline), no style
// elements or attributes, no event handler attributes, no javascript: URLs. The CSP would block them; this keeps
// them from being written at all.
func TestPageHasNoInlineCode(t *testing.T) {
	page := newTestSite(t).Page()
	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(scripts) != 1 {
		t.Errorf("%d script elements, want 1 (the module app.js)", len(scripts))
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], `src="console/`) || strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script: <script%s>%s</script>", s[1], s[2])
		}
	}
	if n := strings.Count(strings.ToLower(page), "<script"); n != len(scripts) {
		t.Errorf("%d <script tags, %d well-formed script elements", n, len(scripts))
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<style\b`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
	} {
		if m := re.FindString(page); m != "" {
			t.Errorf("page contains %q", m)
		}
	}
}

// TestScriptsUseNoHTMLSinks scans the console's scripts for the ways of turning a string into markup or code.
// Every stored string is rendered with text nodes (dom.js); the CSP's Trusted Types make these throw in the
// browser as well.
func TestScriptsUseNoHTMLSinks(t *testing.T) {
	s := newTestSite(t)
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|` +
		`setAttribute\(\s*['"]on|\.style\.|createContextualFragment|DOMParser|srcdoc`)
	n := 0
	for _, name := range s.Assets() {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		n++
		for i, line := range strings.Split(s.assets[name].body, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if m := sinks.FindString(line); m != "" {
				t.Errorf("%s:%d uses %s: %s", name, i+1, m, strings.TrimSpace(line))
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d scripts scanned", n)
	}
}

// TestReferencedFilesExist checks that every asset the page names and every module a script imports is served.
func TestReferencedFilesExist(t *testing.T) {
	s := newTestSite(t)
	have := map[string]bool{}
	for _, name := range s.Assets() {
		have[name] = true
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="console/([^"]+)"`).FindAllStringSubmatch(s.Page(), -1) {
		if !have[m[1]] {
			t.Errorf("the page names console/%s, which is not served", m[1])
		}
	}
	imports := regexp.MustCompile(`(?m)^import [^;]*from '\./([^']+)';`)
	used := map[string]bool{"app.js": true}
	for _, name := range s.Assets() {
		for _, m := range imports.FindAllStringSubmatch(s.assets[name].body, -1) {
			used[m[1]] = true
			if !have[m[1]] {
				t.Errorf("%s imports ./%s, which is not served", name, m[1])
			}
		}
	}
	for _, name := range s.Assets() {
		if strings.HasSuffix(name, ".js") && !used[name] {
			t.Errorf("%s is served but neither the page nor a module uses it", name)
		}
	}
}

func TestNewSiteRefusesBrokenAssets(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no page":           {"assets/app.js": {Data: []byte("x")}},
		"unknown extension": {"assets/index.html": {Data: []byte("<!doctype html>")}, "assets/data.bin": {Data: []byte{0}}},
		"no assets folder":  {"index.html": {Data: []byte("<!doctype html>")}},
	} {
		if _, err := newSite(fsys); err == nil {
			t.Errorf("%s: newSite accepted it", name)
		}
	}
}

// TestHSTS (docs/security.md, "Response headers"): behind an https issuer every console answer - the page that
// takes the admin API key, its assets, a missing asset - carries Strict-Transport-Security like the other
// functions' answers; API Gateway adds none to a function's answer, so the console's own router must.
func TestHSTS(t *testing.T) {
	s := newTestSite(t)
	for _, hsts := range []bool{true, false} {
		r := s.Router(slog.New(slog.NewTextHandler(io.Discard, nil)), apigw.WithHSTS(hsts))
		for _, req := range []apigw.Request{
			{HTTPMethod: http.MethodGet, Resource: PagePath, Path: "/console"},
			{HTTPMethod: http.MethodGet, Resource: AssetPath, Path: "/console/app.js", PathParameters: map[string]string{"asset": "app.js"}},
			{HTTPMethod: http.MethodGet, Resource: AssetPath, Path: "/console/nope.js", PathParameters: map[string]string{"asset": "nope.js"}},
		} {
			resp, err := r.ServeEvent(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			got, want := resp.Headers["Strict-Transport-Security"], ""
			if hsts {
				want = apigw.HSTSValue
			}
			if got != want {
				t.Errorf("HSTS %v, %s (%d): Strict-Transport-Security %q, want %q", hsts, req.Path, resp.StatusCode, got, want)
			}
			checkSecurityHeaders(t, req.Path, resp.Headers)
		}
	}
}
