package oid4vci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"
)

// jsonObject is a JSON object whose members are kept raw, keyed case-sensitively, as the protocol names them
// (encoding/json would match struct fields case-insensitively).
type jsonObject map[string]json.RawMessage

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate member")
)

// decodeObject parses data as exactly one JSON object and refuses repeated member names, so that two parsers can
// never disagree about which of two values counts. The error names the repeated member (a protocol name, never a
// value). Member values are kept as sub-slices of data.
//
// json.Valid checks the whole document first; the member walk then only has to find boundaries in valid JSON, which
// is far cheaper than json.Decoder's token API (one error allocation per member). Names are compared unescaped.
func decodeObject(data []byte) (jsonObject, error) {
	if !json.Valid(data) {
		return nil, fmt.Errorf("read JSON: %w", errNotObject)
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errNotObject
	}
	obj := jsonObject{}
	i = skipSpace(data, i+1)
	if data[i] == '}' {
		return obj, nil
	}
	for {
		end := stringEnd(data, i) // data[i] is the opening quote of a member name (the document is valid)
		key, err := memberName(data[i:end])
		if err != nil {
			return nil, fmt.Errorf("read member name: %w", errNotObject)
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // the colon
		vend := valueEnd(data, i)
		if _, dup := obj[key]; dup {
			return nil, &duplicateError{name: key}
		}
		obj[key] = json.RawMessage(data[i:vend:vend])
		i = skipSpace(data, vend)
		if data[i] == '}' {
			return obj, nil
		}
		i = skipSpace(data, i+1) // the comma
	}
}

// memberName returns the unescaped member name of a quoted JSON string.
func memberName(quoted []byte) (string, error) {
	plain := true
	for _, c := range quoted[1 : len(quoted)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", fmt.Errorf("unquote member name: %w", err)
	}
	return s, nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at data[i] (a quote).
func stringEnd(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// valueEnd returns the index just past the JSON value starting at data[i], in a document json.Valid accepted.
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				i = stringEnd(data, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(data)
	default: // number, true, false, null
		for i < len(data) && data[i] != ',' && data[i] != '}' && data[i] != ']' && data[i] != ' ' &&
			data[i] != '\t' && data[i] != '\n' && data[i] != '\r' {
			i++
		}
		return i
	}
}

// duplicateError names a repeated member.
type duplicateError struct{ name string }

func (e *duplicateError) Error() string { return "member " + e.name + " appears more than once" }
func (e *duplicateError) Unwrap() error { return errDuplicate }

// present reports whether the member exists and is not JSON null; protocol parameters set to null count as absent.
func (o jsonObject) present(name string) bool {
	raw, ok := o[name]
	return ok && !isNull(raw)
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// str reads an optional string member; ok is false when it is absent or null, err when it is another type.
func (o jsonObject) str(name string) (value string, ok bool, err error) {
	if !o.present(name) {
		return "", false, nil
	}
	if v, ok := plainString(o[name]); ok {
		return v, true, nil
	}
	if err := json.Unmarshal(o[name], &value); err != nil {
		return "", false, fmt.Errorf("%s must be a string", name)
	}
	return value, true, nil
}

// plainString returns the content of a JSON string made only of printable ASCII without escapes, which is
// what json.Unmarshal would return for it, without its allocations; ok is false for anything else.
func plainString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(body), true
}

// object reads an optional object member with the same duplicate check as decodeObject.
func (o jsonObject) object(name string) (jsonObject, bool, error) {
	if !o.present(name) {
		return nil, false, nil
	}
	obj, err := decodeObject(o[name])
	if err != nil {
		var dup *duplicateError
		if errors.As(err, &dup) {
			return nil, false, fmt.Errorf("%s repeats its member %s", name, protocolName(dup.name))
		}
		return nil, false, fmt.Errorf("%s must be a JSON object", name)
	}
	return obj, true, nil
}

// describeBodyError turns a decodeObject failure into a description for the wallet developer.
func describeBodyError(err error) string {
	var dup *duplicateError
	if errors.As(err, &dup) {
		return "the request repeats the parameter " + protocolName(dup.name) + "; send each parameter once"
	}
	return "the request body must be one JSON object"
}

// mediaTypeIs reports whether contentType names want, ignoring parameters such as charset and letter case.
func mediaTypeIs(contentType, want string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.EqualFold(strings.TrimSpace(contentType), want)
	}
	return mt == want
}

// protocolName returns name when it is a parameter this package knows, so that descriptions never echo arbitrary
// text a wallet sent.
func protocolName(name string) string {
	switch name {
	case "credential_configuration_id", "credential_identifier", "proof", "proofs", "jwt", "proof_type",
		"credential_response_encryption", "format", "vct", "credential_definition", "transaction_id",
		"notification_id", "event", "event_description", "alg", "typ", "jwk", "kid", "x5c", "crit", "aud", "iat",
		"nonce", "iss", "exp", "nbf", "jti", "grant_type", "pre-authorized_code", "tx_code", "user_pin",
		"authorization_details", "client_id":
		return name
	default:
		return "(an unnamed parameter)"
	}
}
