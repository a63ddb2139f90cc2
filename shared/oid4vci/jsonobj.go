package oid4vci

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// jsonObject is a JSON object's members, raw, keyed case-sensitively as the protocol names them (encoding/json would
// match struct fields case-insensitively).
type jsonObject map[string]jsontext.Value

var errNotObject = errors.New("not a JSON object")

// decodeObject parses data as exactly one JSON object with the strict decoder of go-json-experiment/json, which
// refuses a repeated member name anywhere in the document (so that two parsers can never disagree about which of two
// values counts), invalid UTF-8, lone surrogate escapes and trailing data. A repeated name is a *duplicateError
// naming the member by its path.
func decodeObject(data []byte) (jsonObject, error) {
	if jsontext.Value(data).Kind() != '{' {
		return nil, errNotObject
	}
	var obj jsonObject
	if err := json.Unmarshal(data, &obj); err != nil {
		var syn *jsontext.SyntacticError
		if errors.As(err, &syn) && errors.Is(err, jsontext.ErrDuplicateName) {
			return nil, &duplicateError{path: syn.JSONPointer}
		}
		return nil, fmt.Errorf("read JSON: %w", errNotObject)
	}
	return obj, nil
}

// duplicateError names a repeated member by its JSON Pointer.
type duplicateError struct{ path jsontext.Pointer }

// Error names the member by name(), never by text the sender chose.
func (e *duplicateError) Error() string { return "member " + e.name() + " appears more than once" }

// name is the repeated member as a description may show it: its path of protocol names (protocolName), dotted.
func (e *duplicateError) name() string {
	var parts []string
	for tok := range e.path.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 32); err == nil {
			parts = append(parts, tok) // an array index
			continue
		}
		parts = append(parts, protocolName(tok))
	}
	return strings.Join(parts, ".")
}

// present reports whether the member exists and is not JSON null; protocol parameters set to null count as absent.
func (o jsonObject) present(name string) bool {
	raw, ok := o[name]
	return ok && raw.Kind() != 'n'
}

// str reads an optional string member; ok is false when it is absent or null, err when it is another type.
func (o jsonObject) str(name string) (value string, ok bool, err error) {
	if !o.present(name) {
		return "", false, nil
	}
	if o[name].Kind() != '"' || json.Unmarshal(o[name], &value) != nil {
		return "", false, fmt.Errorf("%s must be a string", name)
	}
	return value, true, nil
}

// object reads an optional object member.
func (o jsonObject) object(name string) (jsonObject, bool, error) {
	if !o.present(name) {
		return nil, false, nil
	}
	obj, err := decodeObject(o[name])
	if err != nil {
		return nil, false, fmt.Errorf("%s must be a JSON object", name)
	}
	return obj, true, nil
}

// describeBodyError turns a decodeObject failure into a description for the wallet developer.
func describeBodyError(err error) string {
	var dup *duplicateError
	if errors.As(err, &dup) {
		return "the request repeats the parameter " + dup.name() + "; send each parameter once"
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
		"authorization_details", "client_id", "kty", "crv", "x", "y", "n", "e", "d", "type",
		"credential_configuration_ids", "locations", "code", "code_verifier", "redirect_uri", "code_challenge",
		"code_challenge_method", "state", "scope", "issuer_state", "resource", "response_type", "request_uri",
		"dpop_jkt", "id_token", "error", "error_description":
		return name
	default:
		return "(an unnamed parameter)"
	}
}
