package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/infra/load/inproc"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/awscalls"
)

// countingMiddlewareID is the ID of the bench's own counter in the SDK's Finalize step.
const countingMiddlewareID = "bench.CountAll"

// countAll adds a middleware to cfg that counts every HTTP attempt of every client built from it into c, whatever
// the request's context: the flow's requests go through HTTP and the gateway, so no context of the bench reaches
// them. It sits where awscalls.Attach sits (end of Finalize, after retries and signing).
func countAll(cfg *aws.Config, c *awscalls.Counter) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(countingMiddlewareID, func(ctx context.Context,
			in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.Add(awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	})
}

// flowFigures are the results of benchFlow.
type flowFigures struct {
	dynamoDB, kmsSign float64
	byOperation       map[string]int
	perStep           map[flow.Step]map[string]int
	stats             flow.Stats
	// dpopDynamoDB and dpopByOperation are the same counts for one flow with a DPoP-bound token (its token
	// request retried once for use_dpop_nonce), dpopNonceRetries the retries it took.
	dpopDynamoDB     float64
	dpopByOperation  map[string]int
	dpopNonceRetries int
	// authcodeDynamoDB and authcodeKMSSign are the calls of one warm full authorization code flow (issue, offer,
	// PAR, authorization endpoint, ID token to direct_post, token, nonce, credential, notification).
	authcodeDynamoDB, authcodeKMSSign float64
	authcodeByOperation               map[string]int
	authcodePerStep                   map[flow.Step]map[string]int
	// requestCalls are the AWS calls of the request path (every function but the publisher) of one flow.
	requestCalls float64
	// publisherCalls are the publisher's PutEvents calls for the events of one flow, published as the flow's
	// writes came (batches of one step each); loadEvents and loadPutEvents the events and PutEvents calls of the
	// load run (batches gather the writes of concurrent flows).
	publisherCalls            float64
	flowEvents                int
	loadEvents, loadPutEvents int
}

// publisherOperation is the one AWS call of the publisher function; the stream is read by Lambda's service.
const publisherOperation = "EventBridge.PutEvents"

// withoutPublisher is calls less the publisher's.
func withoutPublisher(calls map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range calls {
		if op != publisherOperation {
			out[op] = n
		}
	}
	return out
}

// benchFlow serves the API in process on the local stack (over loopback HTTP, through the local gateway),
// counts the AWS calls of one warm full flow, then runs flows flows at concurrency conc within maxTime.
func benchFlow(ctx context.Context, stack *localstack.Stack, flows, conc int, maxTime time.Duration) (flowFigures, error) {
	var out flowFigures
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		return out, fmt.Errorf("bench flow: %w", err)
	}
	streamCfg := cfg.Copy() // Lambda's service reads the stream: not a call of any function
	counter := &awscalls.Counter{}
	countAll(&cfg, counter)
	const adminKey = "bench-admin-key"
	// As deployed: the table's stream feeds the publisher, which puts the events on the (local) bus.
	srv, err := inproc.Start(ctx, inproc.Options{AWS: cfg, TableName: stack.TableName, KMSKeyID: stack.KeyID, AdminKey: adminKey,
		Events: true, StreamAWS: &streamCfg})
	if err != nil {
		return out, fmt.Errorf("bench flow: %w", err)
	}
	defer srv.Close()
	flush := func() error {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := srv.FlushEvents(fctx); err != nil {
			return fmt.Errorf("bench flow: publish the events: %w", err)
		}
		if f := srv.StreamFailures(); len(f) > 0 {
			return fmt.Errorf("bench flow: the publisher gave up on %d batches", len(f))
		}
		return nil
	}
	client := &flow.Client{BaseURL: srv.URL, AdminKey: adminKey, HTTP: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: 2 * conc}}}
	def, err := client.CreateDefinition(ctx)
	if err != nil {
		return out, fmt.Errorf("bench flow: %w", err)
	}
	// Warm-up: the first flow sets up the signing key (one GetPublicKey per container) and the caches a warm
	// Lambda container keeps.
	if _, err := client.Run(ctx, def); err != nil {
		return out, fmt.Errorf("bench flow: warm-up: %w", err)
	}
	if err := flush(); err != nil {
		return out, err
	}
	before := counter.ByOperation()
	eventsBefore := len(srv.Events())
	last := before
	out.perStep = map[flow.Step]map[string]int{}
	counted := *client
	counted.AfterStep = func(s flow.Step) {
		now := counter.ByOperation()
		out.perStep[s] = withoutPublisher(diff(last, now)) // the publisher runs beside the steps, not in them
		last = now
	}
	if _, err := counted.Run(ctx, def); err != nil {
		return out, fmt.Errorf("bench flow: counted flow: %w", err)
	}
	if err := flush(); err != nil {
		return out, err
	}
	after := counter.ByOperation()
	out.flowEvents = len(srv.Events()) - eventsBefore
	out.byOperation = map[string]int{}
	for op, n := range after {
		if d := n - before[op]; d > 0 {
			out.byOperation[op] = d
			switch {
			case op == publisherOperation:
				out.publisherCalls += float64(d)
				continue
			case len(op) > 9 && op[:9] == "DynamoDB.":
				out.dynamoDB += float64(d)
			case op == "KMS.Sign":
				out.kmsSign += float64(d) // one credential per flow: per credential
			}
			out.requestCalls += float64(d)
		}
	}
	dpopClient := *client
	dpopClient.DPoP = true
	before = counter.ByOperation()
	res, err := dpopClient.Run(ctx, def)
	if err != nil {
		return out, fmt.Errorf("bench flow: counted DPoP flow: %w", err)
	}
	out.dpopByOperation = withoutPublisher(diff(before, counter.ByOperation()))
	out.dpopNonceRetries = res.NonceRetries
	for op, n := range out.dpopByOperation {
		if len(op) > 9 && op[:9] == "DynamoDB." {
			out.dpopDynamoDB += float64(n)
		}
	}
	if err := benchAuthorizationCode(ctx, client, def, counter, &out); err != nil {
		return out, err
	}
	if err := flush(); err != nil {
		return out, err
	}
	loadBefore, loadEventsBefore := counter.ByOperation()[publisherOperation], len(srv.Events())
	st, err := client.Load(ctx, def, flow.LoadOptions{Flows: flows, Concurrency: conc, MaxDuration: maxTime})
	if err != nil {
		return out, fmt.Errorf("bench flow: %w", err)
	}
	if st.Failed > 0 {
		return out, fmt.Errorf("bench flow: %d of %d flows failed: %v", st.Failed, st.Failed+st.Completed, st.Errors)
	}
	if err := flush(); err != nil {
		return out, err
	}
	out.loadPutEvents = counter.ByOperation()[publisherOperation] - loadBefore
	out.loadEvents = len(srv.Events()) - loadEventsBefore
	out.stats = st
	return out, nil
}

// benchAuthorizationCode counts the AWS calls of one warm full authorization code flow, after a warm-up flow (on
// AWS the authorization function is its own container, which sets up the signing key once).
func benchAuthorizationCode(ctx context.Context, client *flow.Client, def string, counter *awscalls.Counter, out *flowFigures) error {
	if _, err := client.RunAuthorizationCode(ctx, def); err != nil {
		return fmt.Errorf("bench flow: authorization code warm-up: %w", err)
	}
	before := counter.ByOperation()
	last := before
	out.authcodePerStep = map[flow.Step]map[string]int{}
	counted := *client
	counted.AfterStep = func(s flow.Step) {
		now := counter.ByOperation()
		out.authcodePerStep[s] = withoutPublisher(diff(last, now)) // the publisher runs beside the steps
		last = now
	}
	if _, err := counted.RunAuthorizationCode(ctx, def); err != nil {
		return fmt.Errorf("bench flow: counted authorization code flow: %w", err)
	}
	out.authcodeByOperation = withoutPublisher(diff(before, counter.ByOperation()))
	for op, n := range out.authcodeByOperation {
		switch {
		case strings.HasPrefix(op, "DynamoDB."):
			out.authcodeDynamoDB += float64(n)
		case op == "KMS.Sign":
			out.authcodeKMSSign += float64(n)
		}
	}
	return nil
}

// diff is after minus before, per operation, without zero entries.
func diff(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range after {
		if d := n - before[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}
