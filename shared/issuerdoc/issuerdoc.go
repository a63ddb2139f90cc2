// Package issuerdoc fetches other credential issuers' documents when a holder presents their credentials: the JWT
// VC issuer metadata (/.well-known/jwt-vc-issuer, SD-JWT VC section 5) with its keys, and status list tokens. It is
// an adapter over an HTTP client that the caller builds SSRF-safe (shared/delivery.NewHTTPClient: public addresses
// only outside local runs, no redirects, timeouts); each fetch is bounded in time and size, and answers are kept in
// a per-container cache for a short time, so a burst of presentations of one issuer costs one fetch.
package issuerdoc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Limits and cache lifetimes.
const (
	// MaxDocumentBytes bounds a metadata document or a JWKS.
	MaxDocumentBytes = 64 << 10
	// MaxStatusListBytes bounds a status list token.
	MaxStatusListBytes = 1 << 20
	// MetadataTTL is how long issuer keys are kept.
	MetadataTTL = 5 * time.Minute
	// StatusListMaxTTL caps how long a status list token is kept (its Cache-Control max-age when shorter; a
	// revocation at another issuer is seen within this time).
	StatusListMaxTTL = time.Minute
	// StatusListDefaultTTL is how long a token without max-age is kept.
	StatusListDefaultTTL = 30 * time.Second
	// DefaultTimeout bounds one fetch.
	DefaultTimeout = 5 * time.Second
	// maxEntries bounds the cache.
	maxEntries = 512
)

// Doer sends HTTP requests (an *http.Client from delivery.NewHTTPClient).
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Client fetches and caches issuer documents. Safe for concurrent use; keep one per container.
type Client struct {
	http    Doer
	timeout time.Duration
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	keys    jwk.Set
	token   string
	expires time.Time
}

// New returns a Client over doer; timeout <= 0 is DefaultTimeout, now nil is time.Now.
func New(doer Doer, timeout time.Duration, now func() time.Time) (*Client, error) {
	if doer == nil {
		return nil, errors.New("new issuer document client: HTTP client is required")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if now == nil {
		now = time.Now
	}
	return &Client{http: doer, timeout: timeout, now: now, cache: map[string]entry{}}, nil
}

// MetadataURL is where the JWT VC issuer metadata of issuer is: /.well-known/jwt-vc-issuer inserted between the
// host and the path of the issuer identifier.
func MetadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || !fetchable(u) || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("the issuer identifier is not an https URL without query or fragment (http only on loopback)")
	}
	u.Path = "/.well-known/jwt-vc-issuer" + strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// IssuerKeys returns the public keys of issuer from its JWT VC issuer metadata: the document's issuer must equal
// issuer, and its keys come from jwks or from jwks_uri (fetched the same way); private key material is refused.
func (c *Client) IssuerKeys(ctx context.Context, issuer string) (jwk.Set, error) {
	if e, ok := c.cached("keys " + issuer); ok {
		return e.keys, nil
	}
	mu, err := MetadataURL(issuer)
	if err != nil {
		return nil, err
	}
	body, _, err := c.get(ctx, mu, "application/json", MaxDocumentBytes)
	if err != nil {
		return nil, fmt.Errorf("JWT VC issuer metadata: %w", err)
	}
	var md struct {
		Issuer  string         `json:"issuer"`
		JWKS    jsontext.Value `json:"jwks"`
		JWKSURI string         `json:"jwks_uri"`
	}
	if err := strictjson.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("JWT VC issuer metadata is not a JSON object of the expected members (%v)", err)
	}
	if md.Issuer != issuer {
		return nil, errors.New("JWT VC issuer metadata names another issuer")
	}
	raw := []byte(md.JWKS)
	switch {
	case len(raw) > 0 && md.JWKSURI != "":
		return nil, errors.New("JWT VC issuer metadata has both jwks and jwks_uri")
	case len(raw) == 0 && md.JWKSURI == "":
		return nil, errors.New("JWT VC issuer metadata has neither jwks nor jwks_uri")
	case len(raw) == 0:
		if u, err := url.Parse(md.JWKSURI); err != nil || !fetchable(u) {
			return nil, errors.New("JWT VC issuer metadata's jwks_uri is not an https URL (http only on loopback)")
		}
		if raw, _, err = c.get(ctx, md.JWKSURI, "application/json", MaxDocumentBytes); err != nil {
			return nil, fmt.Errorf("jwks_uri: %w", err)
		}
	}
	set, err := jwk.Parse(raw)
	if err != nil || set.Len() == 0 {
		return nil, errors.New("the issuer's JWKS holds no valid key")
	}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		if _, isPrivate := k.(interface{ D() []byte }); isPrivate || k.KeyType() == "oct" {
			return nil, errors.New("the issuer's JWKS holds private or symmetric key material")
		}
	}
	c.store("keys "+issuer, entry{keys: set, expires: c.now().Add(MetadataTTL)})
	return set, nil
}

// StatusListToken returns the status list token at uri (application/statuslist+jwt), kept for its Cache-Control
// max-age, at most StatusListMaxTTL.
func (c *Client) StatusListToken(ctx context.Context, uri string) (string, error) {
	if e, ok := c.cached("status " + uri); ok {
		return e.token, nil
	}
	if u, err := url.Parse(uri); err != nil || !fetchable(u) {
		return "", errors.New("the status list uri is not an https URL (http only on loopback)")
	}
	body, maxAge, err := c.get(ctx, uri, "application/statuslist+jwt", MaxStatusListBytes)
	if err != nil {
		return "", fmt.Errorf("status list: %w", err)
	}
	token := strings.TrimSpace(string(body))
	ttl := StatusListDefaultTTL
	if maxAge >= 0 {
		ttl = min(maxAge, StatusListMaxTTL)
	}
	if ttl > 0 {
		c.store("status "+uri, entry{token: token, expires: c.now().Add(ttl)})
	}
	return token, nil
}

// fetchable reports whether u may be fetched: https, or plain http to a loopback host (a local run; the SSRF-safe
// client refuses loopback outside local runs). Keys or status lists in the clear would be whoever's on the path.
func fetchable(u *url.URL) bool {
	switch {
	case u.Host == "" || u.User != nil:
		return false
	case u.Scheme == "https":
		return true
	}
	return u.Scheme == "http" && validation.Loopback(u.Hostname())
}

// get fetches target and returns its body (at most limit bytes) and its Cache-Control max-age (-1 when absent).
// Errors say what failed without quoting the answer.
func (c *Client) get(ctx context.Context, target, accept string, limit int64) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, 0, errors.New("the URL cannot be requested")
	}
	req.Header.Set("Accept", accept)
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, errors.New("timed out")
		}
		return nil, 0, errors.New("the request failed (unreachable, or not a public address)")
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, 0, errors.New("the answer could not be read")
	}
	if int64(len(body)) > limit {
		return nil, 0, fmt.Errorf("the answer is larger than %d bytes", limit)
	}
	return body, maxAge(res.Header.Get("Cache-Control")), nil
}

// maxAge reads max-age from a Cache-Control header; no-store and no-cache are 0, absent -1.
func maxAge(cc string) time.Duration {
	out := time.Duration(-1)
	for _, d := range strings.Split(cc, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "no-store" || d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			if n, err := strconv.Atoi(strings.TrimPrefix(d, "max-age=")); err == nil && n >= 0 {
				out = time.Duration(n) * time.Second
			}
		}
	}
	return out
}

func (c *Client) cached(key string) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[key]
	if !ok || !c.now().Before(e.expires) {
		delete(c.cache, key)
		return entry{}, false
	}
	return e, true
}

func (c *Client) store(key string, e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxEntries {
		now := c.now()
		for k, old := range c.cache {
			if !now.Before(old.expires) {
				delete(c.cache, k)
			}
		}
		if len(c.cache) >= maxEntries {
			clear(c.cache)
		}
	}
	c.cache[key] = e
}
