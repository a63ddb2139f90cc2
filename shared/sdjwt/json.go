package sdjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// maxJSONDepth bounds the nesting of claim trees on both the issuing and the verifying side: a value may sit inside
// at most maxJSONDepth objects and arrays.
const maxJSONDepth = 32

// MaxClaimDepth is maxJSONDepth for callers that check claims before issuance: a subject's member is at depth 1,
// and no value may sit deeper than MaxClaimDepth.
const MaxClaimDepth = maxJSONDepth

// errTooDeep is what the decoder's number and depth hook reports beyond maxJSONDepth.
var errTooDeep = fmt.Errorf("%w: JSON nested deeper than %d", ErrTooLarge, maxJSONDepth)

// decodeStrict decodes one JSON value from an SD-JWT (a JWS header or payload, a disclosure) with the strict decoder
// of go-json-experiment/json: no object with two members of the same name (different parsers resolve duplicates
// differently, so a verifier that accepted them could be shown claims the signer never saw), valid UTF-8 without
// lone surrogate escapes, no trailing data, and no value nested deeper than maxJSONDepth. Objects decode to
// map[string]any, arrays to []any and numbers to json.Number (their exact text), as encoding/json does with
// UseNumber.
func decodeStrict(data []byte) (any, error) {
	var v any
	if err := jsonv2.Unmarshal(data, &v, decodeHook); err != nil {
		if errors.Is(err, errTooDeep) {
			return nil, errTooDeep
		}
		var syn *jsontext.SyntacticError
		if errors.As(err, &syn) && errors.Is(err, jsontext.ErrDuplicateName) {
			// The pointer names the member; its last segment is the repeated name.
			return nil, fmt.Errorf("%w: duplicate JSON member at %s", ErrMalformed, syn.JSONPointer)
		}
		return nil, fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
	return v, nil
}

// decodeHook runs for every value decoded into an interface: it refuses values nested too deep and keeps numbers
// as json.Number; everything else is decoded as usual.
var decodeHook = jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *any) error {
	if dec.StackDepth() > maxJSONDepth {
		return errTooDeep
	}
	if dec.PeekKind() != '0' {
		return errors.ErrUnsupported // the default decoding
	}
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*v = json.Number(raw)
	return nil
}))

// marshal encodes v with encoding/json (object members sorted by name, numbers as encoding/json writes them)
// without HTML escaping, as other SD-JWT implementations write JSON. spaced reformats the result with ", " and ": "
// separators (jsontext.AppendFormat), as the RFC 9901 examples print their disclosures.
func marshal(v any, spaced bool) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, describeMarshalError(err)
	}
	out := bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})
	if spaced {
		return jsontext.AppendFormat(nil, out, jsontext.SpaceAfterComma(true), jsontext.SpaceAfterColon(true))
	}
	return bytes.Clone(out), nil
}

// encoder is an encoding/json Encoder without HTML escaping and the buffer it writes to, pooled: issuing a
// credential encodes every disclosure and the payload.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// describeMarshalError says why a claim value cannot be encoded without quoting it: errors name claims and kinds,
// never values.
func describeMarshalError(err error) error {
	var value *json.UnsupportedValueError
	var typ *json.UnsupportedTypeError
	switch {
	case errors.As(err, &value) && value.Value.CanFloat():
		return errors.New("non-finite number")
	case errors.As(err, &typ):
		return fmt.Errorf("a value of Go type %s has no JSON form", typ.Type)
	}
	return errors.New("a value cannot be encoded as JSON")
}
