package apigw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"

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

// bodyTooLarge reports whether the body exceeds MaxBodyBytes without decoding it.
func bodyTooLarge(req *Request) bool {
	n := len(req.Body)
	if req.IsBase64Encoded {
		n = base64.StdEncoding.DecodedLen(n)
	}
	return n > MaxBodyBytes
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

// DecodeJSONBytes decodes one JSON object from body into v, with errors that name the offending field.
func DecodeJSONBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("the request body is empty; send a JSON object")
	}
	// I-JSON first (RFC 7493: no repeated member, valid UTF-8 without lone surrogates, numbers within a double,
	// one value), so that no other parser can read this body differently; then the decode below names fields.
	if err := strictjson.Check(body); err != nil {
		var e *strictjson.Error
		if errors.As(err, &e) && e.Path != "" {
			return BadRequest("the request body is not I-JSON (RFC 7493): member %s %s; send each member once, "+
				"as valid UTF-8, with numbers a double can hold", e.Path, e.Reason)
		}
		return BadRequest("the request body is not I-JSON (RFC 7493): %v; send exactly one JSON object", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("the request body has data after the JSON object; send exactly one JSON object")
	}
	return nil
}

func jsonError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return BadRequest("the request body must be a JSON object, not a JSON %s", typeErr.Value)
		}
		return BadRequest("field %q must be %s, not a JSON %s", field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return BadRequest("the request body is not valid JSON (offset %d): %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("the request body is truncated JSON")
	default:
		return BadRequest("the request body is not valid JSON: %v", err)
	}
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
