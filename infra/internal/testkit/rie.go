package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ExitedError reports that the process WaitListening watched exited before anything listened.
type ExitedError struct {
	// Err is the process's Wait result.
	Err error
}

// Error says that the process exited and how.
func (e *ExitedError) Error() string { return fmt.Sprintf("exited (%v)", e.Err) }

// Unwrap returns the process's Wait result.
func (e *ExitedError) Unwrap() error { return e.Err }

// WaitListening waits until something accepts TCP connections on addr, dialing with dialTimeout and pausing
// pause between attempts, until ctx is done (its error, wrapped). When exited (where a process's Wait result
// arrives; nil for none) delivers first, the result is put back for others and an *ExitedError is returned.
func WaitListening(ctx context.Context, addr string, dialTimeout, pause time.Duration, exited chan error) error {
	for {
		if conn, err := net.DialTimeout("tcp", addr, dialTimeout); err == nil {
			conn.Close()
			return nil
		}
		select {
		case err := <-exited:
			exited <- err
			return &ExitedError{Err: err}
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", addr, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// ErrFunction marks an invocation answered other than 200 or with X-Amz-Function-Error.
var ErrFunction = errors.New("the function failed")

// InvokeRIE posts event to the invocation endpoint of the aws-lambda-rie listening on addr and returns the
// function's answer. An answer other than 200, or carrying X-Amz-Function-Error, is an error wrapping
// ErrFunction, returned with the answer's body (which the error does not contain).
func InvokeRIE(ctx context.Context, addr string, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke: read answer: %w", err)
	}
	if fnErr := resp.Header.Get("X-Amz-Function-Error"); resp.StatusCode != http.StatusOK || fnErr != "" {
		return body, fmt.Errorf("invoke: RIE answered %d (function error %q): %w", resp.StatusCode, fnErr, ErrFunction)
	}
	return body, nil
}
