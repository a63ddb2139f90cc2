package issuance

import (
	"errors"
	"fmt"
)

// Sentinel errors of the use cases and the store; check them with errors.Is.
var (
	// ErrNotFound: the item does not exist, or its retention (ttl) has passed.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create met an existing item with the same key.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a conditional write lost against a concurrent change (version or status moved on), or a
	// single-use secret was already consumed; nothing was changed.
	ErrConflict = errors.New("conflicting concurrent change")
	// ErrTransitionRefused: the status machine does not allow the requested move; nothing was changed.
	ErrTransitionRefused = errors.New("status transition not allowed")
	// ErrUnsupported: the request asks for something the issuer does not support yet.
	ErrUnsupported = errors.New("not supported")
	// ErrInvalidCursor: a list cursor that this service did not issue, or issued for another list.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrTooLarge: a request field holds more data than the issuer can keep for it (HTTP 413). Such an error is
	// also a *ValidationError naming the field.
	ErrTooLarge = errors.New("too large")
)

// ValidationError says which field of a request is wrong and why. Its message never quotes a claim value,
// a PIN or a secret.
type ValidationError struct {
	// Field is the JSON path of the offending field, e.g. "claims[2].path[1]".
	Field string
	// Reason says what is wrong and how to fix it.
	Reason string
	// tooLarge makes errors.Is(err, ErrTooLarge) true.
	tooLarge bool
}

// Is makes errors.Is(err, ErrTooLarge) true for a field that holds too much data.
func (e *ValidationError) Is(target error) bool { return e.tooLarge && target == ErrTooLarge }

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// invalid builds a *ValidationError.
func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// tooLarge builds a *ValidationError that is also ErrTooLarge.
func tooLarge(field, format string, args ...any) *ValidationError {
	v := invalid(field, format, args...)
	v.tooLarge = true
	return v
}

// TransitionError is ErrTransitionRefused with the statuses involved.
type TransitionError struct {
	From, To Status
}

// Error implements error.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("status transition %s -> %s not allowed", e.From, e.To)
}

// Is makes errors.Is(err, ErrTransitionRefused) true.
func (e *TransitionError) Is(target error) bool { return target == ErrTransitionRefused }
