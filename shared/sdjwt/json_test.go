package sdjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeStrictReference is the token-by-token encoding/json decoder this package used before go-json-experiment,
// kept as the reference decodeStrict is checked against: it decodes one JSON value with json.Number numbers,
// rejecting duplicate object members, nesting beyond maxJSONDepth and trailing data. It turns invalid UTF-8 and
// lone surrogate escapes into U+FFFD, which decodeStrict refuses.
func decodeStrictReference(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeValueReference(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after JSON value", ErrMalformed)
	}
	return v, nil
}

func decodeValueReference(d *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("%w: JSON nested deeper than %d", ErrTooLarge, maxJSONDepth)
	}
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := make(map[string]any)
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, fmt.Errorf("%w: invalid JSON", ErrMalformed)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("%w: invalid JSON object key", ErrMalformed)
				}
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("%w: duplicate JSON member %q", ErrMalformed, k)
				}
				v, err := decodeValueReference(d, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := d.Token(); err != nil {
				return nil, fmt.Errorf("%w: invalid JSON", ErrMalformed)
			}
			return m, nil
		case '[':
			a := make([]any, 0, 4)
			for d.More() {
				v, err := decodeValueReference(d, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, fmt.Errorf("%w: invalid JSON", ErrMalformed)
			}
			return a, nil
		default:
			return nil, fmt.Errorf("%w: unexpected JSON delimiter", ErrMalformed)
		}
	default:
		return tok, nil
	}
}

// sameDecoding checks decodeStrict against decodeStrictReference on data: both accept it with equal values, or
// both refuse it as malformed or too large, or decodeStrict alone refuses it for invalid UTF-8 or a lone surrogate
// (which the reference would have decoded as U+FFFD).
func sameDecoding(t *testing.T, data []byte) {
	t.Helper()
	got, err := decodeStrict(data)
	want, refErr := decodeStrictReference(data)
	if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
		t.Fatalf("decodeStrict(%q) error = %v, want ErrMalformed or ErrTooLarge", data, err)
	}
	switch {
	case err == nil && refErr != nil:
		t.Fatalf("decodeStrict(%q) accepts what the reference refuses: %v", data, refErr)
	case err != nil && refErr == nil:
		if utf8.Valid(data) && !loneSurrogate.Match(data) {
			t.Fatalf("decodeStrict(%q) error = %v, the reference accepts it", data, err)
		}
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("decodeStrict(%q) = %#v, reference %#v", data, got, want)
	}
}

// loneSurrogate finds a surrogate escape (\uD800 to \uDFFF): unpaired, the reference decodes it as U+FFFD and
// decodeStrict refuses it; that and invalid UTF-8 are the only disagreements allowed.
var loneSurrogate = regexp.MustCompile(`(?i)\\u[d][89a-f][0-9a-f]{2}`)

func TestDecodeStrict(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	members := func(n int, dupAt int) string {
		var b strings.Builder
		b.WriteByte('{')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			k := i
			if i == dupAt {
				k = 0
			}
			fmt.Fprintf(&b, `"k%d":%d`, k, i)
		}
		b.WriteByte('}')
		return b.String()
	}
	tests := []struct {
		name    string
		in      string
		wantErr error // nil: accepted
	}{
		{"object", `{"a":1,"b":[true,false,null,"x"],"c":{"d":-1.5e3}}`, nil},
		{"scalars", ` "s" `, nil},
		{"number", `12345678901234567890`, nil},
		{"empty containers", `{"a":{},"b":[],"c":[{}]}`, nil},
		{"white space", " \t\n{ \"a\" : [ 1 , 2 ] }\r\n", nil},
		{"escaped names", `{"a\"b":1,"a\\b":2,"\u00e9":3,"é2":4}`, nil},
		{"duplicate", `{"a":1,"a":2}`, ErrMalformed},
		{"duplicate after escape", `{"a":1,"\u0061":2}`, ErrMalformed},
		{"duplicate non-ASCII", `{"é":1,"\u00e9":2}`, ErrMalformed},
		{"invalid UTF-8 name", "{\"\xff\":1}", ErrMalformed},
		{"invalid UTF-8 value", "[\"a\xfe\"]", ErrMalformed},
		{"lone surrogate", `["\ud800"]`, ErrMalformed},
		{"surrogate pair", `["\ud83d\ude00"]`, nil},
		{"duplicate nested", `{"a":{"b":1,"c":{"b":2,"b":3}}}`, ErrMalformed},
		{"same name in sibling objects", `[{"a":1},{"a":2}]`, nil},
		{"17 distinct members", members(17, -1), nil},
		{"40 members, duplicate at 39", members(40, 39), ErrMalformed},
		{"17 members, duplicate at 16", members(17, 16), ErrMalformed},
		{"depth at the limit", deep(maxJSONDepth + 1), nil},
		{"depth over the limit", deep(maxJSONDepth + 2), ErrTooLarge},
		{"scalar over the limit", strings.Repeat("[", maxJSONDepth+1) + "1" + strings.Repeat("]", maxJSONDepth+1), ErrTooLarge},
		{"very deep", deep(20000), ErrTooLarge},
		{"trailing data", `{} {}`, ErrMalformed},
		{"trailing comma", `[1,]`, ErrMalformed},
		{"missing colon", `{"a" 1}`, ErrMalformed},
		{"bad literal", `[tru]`, ErrMalformed},
		{"bad number", `[01]`, ErrMalformed},
		{"unterminated string", `["abc`, ErrMalformed},
		{"control character in string", "[\"a\x01\"]", ErrMalformed},
		{"bad escape", `["\x"]`, ErrMalformed},
		{"empty", ``, ErrMalformed},
		{"unquoted name", `{a:1}`, ErrMalformed},
		{"lone bracket", `]`, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStrict([]byte(tc.in))
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			sameDecoding(t, []byte(tc.in))
		})
	}
}

// FuzzDecodeStrict checks decodeStrict (go-json-experiment) against the token-by-token encoding/json reference
// decoder: a regression guard for duplicate members, depth, trailing data and number handling.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null,"x"],"c":{"d":-1.5e3}}`, `{"a":1,"\u0061":2}`, "{\"\xff\":1}",
		`["DE",{"...":"abc"}]`, `[[[[[[1]]]]]]`, `{"a" : { "b" : [ ] } }`, `"\ud800"`, `1e400`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecoding(t, data)
	})
}
