package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigV4Window is how far a SigV4 request's X-Amz-Date may be from now (AWS allows 15 minutes; locally 5 keep a
// captured request short-lived).
const sigV4Window = 5 * time.Minute

// WithAdminKey sets the key the local-only endpoints (PutEvents, GET /_local/events) require: sent as
// `Authorization: ApiKey <key>`, or used as the secret access key of an AWS SigV4-signing client (any
// EventBridge SDK client). Without it those endpoints refuse every request.
func WithAdminKey(key string) Option { return func(g *Gateway) { g.adminKey = key } }

// WithIssuerURL names the issuer URL: its host is accepted in the Host header besides loopback names, and an
// https issuer makes every response carry Strict-Transport-Security.
func WithIssuerURL(issuerURL string) Option {
	return func(g *Gateway) {
		u, err := url.Parse(issuerURL)
		if err != nil || u.Hostname() == "" {
			return
		}
		g.hosts = append(g.hosts, strings.ToLower(u.Hostname()))
		g.hsts = u.Scheme == "https"
	}
}

// securityHeaders are on every answer of the gateway, its own errors included.
func (g *Gateway) securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	if g.hsts {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// hostAllowed says whether a request's Host names this server: a loopback address, localhost, or the issuer
// URL's host (any port). Anything else is a name an attacker pointed at 127.0.0.1 (DNS rebinding) or a
// misdirected request.
func (g *Gateway) hostAllowed(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.ToLower(strings.TrimSuffix(strings.Trim(name, "[]"), "."))
	if name == "" {
		return false
	}
	if name == "localhost" {
		return true
	}
	if strings.ContainsAny(name, ".:") {
		if ip, err := netip.ParseAddr(name); err == nil {
			return ip.Unmap().IsLoopback()
		}
	}
	for _, h := range g.hosts {
		if name == h {
			return true
		}
	}
	return false
}

// localAuthorized says whether r (with its body) carries the admin key. Both checks compare in constant time.
func (g *Gateway) localAuthorized(r *http.Request, body []byte) bool {
	if g.adminKey == "" {
		return false
	}
	auth := r.Header.Get("Authorization")
	if key, ok := strings.CutPrefix(auth, "ApiKey "); ok {
		return subtle.ConstantTimeCompare([]byte(key), []byte(g.adminKey)) == 1
	}
	return g.sigV4Valid(r, body)
}

// sigV4Auth is the content of a SigV4 Authorization header.
type sigV4Auth struct {
	accessKey, date, region, service, signedHeaders, signature string
}

// parseSigV4 reads `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
// SignedHeaders=<a;b>, Signature=<hex>`; ok is false for anything else.
func parseSigV4(header string) (a sigV4Auth, ok bool) {
	rest, found := strings.CutPrefix(header, "AWS4-HMAC-SHA256 ")
	if !found {
		return a, false
	}
	var cred string
	for _, part := range strings.Split(rest, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			return a, false
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		default:
			return a, false
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || a.signedHeaders == "" || a.signature == "" {
		return a, false
	}
	a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	return a, true
}

// sigV4Valid recomputes the request's SigV4 signature with the admin key as the secret access key (the AWS
// SDK's own signer, over the headers the client signed and the body received) and compares it with the one
// sent. The signature must be recent (sigV4Window).
func (g *Gateway) sigV4Valid(r *http.Request, body []byte) bool {
	got, ok := parseSigV4(r.Header.Get("Authorization"))
	if !ok {
		return false
	}
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || signedAt.Format("20060102") != got.date {
		return false
	}
	if d := g.now().Sub(signedAt); d > sigV4Window || d < -sigV4Window {
		return false
	}
	clone, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return false
	}
	clone.Host = r.Host
	for _, name := range strings.Split(got.signedHeaders, ";") {
		switch name {
		case "host":
		case "content-length":
			clone.ContentLength = int64(len(body))
		default:
			for _, v := range r.Header.Values(name) {
				clone.Header.Add(name, v)
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: got.accessKey, SecretAccessKey: g.adminKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, clone, hex.EncodeToString(sum[:]),
		got.service, got.region, signedAt); err != nil {
		return false
	}
	want, ok := parseSigV4(clone.Header.Get("Authorization"))
	return ok && want.signedHeaders == got.signedHeaders &&
		hmac.Equal([]byte(want.signature), []byte(got.signature))
}
