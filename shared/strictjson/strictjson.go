// Package strictjson decodes JSON from untrusted senders as I-JSON (RFC 7493), through the maintained strict decoder
// github.com/go-json-experiment/json: exactly one JSON value, no object with two members of the same name (two
// parsers could pick different ones), valid UTF-8 and no lone surrogate escapes, and numbers within the range of an
// IEEE 754 double. Struct fields match member names case-sensitively. A failure is an *Error naming the member by
// its JSON Pointer path, never by its value.
//
//	var req struct {
//		Name  string         `json:"name"`
//		Claims map[string]any `json:"claims"`
//	}
//	if err := strictjson.Unmarshal(body, &req); err != nil {
//		var e *strictjson.Error // e.Path is "/claims/age", e.Reason "repeats a member name", ...
//	}
package strictjson

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Error is a document that is not I-JSON or does not fit the value decoded into.
type Error struct {
	// Path is the JSON Pointer (RFC 6901) of the offending member or element ("/claims/age", "/items/0"); "" is the
	// document itself. A repeated member's path ends with its name.
	Path string
	// Reason says what is wrong, for a person: "repeats a member name", "is not valid UTF-8", "is a number out of
	// the range of a double", "must be a string", ... It never quotes the document.
	Reason string
	// Err is the decoder's error, for errors.Is (for example jsontext.ErrDuplicateName).
	Err error
}

// Error reads "<path>: <reason>", or "JSON document: <reason>" for the document itself.
func (e *Error) Error() string {
	if e.Path == "" {
		return "JSON document: " + e.Reason
	}
	return e.Path + ": " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// Option changes what Unmarshal accepts.
type Option func(*config)

type config struct {
	rejectUnknown bool
	exactNumbers  bool
}

// RejectUnknownMembers makes a member that the struct decoded into has no field for an error (by default such members
// are ignored, as JSON senders may add members).
func RejectUnknownMembers() Option { return func(c *config) { c.rejectUnknown = true } }

// ExactNumbers makes every number decoded into an interface value (a claim, at any depth) an encoding/json Number
// holding the number's text, as encoding/json's Decoder.UseNumber does, instead of a float64: claims keep the
// digits the sender wrote (9007199254740993, 1.50).
func ExactNumbers() Option { return func(c *config) { c.exactNumbers = true } }

// exactNumbers decodes an interface value with encoding/json and UseNumber. The document already passed Check,
// so the only difference from go-json-experiment's own decoding of an interface value is the numbers' type.
var exactNumbers = json.WithUnmarshalers(json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *any) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	d := stdjson.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}))

// Unmarshal checks that data is one I-JSON document (Check) and decodes it into v, a non-nil pointer, with
// go-json-experiment/json: member names match struct fields (their `json` tags) case-sensitively, a JSON null leaves
// the Go value as it is, a number into an interface value becomes a float64 (see ExactNumbers).
func Unmarshal(data []byte, v any, opts ...Option) error {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if err := Check(data); err != nil {
		return err
	}
	jsonOpts := []json.Options{json.RejectUnknownMembers(cfg.rejectUnknown)}
	if cfg.exactNumbers {
		jsonOpts = append(jsonOpts, exactNumbers)
	}
	if err := json.Unmarshal(data, v, jsonOpts...); err != nil {
		return describe(err)
	}
	return nil
}

// Check reports whether data is exactly one I-JSON value (RFC 7493): valid JSON with white space around it only,
// valid UTF-8 without escaped lone surrogates, no repeated member name in any object, and every number within the
// range of an IEEE 754 double (1e400 is refused; 0.1 and 2^53+1, which a double only approximates, are not).
func Check(data []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	for {
		if dec.PeekKind() == '0' {
			num, err := dec.ReadValue()
			if err != nil {
				return describe(err)
			}
			if f, err := strconv.ParseFloat(string(num), 64); err != nil || math.IsInf(f, 0) {
				return &Error{Path: string(dec.StackPointer()), Reason: "is a number out of the range of a double",
					Err: err}
			}
		} else if _, err := dec.ReadToken(); err != nil {
			return describe(err)
		}
		if dec.StackDepth() == 0 {
			break
		}
	}
	// One value only: what follows must be the end of the input.
	if _, err := dec.ReadToken(); err == nil {
		return &Error{Reason: "holds more than one JSON value"}
	} else if err != io.EOF {
		return describe(err)
	}
	return nil
}

// describe turns a go-json-experiment error into an *Error.
func describe(err error) error {
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		e := &Error{Path: string(syn.JSONPointer), Err: err}
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
			e.Reason = "repeats a member name"
		case errors.Is(err, io.ErrUnexpectedEOF):
			e.Reason = "ends before the JSON value does"
		case syn.Err != nil && syn.Err.Error() == "invalid UTF-8":
			e.Reason = "is not valid UTF-8"
		case syn.Err != nil && strings.Contains(syn.Err.Error(), "surrogate"):
			e.Reason = `holds an escaped lone surrogate (\ud800 to \udfff without its pair)`
		default:
			// The decoder's own message quotes the document; the offset says where without the content.
			e.Reason = fmt.Sprintf("is not valid JSON (at byte %d)", syn.ByteOffset)
		}
		return e
	}
	var sem *json.SemanticError
	if errors.As(err, &sem) {
		e := &Error{Path: string(sem.JSONPointer), Err: err}
		switch {
		case errors.Is(err, json.ErrUnknownName):
			e.Reason = "is not a known member"
		case sem.GoType != nil && sem.JSONKind != 0:
			e.Reason = fmt.Sprintf("must be %s, not %s", jsonKindOf(sem.GoType), sem.JSONKind)
		default:
			e.Reason = "cannot be decoded here"
		}
		return e
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Reason: "ends before the JSON value does", Err: err}
	}
	return &Error{Reason: "cannot be decoded", Err: err}
}

// jsonKindOf names the JSON a Go type decodes from, for Reason.
func jsonKindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}
