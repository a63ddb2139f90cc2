package apigw

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// MaxBodyBytes is the largest request body any route accepts; larger bodies get 413.
const MaxBodyBytes = 256 << 10

// Header returns the value of the named header, matched case-insensitively as HTTP requires.
func Header(req *Request, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Query returns the first value of a query string parameter.
func Query(req *Request, name string) string {
	if v, ok := req.QueryStringParameters[name]; ok {
		return v
	}
	if v := req.MultiValueQueryStringParameters[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Body returns the decoded request body (API Gateway base64-encodes binary bodies).
func Body(req *Request) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, BadRequest("the request body is marked base64 but does not decode: %v", err)
	}
	return b, nil
}

// bodyTooLarge reports whether the body exceeds limit bytes without decoding it.
func bodyTooLarge(req *Request, limit int) bool {
	n := len(req.Body)
	if req.IsBase64Encoded {
		n = base64.StdEncoding.DecodedLen(n)
	}
	return n > limit
}

// DecodeJSON decodes a JSON object body into v. Unknown fields are ignored; a wrong type names the field.
func DecodeJSON(req *Request, v any) error {
	if ct := Header(req, "Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return Errorf(415, "invalid_request", "Content-Type must be application/json, got %q", ct)
		}
	}
	body, err := Body(req)
	if err != nil {
		return err
	}
	return DecodeJSONBytes(body, v)
}

// DecodeJSONBytes decodes one JSON object from body into v, with errors that name the offending field. The body
// must be I-JSON (RFC 7493: no repeated member, valid UTF-8 without lone surrogates, numbers within a double, one
// value), so that no other parser can read it differently; member names match v's fields byte for byte (a name
// that differs in case is an unknown member, ignored), and numbers decoded into interface values (claims) are
// json.Number with the digits sent.
func DecodeJSONBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("the request body is empty; send a JSON object")
	}
	if err := strictjson.Check(body); err != nil {
		var e *strictjson.Error
		if errors.As(err, &e) && e.Path != "" {
			return BadRequest("the request body is not I-JSON (RFC 7493): member %s %s; send each member once, "+
				"as valid UTF-8, with numbers a double can hold", e.Path, e.Reason)
		}
		return BadRequest("the request body is not I-JSON (RFC 7493): %v; send exactly one JSON object", err)
	}
	if err := strictjson.Unmarshal(body, v, strictjson.ExactNumbers()); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError describes a body that is I-JSON but does not fit the value decoded into.
func decodeError(err error) *Error {
	var sem *jsonv2.SemanticError
	if !errors.As(err, &sem) {
		return BadRequest("the request body cannot be decoded; send a JSON object")
	}
	field := fieldOf(sem.JSONPointer)
	switch {
	case sem.Err == nil && sem.GoType != nil && sem.JSONKind != 0 && field == "":
		return BadRequest("the request body must be a JSON object, not a JSON %s", kindName(sem.JSONKind))
	case sem.Err == nil && sem.GoType != nil && sem.JSONKind != 0:
		return BadRequest("field %q must be %s, not a JSON %s", field, jsonTypeName(sem.GoType.Kind().String()),
			kindName(sem.JSONKind))
	case sem.Err != nil && field != "":
		// A type's own UnmarshalJSON refused the value (a claim path, a status reference): its reason.
		return BadRequest("field %q: %v", field, sem.Err)
	case sem.Err != nil:
		return BadRequest("the request body cannot be decoded: %v", sem.Err)
	default:
		return BadRequest("field %q cannot be decoded; check its type", field)
	}
}

// fieldOf turns a JSON Pointer ("/credentials/0/credentialSubject") into the dotted form the admin API's errors
// use ("credentials.0.credentialSubject").
func fieldOf(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// kindName names a JSON value's kind as the admin API's errors do.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "interface", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return "a " + kind
}

// Form parses an application/x-www-form-urlencoded body, as the OAuth token endpoint receives it.
func Form(req *Request) (url.Values, error) {
	ct := Header(req, "Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, Errorf(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded, got %q", ct)
	}
	body, err := Body(req)
	if err != nil {
		return nil, err
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, Errorf(400, "invalid_request", "the form body does not parse: %v", err)
	}
	return values, nil
}

// PathParam returns a path parameter or a 400 naming it when it is missing.
func PathParam(req *Request, name string) (string, error) {
	v := req.PathParameters[name]
	if v == "" {
		return "", BadRequest("path parameter %s is missing", name)
	}
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	return v, nil
}

// describe is used in log lines for errors whose description is safe to log.
func describe(e *Error) string { return fmt.Sprintf("%d %s", e.Status, e.Code) }
