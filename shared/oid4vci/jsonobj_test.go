package oid4vci

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// referenceDecodeObject is the encoding/json formulation of decodeObject, kept as the regression guard of the
// go-json-experiment decoder: one JSON object, its members raw, and no member name repeated in any object of the
// document (the error names the first repeated member, in document order, by its JSON Pointer). encoding/json
// decodes invalid UTF-8 and lone surrogate escapes as U+FFFD, which decodeObject refuses.
func referenceDecodeObject(data []byte) (map[string]string, error) {
	if !json.Valid(data) {
		return nil, errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if ptr, dup := referenceDuplicate(dec, ""); dup {
		return nil, &duplicateError{path: jsontext.Pointer(ptr)}
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil || members == nil {
		return nil, errNotObject
	}
	out := map[string]string{}
	for k, v := range members {
		out[k] = string(v)
	}
	return out, nil
}

// referenceDuplicate walks the value at dec and reports the pointer of the first repeated member name.
func referenceDuplicate(dec *json.Decoder, at string) (string, bool) {
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			nt, err := dec.Token()
			if err != nil {
				return "", false
			}
			name, _ := nt.(string)
			ptr := at + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
			if seen[name] {
				return ptr, true
			}
			seen[name] = true
			if p, dup := referenceDuplicate(dec, ptr); dup {
				return p, true
			}
		}
		_, _ = dec.Token()
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if p, dup := referenceDuplicate(dec, at+"/"+strconv.Itoa(i)); dup {
				return p, true
			}
		}
		_, _ = dec.Token()
	}
	return "", false
}

// compact strips insignificant whitespace, so raw member values compare regardless of layout.
func compact(t testing.TB, raw string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		t.Fatalf("compact %q: %v", raw, err)
	}
	return b.String()
}

// surrogateEscape finds a \uD800-\uDFFF escape: unpaired, encoding/json decodes it as U+FFFD, decodeObject refuses it.
var surrogateEscape = regexp.MustCompile(`(?i)\\ud[89a-f][0-9a-f]{2}`)

func checkDecodeObject(t *testing.T, in []byte) {
	t.Helper()
	got, err := decodeObject(in)
	want, wantErr := referenceDecodeObject(in)
	switch {
	case err == nil && wantErr != nil:
		t.Fatalf("decodeObject(%q) accepts what the reference refuses: %v", in, wantErr)
	case err != nil && wantErr == nil:
		if utf8.Valid(in) && !surrogateEscape.Match(in) {
			t.Fatalf("decodeObject(%q) error = %v, the reference accepts it", in, err)
		}
		return
	case err != nil:
		if !json.Valid(in) {
			return // which of several faults is reported first may differ on invalid JSON
		}
		var dup, wantDup *duplicateError
		if errors.As(err, &dup) != errors.As(wantErr, &wantDup) || (dup != nil && dup.path != wantDup.path) {
			if utf8.Valid(in) && !surrogateEscape.Match(in) {
				t.Fatalf("decodeObject(%q) error = %v, reference error = %v", in, err, wantErr)
			}
		}
		return
	}
	gotS := map[string]string{}
	for k, v := range got {
		gotS[k] = compact(t, string(v))
	}
	for k, v := range want {
		want[k] = compact(t, v)
	}
	if !reflect.DeepEqual(gotS, want) {
		t.Fatalf("decodeObject(%q) = %v, want %v", in, gotS, want)
	}
}

func TestDecodeObject(t *testing.T) {
	tests := []string{
		`{}`,
		` { } `,
		`{"a":1}`,
		"{\t\"a\" :\n 1 ,\r\"b\": [1, {\"c\": \"}]\"}], \"d\": {\"e\": [\"\\\"{\"]}}\n",
		`{"a":"x\"y","b":true,"c":false,"d":null,"e":-1.5e3}`,
		`{"a":1,"a":2}`,
		`{"a":1,"\u0061":2}`,
		`{"\u00e9":1,"é":2}`,
		`{"a\\":1,"b":{"a":1,"a":2}}`,
		`{"a":1} {}`,
		`{"a":1}x`,
		`[1]`,
		`"s"`,
		`{"a":}`,
		`{"a":1,}`,
		`{"a" 1}`,
		``,
		`{`,
		`{"a":[1,2}`,
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) { checkDecodeObject(t, []byte(in)) })
	}
}

// FuzzDecodeObject checks decodeObject (go-json-experiment) against the encoding/json formulation on arbitrary
// input.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[{"c":"}"}]}`, `{"a":1,"\u0061":2}`, `{"x":"\ud800"}`, `{} `, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkDecodeObject(t, in) })
}

func TestJSONObjectStr(t *testing.T) {
	tests := []struct {
		raw     string
		want    string
		ok      bool
		wantErr bool
	}{
		{`"abc"`, "abc", true, false},
		{` "a b" `, "a b", true, false},
		{`""`, "", true, false},
		{`"a\"b"`, `a"b`, true, false},
		{`"a\\b"`, `a\b`, true, false},
		{`"\u00e9t\u00e9"`, "été", true, false},
		{`"été"`, "été", true, false},
		{`null`, "", false, false},
		{`1`, "", false, true},
		{`["a"]`, "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, ok, err := jsonObject{"m": jsontext.Value(tc.raw)}.str("m")
			if got != tc.want || ok != tc.ok || (err != nil) != tc.wantErr {
				t.Fatalf("str(%s) = %q, %v, %v; want %q, %v, error %v", tc.raw, got, ok, err, tc.want, tc.ok, tc.wantErr)
			}
		})
	}
}
