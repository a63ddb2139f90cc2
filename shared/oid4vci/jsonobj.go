package oid4vci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
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
// value).
func decodeObject(data []byte) (jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("read JSON: %w", errNotObject)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	obj := jsonObject{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read member name: %w", errNotObject)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errNotObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("read member value: %w", errNotObject)
		}
		if _, dup := obj[key]; dup {
			return nil, &duplicateError{name: key}
		}
		obj[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("read object end: %w", errNotObject)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trailing data after the object: %w", errNotObject)
	}
	return obj, nil
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
	if err := json.Unmarshal(o[name], &value); err != nil {
		return "", false, fmt.Errorf("%s must be a string", name)
	}
	return value, true, nil
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
