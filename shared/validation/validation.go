// Package validation is the one shape in which every use case answers bad input: an *Error naming the field
// of the request that is wrong and saying how to fix it, never quoting a claim value, a PIN or a secret; and the
// checks of ids and text that every request field shares.
package validation

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrTooLarge: a request field holds more data than the issuer can keep for it (HTTP 413). Such an error is also
// an *Error naming the field.
var ErrTooLarge = errors.New("too large")

// Error says which field of a request is wrong and why. Its message never quotes a claim value, a PIN or a
// secret.
type Error struct {
	// Field is the JSON path of the offending field, e.g. "claims[2].path[1]".
	Field string
	// Reason says what is wrong and how to fix it.
	Reason string
	// tooLarge makes errors.Is(err, ErrTooLarge) true.
	tooLarge bool
}

// Is makes errors.Is(err, ErrTooLarge) true for a field that holds too much data.
func (e *Error) Is(target error) bool { return e.tooLarge && target == ErrTooLarge }

// Error implements error.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Invalid builds an *Error for field with the reason format and args.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// TooLarge builds an *Error for a field that holds too much data: errors.Is(err, ErrTooLarge) holds.
func TooLarge(field, format string, args ...any) *Error {
	v := Invalid(field, format, args...)
	v.tooLarge = true
	return v
}

// MaxIDLen bounds every id in a path or a body.
const MaxIDLen = 256

// ID checks an id taken from a path or a body: non-empty, bounded, printable ASCII without '#' (the store's key
// separator) or '/'.
func ID(field, id string) error {
	if id == "" {
		return Invalid(field, "is required")
	}
	if len(id) > MaxIDLen {
		return Invalid(field, "is longer than %d characters", MaxIDLen)
	}
	if strings.ContainsAny(id, "#/") {
		return Invalid(field, "must not contain '#' or '/'")
	}
	for _, r := range id {
		if r <= ' ' || r > '~' {
			return Invalid(field, "must be printable ASCII without spaces")
		}
	}
	return nil
}

// Printable reports whether s is valid UTF-8 without control characters.
func Printable(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// PointerField turns a JSON Pointer (RFC 6901, "/credentials/0/id") into the field notation of errors
// (".credentials[0].id"), to be appended to the name of the member the document came in.
func PointerField(pointer string) string {
	var b strings.Builder
	for _, seg := range strings.Split(pointer, "/")[1:] {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			b.WriteString("[" + seg + "]")
		} else {
			b.WriteString("." + seg)
		}
	}
	return b.String()
}

// Loopback reports whether host is localhost or a loopback address (where http is acceptable: local runs).
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HTTPSURL checks an absolute https URL of at most maxLen characters without user info or fragment (http only
// for a loopback host); with query false, a query is refused too. example is shown in the fix.
func HTTPSURL(field, raw string, maxLen int, query bool, example string) error {
	if len(raw) > maxLen {
		return Invalid(field, "is longer than %d characters", maxLen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return Invalid(field, "must be an absolute https URL, e.g. %q", example)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !Loopback(u.Hostname()) {
			return Invalid(field, "must use https (http is accepted only for localhost)")
		}
	default:
		return Invalid(field, "must use https")
	}
	if u.User != nil {
		return Invalid(field, "must not carry user credentials")
	}
	if u.Fragment != "" {
		return Invalid(field, "must not have a fragment")
	}
	if !query && (u.RawQuery != "" || u.ForceQuery) {
		return Invalid(field, "must not have a query")
	}
	return nil
}
