// Package faults injects faults into the issuer's real AWS clients talking to the real local services, and its
// tests (run by `make test`) check what a wallet and the organisation see when KMS or DynamoDB fail, slow down,
// or a function dies between signing and recording; and that request floods on one code or one nonce let
// exactly one request win.
//
// Injector is an http.RoundTripper under the SDK clients: it matches each request's operation
// ("KMS.Sign", "DynamoDB.TransactWriteItems", "DynamoDB.*") and fails, delays, or forwards it and loses the
// answer. Nothing of the code under test is replaced.
package faults

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Mode is what a rule does to a matching request.
type Mode int

// Modes of a rule.
const (
	// Refuse fails the request without sending it, as a refused connection does.
	Refuse Mode = iota + 1
	// Delay sends the request after Rule.Delay (bounded by the request's context).
	Delay
	// LoseAnswer sends the first matching request and drops its answer (the service applied it, the caller
	// sees a broken connection); later matching requests are refused, as if the process had died.
	LoseAnswer
)

// Rule is a fault for the operations matching its pattern.
type Rule struct {
	// Mode is what to do.
	Mode Mode
	// Delay is the wait of Mode Delay.
	Delay time.Duration
	// Skip lets the first Skip matching requests through untouched (the fault hits the one after them).
	Skip int
	// Times bounds how many matching requests the fault hits; after them requests pass again. 0: no bound.
	Times int
}

// ErrInjected marks the errors the injector returns.
var ErrInjected = errors.New("injected fault")

// Injector is an http.RoundTripper that applies rules to AWS JSON-protocol requests by operation.
type Injector struct {
	base http.RoundTripper

	mu    sync.Mutex
	rules map[string]*ruleState
	hits  map[string]int
}

type ruleState struct {
	Rule
	seen int // matching requests so far
	sent int // of them, faulted
}

// NewInjector wraps base (nil: http.DefaultTransport's clone).
func NewInjector(base http.RoundTripper) *Injector {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Injector{base: base, rules: map[string]*ruleState{}, hits: map[string]int{}}
}

// Set installs r for pattern: an operation "Service.Operation" or "Service.*".
func (in *Injector) Set(pattern string, r Rule) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules[pattern] = &ruleState{Rule: r}
}

// Clear removes every rule.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = map[string]*ruleState{}
}

// Hits is how many requests of operation went through the injector (faulted or not).
func (in *Injector) Hits(operation string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.hits[operation]
}

// Operation names a request by its X-Amz-Target ("DynamoDB_20120810.GetItem" is "DynamoDB.GetItem",
// "TrentService.Sign" is "KMS.Sign"); "" when it has none.
func Operation(r *http.Request) string {
	target := r.Header.Get("X-Amz-Target")
	svc, op, ok := strings.Cut(target, ".")
	if !ok {
		return ""
	}
	switch {
	case strings.HasPrefix(svc, "DynamoDB"):
		svc = "DynamoDB"
	case svc == "TrentService":
		svc = "KMS"
	case svc == "AWSEvents":
		svc = "EventBridge"
	}
	return svc + "." + op
}

// match returns the rule for operation (an exact pattern before a wildcard), if it applies to this request, and
// whether this is the first request it faults; it counts the hit.
func (in *Injector) match(operation string) (Rule, bool, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.hits[operation]++
	svc, _, _ := strings.Cut(operation, ".")
	rs, ok := in.rules[operation]
	if !ok {
		rs, ok = in.rules[svc+".*"]
	}
	if !ok {
		return Rule{}, false, false
	}
	rs.seen++
	if rs.seen <= rs.Skip || rs.Times > 0 && rs.sent >= rs.Times {
		return Rule{}, false, false
	}
	first := rs.sent == 0
	rs.sent++
	return rs.Rule, true, first
}

// RoundTrip applies the matching rule, if any, and forwards the request otherwise.
func (in *Injector) RoundTrip(r *http.Request) (*http.Response, error) {
	op := Operation(r)
	rule, ok, first := in.match(op)
	if !ok {
		return in.base.RoundTrip(r)
	}
	refused := func() (*http.Response, error) {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("%w: %w", ErrInjected, syscall.ECONNREFUSED)}
	}
	switch rule.Mode {
	case Refuse:
		return refused()
	case Delay:
		t := time.NewTimer(rule.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return nil, fmt.Errorf("%w: delayed %s: %w", ErrInjected, op, r.Context().Err())
		}
		return in.base.RoundTrip(r)
	case LoseAnswer:
		if !first {
			return refused()
		}
		resp, err := in.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: fmt.Errorf("%w: %w", ErrInjected, syscall.ECONNRESET)}
	}
	return in.base.RoundTrip(r)
}

// Client is an aws.HTTPClient over the injector.
func (in *Injector) Client() *http.Client { return &http.Client{Transport: in} }
