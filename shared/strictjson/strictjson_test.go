package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

type request struct {
	Name   string         `json:"name"`
	Count  int            `json:"count"`
	Tags   []string       `json:"tags"`
	Claims map[string]any `json:"claims"`
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		opts       []Option
		wantPath   string // "" with wantReason "": accepted
		wantReason string
	}{
		{"accepted", `{"name":"a","count":2,"tags":["x"],"claims":{"age":42.5,"n":null}}`, nil, "", ""},
		{"unknown member ignored", `{"name":"a","extra":1}`, nil, "", ""},
		{"white space around", " \n{\"name\" : \"a\"}\t", nil, "", ""},
		{"2^53+1 fits a double (approximately)", `{"claims":{"n":9007199254740993}}`, nil, "", ""},
		{"duplicate top-level member", `{"name":"a","name":"b"}`, nil, "/name", "repeats a member name"},
		{"duplicate after unescaping", `{"name":"a","\u006eame":"b"}`, nil, "/name", "repeats a member name"},
		{"duplicate nested", `{"claims":{"a":{"b":1,"b":2}}}`, nil, "/claims/a/b", "repeats a member name"},
		{"duplicate in an array element", `{"claims":{"l":[{},{"x":1,"x":1}]}}`, nil, "/claims/l/1/x", "repeats a member name"},
		{"invalid UTF-8 in a value", "{\"name\":\"a\xff\"}", nil, "/name", "is not valid UTF-8"},
		{"lone high surrogate", `{"claims":{"s":"\ud800"}}`, nil, "/claims/s", "lone surrogate"},
		{"lone low surrogate", `{"tags":["ok","\udc00x"]}`, nil, "/tags/1", "lone surrogate"},
		{"number beyond a double", `{"claims":{"big":1e400}}`, nil, "/claims/big", "out of the range of a double"},
		{"negative number beyond a double", `{"count":-2e308}`, nil, "/count", "out of the range of a double"},
		{"second value", `{"name":"a"} {}`, nil, "", "more than one JSON value"},
		{"truncated", `{"name":"a"`, nil, "", "ends before"},
		{"empty", ``, nil, "", "ends before"},
		{"syntax error", `{"name":"a",}`, nil, "", "is not valid JSON (at byte"},
		{"names match case-sensitively", `{"Name":"a"}`, []Option{RejectUnknownMembers()}, "/Name", "is not a known member"},
		{"unknown member refused", `{"name":"a","extra":1}`, []Option{RejectUnknownMembers()}, "/extra", "is not a known member"},
		{"wrong type", `{"count":"2"}`, nil, "/count", "must be an integer in range, not string"},
		{"wrong type in an array", `{"tags":["a",1]}`, nil, "/tags/1", "must be a string, not number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got request
			err := Unmarshal([]byte(tc.in), &got, tc.opts...)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if e.Path != tc.wantPath || !strings.Contains(e.Reason, tc.wantReason) {
				t.Fatalf("error path %q reason %q, want path %q reason containing %q", e.Path, e.Reason, tc.wantPath, tc.wantReason)
			}
		})
	}
}

func TestUnmarshalDecodes(t *testing.T) {
	var got request
	if err := Unmarshal([]byte(`{"name":"é\u00e9","count":3,"tags":["a","b"],"claims":{"x":[true,null,1.5]}}`), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "éé" || got.Count != 3 || len(got.Tags) != 2 || got.Claims["x"].([]any)[2] != 1.5 {
		t.Fatalf("decoded %+v", got)
	}
}

func TestDuplicateIsDetectable(t *testing.T) {
	err := Unmarshal([]byte(`{"a":1,"a":1}`), new(map[string]any))
	if !errors.Is(err, jsontext.ErrDuplicateName) {
		t.Fatalf("errors.Is(%v, ErrDuplicateName) = false", err)
	}
}

// The reasons never quote the document: a value with personal data must not reach an error description.
func TestErrorsDoNotQuoteTheDocument(t *testing.T) {
	const secret = "Sup3rSecretPIN"
	for _, in := range []string{
		`{"name":"` + secret + `",}`, `{"name":"` + secret + `\ud800"}`, `{"name":` + secret + `}`,
		`{"count":"` + secret + `"}`, "{\"name\":\"" + secret + "\xff\"}", `{"name":"` + secret,
	} {
		err := Unmarshal([]byte(in), new(request))
		if err == nil {
			t.Fatalf("%q accepted", in)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%q: error %T", in, err)
		}
		if strings.Contains(e.Error(), secret[:6]) {
			t.Fatalf("%q: error %q quotes the document", in, e.Error())
		}
	}
}

// FuzzCheck guards Check against encoding/json: whatever Check accepts, encoding/json decodes, and for documents
// without repeated names, invalid UTF-8, lone surrogates or out-of-range numbers the two agree.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"a":2}`, `"\ud800"`, `1e400`, `[1,2,{"b":[null]}]`, "\"\xff\"", ` 1 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data)
		var v any
		stdErr := json.Unmarshal(data, &v)
		if err == nil {
			if stdErr != nil {
				t.Fatalf("Check accepted %q, encoding/json refuses it: %v", data, stdErr)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Check(%q) = %v (%T), want *Error", data, err, err)
		}
		if stdErr != nil {
			return
		}
		// encoding/json accepted it: the reason must be one of the I-JSON rules it does not apply.
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
		case !utf8.Valid(data), strings.Contains(e.Reason, "surrogate"):
		case strings.Contains(e.Reason, "out of the range of a double"):
		default:
			t.Fatalf("Check(%q) = %v, but encoding/json accepts it", data, err)
		}
	})
}

// TestExactNumbers: with ExactNumbers, numbers decoded into interface values, at any depth of maps and arrays,
// are json.Number with the digits sent; struct fields keep their own types, and names still match by case.
func TestExactNumbers(t *testing.T) {
	var v struct {
		Count  int            `json:"count"`
		Claims map[string]any `json:"claims"`
		Any    any            `json:"any"`
	}
	body := `{"count":2,"Count":5,"claims":{"big":9007199254740993,"list":[1.50,{"x":-0}]},"any":1e2}`
	if err := Unmarshal([]byte(body), &v, ExactNumbers()); err != nil {
		t.Fatal(err)
	}
	list, _ := v.Claims["list"].([]any)
	inner, _ := list[1].(map[string]any)
	if v.Count != 2 || v.Claims["big"] != json.Number("9007199254740993") || list[0] != json.Number("1.50") ||
		inner["x"] != json.Number("-0") || v.Any != json.Number("1e2") {
		t.Errorf("decoded %#v", v)
	}
	// Without the option a number in an interface value is a float64.
	var plain struct {
		Any any `json:"any"`
	}
	if err := Unmarshal([]byte(`{"any":1.5}`), &plain); err != nil || plain.Any != 1.5 {
		t.Errorf("without ExactNumbers: %#v %v", plain.Any, err)
	}
}
