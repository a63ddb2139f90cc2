// Package console serves the operators' web console: GET /console answers one static page, GET /console/{asset}
// its scripts and style sheet, all embedded in the binary (no build step, no CDN). The page runs in the browser
// and calls only the admin API with the key the operator types in, so the function serving it needs no table,
// key or bus: it holds no data and no secret.
//
// Every answer carries a Content-Security-Policy that allows scripts and styles from this origin only (no inline
// script, no inline style, no eval), Trusted Types so that no string can reach an HTML sink, and no framing.
// The page renders every stored string as text (textContent), never as markup.
package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

// Routes of the console (API Gateway resource paths, as in template.yaml).
const (
	PagePath  = "/console"
	AssetPath = "/console/{asset}"
)

// ContentSecurityPolicy is the policy of every console answer: nothing is allowed unless named; scripts, styles,
// images and API calls come from this origin only (the QR code is a blob: URL of the PNG the admin API answers);
// no inline script or style, no plugins, no base URL change, no form submission to anywhere, no framing;
// Trusted Types are required for script sinks and no policy may be created, so assigning a string to innerHTML
// and the like throws instead of parsing markup.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// securityHeaders are set on every console answer, errors included.
var securityHeaders = map[string]string{
	"Content-Security-Policy":      ContentSecurityPolicy,
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"X-Frame-Options":              "DENY",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

// SecurityHeaders returns a copy of the headers every console answer carries.
func SecurityHeaders() map[string]string {
	out := make(map[string]string, len(securityHeaders))
	for k, v := range securityHeaders {
		out[k] = v
	}
	return out
}

//go:embed assets
var embedded embed.FS

// indexFile is the page served at PagePath; every other embedded file is an asset.
const indexFile = "index.html"

// contentTypes are the media types of the asset kinds the console ships; other files are not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// file is one embedded file with what its answers need.
type file struct {
	body        string
	contentType string
	etag        string
}

// Site is the set of embedded files, read once.
type Site struct {
	page   file
	assets map[string]file
}

// NewSite reads the embedded page and assets.
func NewSite() (*Site, error) {
	return newSite(embedded)
}

func newSite(fsys fs.FS) (*Site, error) {
	sub, err := fs.Sub(fsys, "assets")
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	s := &Site{assets: map[string]file{}}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			return nil, fmt.Errorf("console asset %s: no content type for its extension", e.Name())
		}
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			return nil, fmt.Errorf("console asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		f := file{body: string(b), contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		if e.Name() == indexFile {
			s.page = f
			continue
		}
		s.assets[e.Name()] = f
	}
	if s.page.body == "" {
		return nil, fmt.Errorf("console assets: no %s", indexFile)
	}
	return s, nil
}

// Assets lists the names of the files served under /console/, sorted.
func (s *Site) Assets() []string {
	out := make([]string, 0, len(s.assets))
	for name := range s.assets {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Page returns the HTML of the page (tests check it for inline script).
func (s *Site) Page() string { return s.page.body }

// Router returns the ConsoleFunction's router: GET /console and GET /console/{asset}, public (the page holds no
// data; the admin API it calls checks the key). opts add to the logger, e.g. apigw.WithHSTS for an https issuer.
func (s *Site) Router(log *slog.Logger, opts ...apigw.RouterOption) *apigw.Router {
	r := apigw.NewRouter("console", append([]apigw.RouterOption{apigw.WithLogger(log)}, opts...)...)
	r.Handle(http.MethodGet, PagePath, apigw.Public, s.servePage)
	r.Handle(http.MethodGet, AssetPath, apigw.Public, s.serveAsset)
	return r
}

func (s *Site) servePage(_ context.Context, req *apigw.Request) (apigw.Response, error) {
	// The page is a few kilobytes and names its assets by relative URL: never cached, so a deployment's new
	// page and assets are used together.
	return answer(req, s.page, "no-store"), nil
}

func (s *Site) serveAsset(_ context.Context, req *apigw.Request) (apigw.Response, error) {
	name := req.PathParameters["asset"]
	f, ok := s.assets[name]
	if !ok {
		resp := apigw.Raw(http.StatusNotFound, "text/plain; charset=utf-8",
			"no such console file; open /console\n", headerList(SecurityHeaders())...)
		return resp, nil
	}
	// Revalidated on every use (ETag): a new deployment's assets are picked up at once.
	return answer(req, f, "no-cache"), nil
}

// answer is f with the security headers, its ETag and cache policy, or 304 when the client holds that version.
func answer(req *apigw.Request, f file, cacheControl string) apigw.Response {
	headers := SecurityHeaders()
	headers["Cache-Control"] = cacheControl
	headers["ETag"] = f.etag
	if cacheControl != "no-store" && etagMatches(apigw.Header(req, "If-None-Match"), f.etag) {
		return apigw.Response{StatusCode: http.StatusNotModified, Headers: headers}
	}
	return apigw.Raw(http.StatusOK, f.contentType, f.body, headerList(headers)...)
}

// etagMatches reports whether an If-None-Match header names etag (or is *).
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}

func headerList(m map[string]string) []string {
	out := make([]string, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}
