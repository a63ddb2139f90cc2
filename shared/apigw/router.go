// Package apigw turns API Gateway proxy events into handler calls and handler results into proxy responses:
// routing on (method, resource), admin API key checks, body size limits, JSON errors of both styles (admin and
// OAuth) and one structured log line per request. It holds no business logic.
package apigw

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/awscalls"
)

// HandlerFunc handles one routed request.
type HandlerFunc func(ctx context.Context, req *Request) (Response, error)

// Access says who may call a route.
type Access int

const (
	// Public routes are called by wallets and answer OAuth-style errors.
	Public Access = iota
	// Admin routes require `Authorization: ApiKey <key>` and answer admin-style errors.
	Admin
)

type route struct {
	method, resource string
	access           Access
	handler          HandlerFunc
	// maxBody is the route's body bound (MaxBodyBytes unless MaxBody says otherwise).
	maxBody int
}

// RouteOption configures one route.
type RouteOption func(*route)

// MaxBody sets a route's body bound instead of MaxBodyBytes, for a route whose protocol carries more (the
// OpenID4VP response endpoint). API Gateway takes 10 MB and a synchronous Lambda invocation 6 MB (base64 of the
// body, as BinaryMediaTypes */* delivers it, with the rest of the event): keep n well below 4 MB.
func MaxBody(n int) RouteOption { return func(r *route) { r.maxBody = n } }

// Router dispatches proxy events to the handlers registered for their method and resource path.
type Router struct {
	name   string
	routes map[string]route
	keys   *APIKeys
	log    *slog.Logger
	now    func() time.Time
	hsts   bool
	cors   bool
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// WithLogger sets the logger of the per-request log line.
func WithLogger(l *slog.Logger) RouterOption { return func(r *Router) { r.log = l } }

// WithAPIKeys sets the keys admin routes accept.
func WithAPIKeys(k *APIKeys) RouterOption { return func(r *Router) { r.keys = k } }

// WithHSTS makes every response carry Strict-Transport-Security (set it when the issuer URL is https).
func WithHSTS(on bool) RouterOption { return func(r *Router) { r.hsts = on } }

// WithCORS makes every answer of the router's public routes readable by any origin (the public documents and the
// wallet endpoints; never the console, which is same-origin, and never admin routes).
func WithCORS(on bool) RouterOption { return func(r *Router) { r.cors = on } }

// HSTSValue is the Strict-Transport-Security of an https issuer: one year, subdomains not included (the issuer
// does not own its parent domain's other hosts).
const HSTSValue = "max-age=31536000"

// WithClock sets the clock used to measure latency (tests).
func WithClock(now func() time.Time) RouterOption { return func(r *Router) { r.now = now } }

// NewRouter builds an empty router; name identifies the function in log lines.
func NewRouter(name string, opts ...RouterOption) *Router {
	r := &Router{name: name, routes: map[string]route{}, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

func routeKey(method, resource string) string { return strings.ToUpper(method) + " " + resource }

// Handle registers h for method and the API Gateway resource path (as in template.yaml, with {params}).
func (r *Router) Handle(method, resource string, access Access, h HandlerFunc, opts ...RouteOption) {
	rt := route{method: strings.ToUpper(method), resource: resource, access: access, handler: h, maxBody: MaxBodyBytes}
	for _, o := range opts {
		o(&rt)
	}
	r.routes[routeKey(method, resource)] = rt
}

// Routes lists the registered routes as "METHOD /resource", sorted; tests compare them with template.yaml.
func (r *Router) Routes() []string {
	out := make([]string, 0, len(r.routes))
	for k := range r.routes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ServeEvent is the Lambda handler: it routes one proxy event and always answers a proxy response.
func (r *Router) ServeEvent(ctx context.Context, req Request) (resp Response, err error) {
	start := r.now()
	ctx, calls := awscalls.WithCounter(ctx)
	rt, found := r.routes[routeKey(req.HTTPMethod, req.Resource)]
	style := OAuthErrors
	if found && rt.access == Admin || !found && strings.HasPrefix(req.Resource, "/v2/") {
		style = AdminErrors
	}
	var herr *Error
	defer func() {
		if p := recover(); p != nil {
			herr = asError(fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
			resp = errorResponse(style, herr)
			err = nil
		}
		r.securityHeaders(resp.Headers)
		if r.cors && found && rt.access == Public {
			corsHeaders(resp.Headers)
		}
		r.logRequest(ctx, &req, resp.StatusCode, start, calls, herr)
	}()
	switch {
	case !found:
		herr = r.notFoundOrMethod(req)
	case bodyTooLarge(&req, rt.maxBody):
		herr = Errorf(http.StatusRequestEntityTooLarge, "invalid_request",
			"the request body is larger than %d KiB; send less data per request", rt.maxBody>>10)
	case rt.access == Admin && !r.keys.Allowed(Header(&req, "Authorization")):
		herr = Errorf(http.StatusUnauthorized, "invalid_client",
			"missing or wrong admin API key; send the header `Authorization: ApiKey <key>`")
		herr.Headers = map[string]string{"WWW-Authenticate": `ApiKey realm="admin"`}
	default:
		resp, err = rt.handler(ctx, &req)
		if err != nil {
			herr = asError(err)
		}
	}
	if herr != nil {
		resp = errorResponse(style, herr)
		return resp, nil
	}
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	return resp, nil
}

// securityHeaders adds the headers every response carries: nosniff (no browser turns a JSON body into markup)
// and, for an https issuer, HSTS.
func (r *Router) securityHeaders(h map[string]string) {
	if h == nil {
		return
	}
	h["X-Content-Type-Options"] = "nosniff"
	if r.hsts {
		h["Strict-Transport-Security"] = HSTSValue
	}
}

// CORSExposeHeaders are the response headers a browser wallet or web verifier may read besides the simple ones.
const CORSExposeHeaders = "DPoP-Nonce, WWW-Authenticate, ETag, Retry-After"

// corsHeaders lets any origin read a public route's answer (CORS, routers built WithCORS): the public documents
// and the wallet endpoints hold nothing a cross-origin page could abuse (no cookies; wallets authenticate with
// tokens and proofs). Their preflights are answered by API Gateway (template.yaml); admin routes never carry these
// headers.
func corsHeaders(h map[string]string) {
	if h == nil {
		return
	}
	h["Access-Control-Allow-Origin"] = "*"
	h["Access-Control-Expose-Headers"] = CORSExposeHeaders
}

func (r *Router) notFoundOrMethod(req Request) *Error {
	var allowed []string
	for _, rt := range r.routes {
		if rt.resource == req.Resource {
			allowed = append(allowed, rt.method)
		}
	}
	if len(allowed) > 0 {
		sort.Strings(allowed)
		// Neither the method nor the path the client sent is echoed (docs/security.md): the resource is the
		// route's own template path.
		e := Errorf(http.StatusMethodNotAllowed, "invalid_request", "this method is not allowed on %s; use %s",
			req.Resource, strings.Join(allowed, ", "))
		e.Headers = map[string]string{"Allow": strings.Join(allowed, ", ")}
		return e
	}
	return Errorf(http.StatusNotFound, "not_found", "no route for this method and path; see docs/openapi.yaml and the issuer metadata for the endpoints")
}

func (r *Router) logRequest(ctx context.Context, req *Request, status int, start time.Time, calls *awscalls.Counter, herr *Error) {
	attrs := []slog.Attr{
		slog.String("function", r.name),
		slog.String("request_id", req.RequestContext.RequestID),
		slog.String("route", req.HTTPMethod+" "+req.Resource),
		slog.Int("status", status),
		slog.Float64("latency_ms", float64(r.now().Sub(start).Microseconds())/1000),
		slog.Int("aws_calls", calls.Total()),
	}
	level := slog.LevelInfo
	if herr != nil {
		attrs = append(attrs, slog.String("error", describe(herr)))
		if herr.Status >= 500 {
			level = slog.LevelError
			if herr.cause != nil {
				// Causes of 5xx are our own errors (AWS, encoding); they never carry request data.
				attrs = append(attrs, slog.String("cause", herr.cause.Error()))
			}
		}
	}
	r.log.LogAttrs(ctx, level, "request", attrs...)
}
