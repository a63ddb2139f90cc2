package exchange

import (
	"errors"
	"fmt"
	"strings"
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
)

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

// PointerGoneError is why an UpdateExchange was refused when a pointer it consumes was gone: used, expired or
// of another exchange. The store wraps it with ErrConflict (errors.Is(err, ErrConflict) holds). Its message
// names only the pointer kind, never the key (a hash of a secret).
type PointerGoneError struct {
	// Key is the pointer's key, PointerKey(kind, secret).
	Key string
}

// Error implements error.
func (e *PointerGoneError) Error() string {
	return e.Kind() + " pointer used, expired or of another exchange"
}

// Kind is the pointer kind of Key (PointerNonce, PointerCode, ...).
func (e *PointerGoneError) Kind() string {
	kind, _, _ := strings.Cut(e.Key, "#")
	return kind
}
