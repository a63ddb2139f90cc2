// Package gateway is the local API Gateway and the local EventBridge of `make run` and the end-to-end tests.
//
// Gateway turns each HTTP request into the API Gateway REST API (v1) proxy event that template.yaml's route
// would produce, invokes the function's Lambda handler in-process, and writes the proxy response back. It
// behaves like API Gateway where a client can tell:
//   - an unknown path answers 404 {"message":"Missing Authentication Token"} (API Gateway answers 403 there;
//     locally a 404 makes a mistyped URL obvious), a known path with a method it does not have answers 403 with
//     the same message, exactly as API Gateway does;
//   - a function error or a malformed proxy response answers 502 {"message":"Internal server error"}, a function
//     slower than the integration timeout (29 s) answers 504 {"message":"Endpoint request timed out"};
//   - request bodies over 10 MB answer 413 {"message":"Request Too Long"};
//   - every response carries x-amzn-RequestId, the requestContext.requestId the function saw;
//   - CORS preflights (OPTIONS) of the paths the template's DefinitionBody gives a mock options method are
//     answered from that mock (WithPreflights), without invoking a function.
//
// Path parameters are passed as the client encoded them, and the query string decoded, as the REST API does.
//
// The same server answers the EventBridge PutEvents API (POST / with X-Amz-Target: AWSEvents.PutEvents, what
// the AWS SDK sends when AWS_ENDPOINT_URL_EVENTBRIDGE points here): it records every event (Events, and
// GET /_local/events), and delivers those matching the template's EventBridge rules to their function
// asynchronously as an EventBridge event, retrying failed invocations with backoff.
//
// With WithTableStream it also plays Lambda's event source mapping of the template's DynamoDB stream sources
// (streams.go): it polls the table's stream in DynamoDB Local and invokes the mapped function (the publisher) with
// the DynamoDBEvent Lambda would send, so the events of committed writes reach the local bus as on AWS.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sdjwt-issuer/issuer/infra/template"
)

// Limits and defaults of the emulated services.
const (
	// MaxBodyBytes is API Gateway's payload limit (10 MB).
	MaxBodyBytes = 10 << 20
	// DefaultIntegrationTimeout is API Gateway's default (and maximum) Lambda integration timeout.
	DefaultIntegrationTimeout = 29 * time.Second
	// DefaultStage is the stage name put in requestContext.stage.
	DefaultStage = "local"
	// DefaultAccountID is the account in requestContext and in EventBridge events.
	DefaultAccountID = "111122223333"
	// DefaultRegion is the region of EventBridge events and function ARNs.
	DefaultRegion = "us-east-1"
	// DefaultMaxEvents bounds the recorded EventBridge events; the oldest are dropped first.
	DefaultMaxEvents = 1000
	// DefaultDeliveryAttempts is how often an event is offered to a failing function: once plus two retries, like
	// Lambda's asynchronous invocation.
	DefaultDeliveryAttempts = 3
	// DefaultDeliveryBackoff is the wait before the first retry; each further retry waits twice as long. Lambda
	// waits about a minute; locally a second keeps tests and demos quick.
	DefaultDeliveryBackoff = time.Second
	// EventsPath lists the recorded EventBridge events as JSON.
	EventsPath = "/_local/events"
	// RequestIDHeader carries the request id in every response.
	RequestIDHeader = "x-amzn-RequestId"
	// PutEventsTarget is the X-Amz-Target of EventBridge's PutEvents.
	PutEventsTarget = "AWSEvents.PutEvents"
)

// Gateway is the local API Gateway and EventBridge; it is an http.Handler. Close it to stop event deliveries.
type Gateway struct {
	routes    *routeTable
	functions map[string]lambda.Handler
	rules     []eventRule
	err       error
	log       *slog.Logger
	now       func() time.Time

	stage, accountID, region string
	basePath                 string
	timeout                  time.Duration
	maxEvents                int
	attempts                 int
	backoff                  time.Duration
	adminKey                 string
	hosts                    []string
	hsts                     bool
	preflights               map[string]template.Preflight

	// The stream event source mappings (streams.go).
	streamCfg      *aws.Config
	streamTable    string
	streamSources  []template.StreamSource
	streamBackoff  time.Duration
	checkpointPath string
	pollers        []*streamPoller
	streamsWrap    func(StreamsAPI) StreamsAPI // tests: what the pollers read the stream through
	flushDDB       *dynamodb.Client            // writes FlushStreams' markers
	flushKeys      []string                    // the table's key attribute names (partition, then sort)
	flushPrefix    string                      // the partition key prefix of this gateway's markers
	flushSeq       atomic.Uint64
	checkpointMu   sync.Mutex
	checkpoints    map[string]checkpoint

	mu             sync.Mutex
	streamFailures []StreamFailure
	events         []*RecordedEvent
	recorded       chan struct{} // closed (and replaced) whenever an event is recorded: WaitEvents wakes on it
	pending        int
	closed         bool
	closing        chan struct{}
	inflight       sync.WaitGroup
	running        int           // handler invocations not yet returned, including those given up on after the timeout
	idle           chan struct{} // closed when running drops to zero
}

// Option configures a Gateway.
type Option func(*Gateway)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(g *Gateway) { g.log = l } }

// WithStage sets requestContext.stage (default DefaultStage).
func WithStage(stage string) Option { return func(g *Gateway) { g.stage = stage } }

// WithBasePath serves the API under base (e.g. "/prod", the path of an ISSUER_URL like
// https://host/prod), as API Gateway serves a stage at https://ID.execute-api.REGION.amazonaws.com/prod or a
// custom domain's base path mapping does: a request under base reaches the route of the rest of its path. Outside
// base, only the issuer's path-inserted well-known locations are served (/.well-known/<name>/prod, OID4VCI 1.0
// section 12.2.2), as by a host whose root forwards its /.well-known/ space to the API; everything else is not
// found. Empty (the default): the API at the root.
func WithBasePath(base string) Option {
	return func(g *Gateway) { g.basePath = strings.TrimRight(base, "/") }
}

// WithAccount sets the account id and region of requestContext, EventBridge events and function ARNs.
func WithAccount(accountID, region string) Option {
	return func(g *Gateway) { g.accountID, g.region = accountID, region }
}

// WithIntegrationTimeout bounds each function invocation (default DefaultIntegrationTimeout).
func WithIntegrationTimeout(d time.Duration) Option { return func(g *Gateway) { g.timeout = d } }

// WithPreflights makes the gateway answer CORS preflights (OPTIONS) of the template's DefinitionBody itself, as
// API Gateway's mock integrations do: the configured status and headers, no body, no function invoked. An OPTIONS
// on any other path is answered like any method the resource lacks.
func WithPreflights(preflights []template.Preflight) Option {
	return func(g *Gateway) {
		g.preflights = map[string]template.Preflight{}
		for _, p := range preflights {
			g.preflights[p.Path] = p
		}
	}
}

// WithEventRules sets the EventBridge rules (template.EventRules) whose matching events are delivered.
func WithEventRules(rules []template.EventRule) Option {
	return func(g *Gateway) {
		g.rules = g.rules[:0]
		for _, r := range rules {
			g.rules = append(g.rules, eventRule{EventRule: r})
		}
	}
}

// eventRule is a template rule with its compiled pattern.
type eventRule struct {
	template.EventRule
	pattern eventPattern
}

// WithMaxEvents bounds how many EventBridge events are kept (default DefaultMaxEvents).
func WithMaxEvents(n int) Option { return func(g *Gateway) { g.maxEvents = n } }

// WithDeliveryRetry sets how many times an event is offered to a failing function and the first backoff.
func WithDeliveryRetry(attempts int, backoff time.Duration) Option {
	return func(g *Gateway) { g.attempts, g.backoff = attempts, backoff }
}

// WithClock sets the clock of request times and event times (tests).
func WithClock(now func() time.Time) Option { return func(g *Gateway) { g.now = now } }

// New builds a gateway serving routes (template.Routes) with functions keyed by logical ID (handlers.Lambda).
// It never fails: a route whose function is missing answers 502, a malformed route or rule is left out; both
// are logged here, and Err reports the malformed ones.
func New(routes []template.Route, functions map[string]lambda.Handler, opts ...Option) *Gateway {
	table, routeErr := newRouteTable(routes)
	g := &Gateway{
		routes: table, functions: functions, log: slog.Default(), now: time.Now,
		stage: DefaultStage, accountID: DefaultAccountID, region: DefaultRegion,
		timeout: DefaultIntegrationTimeout, maxEvents: DefaultMaxEvents,
		attempts: DefaultDeliveryAttempts, backoff: DefaultDeliveryBackoff, streamBackoff: DefaultStreamRetryBackoff,
		closing: make(chan struct{}), recorded: make(chan struct{}),
	}
	for _, o := range opts {
		o(g)
	}
	if g.attempts < 1 {
		g.attempts = 1
	}
	if g.maxEvents < 1 {
		g.maxEvents = 1
	}
	errs := []error{routeErr}
	rules := g.rules[:0]
	for _, rule := range g.rules {
		p, err := compilePattern(rule.Pattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %s of %s: %w", rule.EventName, rule.FunctionLogicalID, err))
			continue
		}
		rule.pattern = p
		rules = append(rules, rule)
	}
	g.rules = rules
	if err := g.startStreams(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		g.err = fmt.Errorf("local gateway: %w", err)
		g.log.Error("local gateway: configuration problems; the affected routes or rules are left out",
			slog.String("error", err.Error()))
	}
	if missing := g.MissingFunctions(); len(missing) > 0 {
		g.log.Warn("local gateway: functions of the template have no handler; their routes answer 502",
			slog.Any("functions", missing))
	}
	return g
}

// Err reports the routes and rules New left out because they are malformed; nil when all are served.
func (g *Gateway) Err() error { return g.err }

// MissingFunctions lists the functions that routes or rules name but that have no handler, sorted.
func (g *Gateway) MissingFunctions() []string {
	names := g.routes.functions()
	for _, r := range g.rules {
		names = append(names, r.FunctionLogicalID)
	}
	for _, s := range g.streamSources {
		names = append(names, s.FunctionLogicalID)
	}
	set := map[string]bool{}
	for _, n := range names {
		if _, ok := g.functions[n]; !ok {
			set[n] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Routes returns the routes the gateway serves, as given to New (less any malformed ones).
func (g *Gateway) Routes() []template.Route {
	out := make([]template.Route, 0, len(g.routes.routes))
	for _, r := range g.routes.routes {
		out = append(out, template.Route{Method: r.method, Path: r.resource, FunctionLogicalID: r.function})
	}
	return out
}

// Resolve reports which function serves method and path (an escaped URL path), and the matched resource; ok is
// false when no route matches.
func (g *Gateway) Resolve(method, path string) (function, resource string, ok bool) {
	resource, _, found := g.routes.resolve(path)
	if !found {
		return "", "", false
	}
	rt := g.routes.lookup(strings.ToUpper(method), resource)
	if rt == nil {
		return "", resource, false
	}
	return rt.function, resource, true
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.securityHeaders(w.Header())
	if !g.hostAllowed(r.Host) {
		// The Host is not echoed: it is whatever name the client (or a rebinding page) used.
		g.gatewayError(w, http.StatusForbidden, "ForbiddenException",
			"Host not served: use 127.0.0.1, localhost or the ISSUER_URL host")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.Header.Get("X-Amz-Target") != "":
		g.serveEventBridge(w, r)
	case r.URL.Path == EventsPath:
		g.serveRecordedEvents(w, r)
	default:
		g.serveAPI(w, r)
	}
}

func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request) {
	received := g.now()
	requestID := newID()
	w.Header().Set(RequestIDHeader, requestID)
	apiPath, escapedAPIPath, inAPI := g.apiPath(r.URL.Path, r.URL.EscapedPath())
	resource, params, found := g.routes.resolve(escapedAPIPath)
	if !inAPI || !found {
		g.gatewayError(w, http.StatusNotFound, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	if p, ok := g.preflights[resource]; ok && r.Method == http.MethodOptions {
		for k, v := range p.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(p.Status)
		return
	}
	rt := g.routes.lookup(r.Method, resource)
	if rt == nil {
		// API Gateway answers a method the resource does not define like an unknown path.
		g.gatewayError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			g.gatewayError(w, http.StatusRequestEntityTooLarge, "RequestTooLarge", "Request Too Long")
			return
		}
		g.gatewayError(w, http.StatusBadRequest, "BadRequestException", "Could not read the request body")
		return
	}
	ev := buildProxyEvent(r, body, requestInfo{requestID: requestID, resource: resource, params: params, path: apiPath,
		received: received, stage: g.stage, accountID: g.accountID, apiID: "local"})
	payload, err := json.Marshal(ev)
	if err != nil {
		g.log.Error("local gateway: encode proxy event", slog.String("request_id", requestID), slog.String("error", err.Error()))
		g.gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return
	}
	out, err := g.invoke(r.Context(), rt.function, requestID, payload)
	if err != nil {
		g.functionFailed(w, rt, requestID, err)
		return
	}
	resp, err := decodeProxyResponse(out)
	if err != nil {
		g.functionFailed(w, rt, requestID, err)
		return
	}
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	if w.Header().Get("Content-Type") == "" && len(resp.body) > 0 {
		// API Gateway labels a proxy response without a Content-Type as JSON; net/http would sniff instead.
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set(RequestIDHeader, requestID)
	w.WriteHeader(resp.status)
	if _, err := w.Write(resp.body); err != nil {
		g.log.Debug("local gateway: write response", slog.String("request_id", requestID), slog.String("error", err.Error()))
	}
	g.log.Debug("local gateway: request", slog.String("request_id", requestID),
		slog.String("route", rt.method+" "+rt.resource), slog.String("function", rt.function),
		slog.Int("status", resp.status), slog.Float64("latency_ms", float64(g.now().Sub(received).Microseconds())/1000))
}

// apiPath maps a request path (and its escaped form) to the path the API's routes see (WithBasePath); ok is
// false when the request lies outside the API.
func (g *Gateway) apiPath(path, escaped string) (apiPath, escapedAPIPath string, ok bool) {
	base := g.basePath
	switch {
	case base == "":
		return path, escaped, true
	case path == base || strings.HasPrefix(path, base+"/"):
		apiPath, escapedAPIPath = strings.TrimPrefix(path, base), strings.TrimPrefix(escaped, base)
		if apiPath == "" {
			apiPath, escapedAPIPath = "/", "/"
		}
		return apiPath, escapedAPIPath, strings.HasPrefix(escaped, base)
	case strings.HasPrefix(path, "/.well-known/") && strings.HasSuffix(path, base) && path == escaped:
		name := strings.TrimSuffix(strings.TrimPrefix(path, "/.well-known/"), base)
		return path, escaped, name != "" && !strings.Contains(name, "/")
	}
	return "", "", false
}

// errTimeout reports an invocation slower than the integration timeout.
var errTimeout = errors.New("function timed out")

// errNoFunction reports a route whose function has no handler.
var errNoFunction = errors.New("function has no handler")

// invoke calls a function's handler with a Lambda context, bounded by the integration timeout. A handler that
// outlives the timeout keeps running with a cancelled context, as nothing can stop it in-process.
func (g *Gateway) invoke(ctx context.Context, function, requestID string, payload []byte) ([]byte, error) {
	h, ok := g.functions[function]
	if !ok || h == nil {
		return nil, fmt.Errorf("%s: %w", function, errNoFunction)
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", g.region, g.accountID, function),
	})
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	g.invocationStarted()
	go func() {
		var res result
		defer g.invocationEnded()
		defer func() {
			if p := recover(); p != nil {
				res = result{err: fmt.Errorf("function %s panicked: %v", function, p)}
			}
			done <- res
		}()
		res.out, res.err = h.Invoke(ctx, payload)
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, fmt.Errorf("invoke %s: %w", function, res.err)
		}
		return res.out, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("invoke %s after %s: %w", function, g.timeout, errTimeout)
		}
		return nil, fmt.Errorf("invoke %s: %w", function, ctx.Err())
	}
}

func (g *Gateway) invocationStarted() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running == 0 {
		g.idle = make(chan struct{})
	}
	g.running++
}

func (g *Gateway) invocationEnded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if g.running == 0 {
		close(g.idle)
	}
}

// WaitInvocations blocks until no function invocation is running or ctx ends. It includes the invocations the
// gateway answered 504 for and that go on with a cancelled context: after it returns, they have stopped writing.
func (g *Gateway) WaitInvocations(ctx context.Context) error {
	g.mu.Lock()
	n, idle := g.running, g.idle
	g.mu.Unlock()
	if n == 0 {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for %d function invocations: %w", n, ctx.Err())
	}
}

func (g *Gateway) functionFailed(w http.ResponseWriter, rt *route, requestID string, err error) {
	// The error comes from our own handler code (which keeps personal data out of errors) or from decoding.
	g.log.Error("local gateway: function failed", slog.String("request_id", requestID),
		slog.String("route", rt.method+" "+rt.resource), slog.String("function", rt.function),
		slog.String("error", err.Error()))
	if errors.Is(err, errTimeout) {
		g.gatewayError(w, http.StatusGatewayTimeout, "InternalServerErrorException", "Endpoint request timed out")
		return
	}
	g.gatewayError(w, http.StatusBadGateway, "InternalServerErrorException", "Internal server error")
}

// gatewayError answers like API Gateway's own errors: {"message": ...} and x-amzn-ErrorType.
func (g *Gateway) gatewayError(w http.ResponseWriter, status int, errorType, message string) {
	body, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", errorType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// newID returns a random UUID (version 4), the shape of API Gateway request ids and EventBridge event ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
