package oid4vci

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
)

// referenceDecodeObject is the json.Decoder formulation of decodeObject: the behaviour decodeObject must keep.
func referenceDecodeObject(data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, errNotObject
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	out := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errNotObject
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errNotObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errNotObject
		}
		if _, dup := out[key]; dup {
			return nil, &duplicateError{name: key}
		}
		out[key] = string(raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, errNotObject
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errNotObject
	}
	return out, nil
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

func checkDecodeObject(t *testing.T, in []byte) {
	t.Helper()
	got, err := decodeObject(in)
	want, wantErr := referenceDecodeObject(in)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("decodeObject(%q) error = %v, reference error = %v", in, err, wantErr)
	}
	if err != nil {
		if !json.Valid(in) {
			return // which of several faults is reported first may differ on invalid JSON
		}
		var dup, wantDup *duplicateError
		if errors.As(err, &dup) != errors.As(wantErr, &wantDup) || (dup != nil && dup.name != wantDup.name) {
			t.Fatalf("decodeObject(%q) error = %v, reference error = %v", in, err, wantErr)
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

// FuzzDecodeObject checks decodeObject against the json.Decoder formulation on arbitrary input.
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
		{"\"\xff\"", "\ufffd", true, false},
		{`null`, "", false, false},
		{`1`, "", false, true},
		{`["a"]`, "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, ok, err := jsonObject{"m": json.RawMessage(tc.raw)}.str("m")
			if got != tc.want || ok != tc.ok || (err != nil) != tc.wantErr {
				t.Fatalf("str(%s) = %q, %v, %v; want %q, %v, error %v", tc.raw, got, ok, err, tc.want, tc.ok, tc.wantErr)
			}
		})
	}
}
