package apigw

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/aws/smithy-go"
)

// ErrorStyle says how a route renders errors: admin routes answer {"errorCode", "errorDescription"}, wallet
// (OAuth) routes answer {"error", "error_description"}.
type ErrorStyle int

const (
	// AdminErrors renders {"errorCode": <status>, "errorDescription": "..."}.
	AdminErrors ErrorStyle = iota
	// OAuthErrors renders {"error": "<code>", "error_description": "..."}.
	OAuthErrors
)

// Error is an error a handler returns to answer with a given HTTP status. Code is the OAuth error code (ignored by
// admin routes); Description says what is wrong and how to fix it, and never carries personal data.
type Error struct {
	Status      int
	Code        string
	Description string
	Headers     map[string]string
	cause       error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Description)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Description)
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Errorf builds an *Error with a formatted description.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

// Wrap builds an *Error that keeps cause for errors.Is/As and for the log line, while the client sees only
// description.
func Wrap(cause error, status int, code, description string) *Error {
	return &Error{Status: status, Code: code, Description: description, cause: cause}
}

// BadRequest is a 400 with an admin-style description (code invalid_request for OAuth routes).
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "invalid_request", format, args...)
}

// NotFound is a 404.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "not_found", format, args...)
}

// asError turns any handler error into an *Error: unknown errors become a 500 whose description hides the cause.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if unavailable(err) {
		return &Error{Status: http.StatusServiceUnavailable, Code: "server_error",
			Description: "a service the issuer depends on is temporarily unavailable; retry later",
			Headers:     map[string]string{"Retry-After": "5"}, cause: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "server_error",
		Description: "internal error; retry later, and report the request id if it persists", cause: err}
}

// unavailable reports an AWS dependency that could not be reached, throttled the call, or failed on its side:
// temporary conditions worth a 503 and a retry.
func unavailable(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
		"LimitExceededException", "ServiceUnavailable", "ServiceUnavailableException", "InternalServerError":
		return true
	}
	return apiErr.ErrorFault() == smithy.FaultServer
}
