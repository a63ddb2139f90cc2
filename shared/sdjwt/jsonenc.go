package sdjwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of claim trees on both the issuing and the verifying side.
const maxJSONDepth = 32

// jsonEncoder appends JSON without reflection for the types a decoded claim tree holds
// (map[string]any, []any, string, float64, bool, nil, json.Number, json.RawMessage and the
// integer types). Object members are written in sorted order, so output is deterministic.
// With spaced set, separators are ", " and ": " as in the RFC 9901 examples.
type jsonEncoder struct {
	spaced bool
}

func (e jsonEncoder) comma(dst []byte) []byte {
	if e.spaced {
		return append(dst, ',', ' ')
	}
	return append(dst, ',')
}

func (e jsonEncoder) colon(dst []byte) []byte {
	if e.spaced {
		return append(dst, ':', ' ')
	}
	return append(dst, ':')
}

// appendValue appends the JSON encoding of v to dst.
func (e jsonEncoder) appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return dst, fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case float64:
		return appendFloat(dst, x)
	case float32:
		return appendFloat(dst, float64(x))
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case json.Number:
		if !validNumber(string(x)) {
			return dst, fmt.Errorf("%w: invalid json.Number", ErrInvalidClaims)
		}
		return append(dst, x...), nil
	case json.RawMessage:
		if !json.Valid(x) {
			return dst, fmt.Errorf("%w: invalid json.RawMessage", ErrInvalidClaims)
		}
		return append(dst, x...), nil
	case map[string]any:
		return e.appendObject(dst, x, depth)
	case []any:
		dst = append(dst, '[')
		for i, el := range x {
			if i > 0 {
				dst = e.comma(dst)
			}
			var err error
			if dst, err = e.appendValue(dst, el, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		dst = append(dst, '[')
		for i, el := range x {
			if i > 0 {
				dst = e.comma(dst)
			}
			dst = appendString(dst, el)
		}
		return append(dst, ']'), nil
	default:
		// Other Go types (structs, typed maps) take the reflective path once; decoded claim
		// trees never get here.
		b, err := json.Marshal(x)
		if err != nil {
			return dst, fmt.Errorf("%w: value of type %T: %w", ErrInvalidClaims, v, err)
		}
		if e.spaced {
			return e.appendValue(dst, json.RawMessage(b), depth)
		}
		return append(dst, b...), nil
	}
}

func (e jsonEncoder) appendObject(dst []byte, m map[string]any, depth int) ([]byte, error) {
	keys := sortedKeys(m)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = e.comma(dst)
		}
		dst = e.colon(appendString(dst, k))
		var err error
		if dst, err = e.appendValue(dst, m[k], depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendFloat formats like encoding/json, so issued and re-encoded numbers agree.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, fmt.Errorf("%w: non-finite number", ErrInvalidClaims)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. UTF-8 is kept as is (as in the RFC examples); quotes,
// backslashes, control characters, U+2028 and U+2029 are escaped; invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	var v any
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return false
	}
	_, ok := v.(json.Number)
	return ok && d.InputOffset() == int64(len(s))
}
