// Package awscalls counts the AWS calls a request makes, per operation: one line per request logs the total, and
// the benchmarks report the counts per operation.
//
// The counter lives in the request's context (WithCounter); Attach adds a middleware to an aws.Config that every
// client built from it runs. The middleware sits at the end of the Finalize step, after the SDK's retry loop and
// request signing, so it counts every HTTP attempt sent: a call retried twice counts three. That is what costs
// latency and what throttling looks like, which a count of logical calls would hide.
package awscalls

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// MiddlewareID is the ID of the counting middleware in the SDK's Finalize step.
const MiddlewareID = "awscalls.Count"

// Counter counts calls by operation ("DynamoDB.PutItem"). Safe for concurrent use; the nil Counter counts
// nothing and reports zero.
type Counter struct {
	mu    sync.Mutex
	total int
	byOp  map[string]int
}

// Add counts one call of operation.
func (c *Counter) Add(operation string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byOp == nil {
		c.byOp = make(map[string]int)
	}
	c.byOp[operation]++
	c.total++
}

// Total is the number of calls counted.
func (c *Counter) Total() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// ByOperation is a copy of the counts per operation ("DynamoDB.PutItem": 2); empty, never nil.
func (c *Counter) ByOperation() map[string]int {
	if c == nil {
		return map[string]int{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byOp == nil {
		return map[string]int{}
	}
	return maps.Clone(c.byOp)
}

type contextKey struct{}

// WithCounter returns a context carrying a new Counter, and the Counter.
func WithCounter(ctx context.Context) (context.Context, *Counter) {
	c := &Counter{}
	return context.WithValue(ctx, contextKey{}, c), c
}

// FromContext returns the context's Counter, or nil (which is safe to use) when there is none.
func FromContext(ctx context.Context) *Counter {
	c, _ := ctx.Value(contextKey{}).(*Counter)
	return c
}

// Attach adds the counting middleware to cfg, so that every client built from cfg afterwards counts its calls
// into the context's Counter. Attaching twice counts once.
func Attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, addMiddleware)
}

func addMiddleware(stack *middleware.Stack) error {
	if _, ok := stack.Finalize.Get(MiddlewareID); ok {
		return nil
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(MiddlewareID, count), middleware.After)
}

func count(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	FromContext(ctx).Add(awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx))
	return next.HandleFinalize(ctx, in)
}
