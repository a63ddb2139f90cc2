package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestEveryResponseHasNosniff (docs/security.md, "Response headers"): every answer of a router, success or any
// error (unknown route, wrong method, missing key, too large, handler error, panic), carries
// X-Content-Type-Options: nosniff, so no browser sniffs a JSON error into HTML.
func TestEveryResponseHasNosniff(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		var logs bytes.Buffer
		r := newTestRouter(t, &logs)
		WithHSTS(hsts)(r)
		for _, req := range securityRequests() {
			resp, err := r.ServeEvent(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Headers["X-Content-Type-Options"]; got != "nosniff" {
				t.Errorf("%s %s (%d): X-Content-Type-Options = %q, want nosniff", req.HTTPMethod, req.Resource, resp.StatusCode, got)
			}
			got := resp.Headers["Strict-Transport-Security"]
			if hsts && !strings.HasPrefix(got, "max-age=") {
				t.Errorf("%s %s (%d): https issuer without HSTS (%q)", req.HTTPMethod, req.Resource, resp.StatusCode, got)
			}
			if !hsts && got != "" {
				t.Errorf("%s %s: HSTS %q on an http issuer", req.HTTPMethod, req.Resource, got)
			}
		}
	}
}

func securityRequests() []Request {
	return []Request{
		{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(), Body: `{"name":"a"}`},
		{HTTPMethod: "POST", Resource: "/v2/things", Body: `{}`},
		{HTTPMethod: "POST", Resource: "/v2/things", Headers: adminHeaders(), Body: strings.Repeat("x", MaxBodyBytes+1)},
		{HTTPMethod: "DELETE", Resource: "/v2/things"},
		{HTTPMethod: "GET", Resource: "/nowhere", Path: "/nowhere"},
		{HTTPMethod: "GET", Resource: "/boom"},
		{HTTPMethod: "GET", Resource: "/fail"},
		{HTTPMethod: "GET", Resource: "/png"},
	}
}

// TestErrorsDoNotEchoThePath (docs/security.md, "Reflected request path"): an unknown route or a wrong method
// answers without the path or method the client sent, whatever they contain.
func TestErrorsDoNotEchoThePath(t *testing.T) {
	var logs bytes.Buffer
	r := newTestRouter(t, &logs)
	const marker = "<script>alert(1)</script>"
	for _, req := range []Request{
		{HTTPMethod: "GET", Resource: "/" + marker, Path: "/" + marker},
		{HTTPMethod: "GET", Resource: "/{proxy+}", Path: "/v2/" + marker},
		{HTTPMethod: marker, Resource: "/v2/things", Path: "/v2/things"},
	} {
		resp, err := r.ServeEvent(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%q: status %d", req.Path, resp.StatusCode)
		}
		if strings.Contains(resp.Body, "<script") || strings.Contains(resp.Body, "alert(") || strings.Contains(resp.Body, `\u003cscript`) {
			t.Errorf("%q: the error echoes the request: %s", req.Path, resp.Body)
		}
	}
}

// TestAdminBodiesAreIJSON (docs/security.md, "Parser differentials"): a JSON body is I-JSON (RFC 7493) or a 400
// naming where it breaks: a repeated member (at any depth: two parsers could pick different values), invalid
// UTF-8, an escaped lone surrogate, a number beyond a double. The description never quotes the body.
func TestAdminBodiesAreIJSON(t *testing.T) {
	tests := []struct{ name, body, names string }{
		{"duplicate top-level member", `{"name":"a","name":"b"}`, "/name"},
		{"duplicate nested member", `{"name":"a","claims":{"is_admin":false,"is_admin":true}}`, "/claims/is_admin"},
		{"duplicate in an array of objects", `{"claims":{"roles":[{"r":1},{"r":1,"r":2}]}}`, "/claims/roles/1/r"},
		{"invalid UTF-8", "{\"name\":\"a\xff\"}", "UTF-8"},
		{"lone surrogate", `{"name":"\ud800x"}`, "surrogate"},
		{"number beyond a double", `{"count":1e400}`, "/count"},
		{"two documents", `{"name":"a"}{"name":"b"}`, "more than one"},
	}
	for _, tc := range tests {
		var v struct {
			Name   string         `json:"name"`
			Count  any            `json:"count"`
			Claims map[string]any `json:"claims"`
		}
		err := DecodeJSONBytes([]byte(tc.body), &v)
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.Contains(e.Description, tc.names) {
			t.Errorf("%s: %v, want a 400 naming %q", tc.name, err, tc.names)
			continue
		}
		if strings.Contains(e.Description, "is_admin\":") || strings.Contains(e.Description, `"b"`) {
			t.Errorf("%s: the description quotes the body: %s", tc.name, e.Description)
		}
	}
	// Still accepted: exact numbers are kept (json.Number), 2^53+1 included; unknown members are ignored.
	var ok struct {
		Claims map[string]any `json:"claims"`
	}
	if err := DecodeJSONBytes([]byte(`{"claims":{"n":9007199254740993},"extra":1}`), &ok); err != nil ||
		fmt.Sprint(ok.Claims["n"]) != "9007199254740993" {
		t.Errorf("valid body: %v %v", err, ok.Claims)
	}
}

// TestAdminBodiesMatchNamesCaseSensitively (docs/security.md, "Parser differentials"): member names match the
// fields of the body byte for byte, as every other JSON reader the organisation may put in front of the admin API
// does. encoding/json matched them case-insensitively, so {"issuanceMode":"InTime","IssuanceMode":"Deferred"}
// passed the duplicate check and was read as Deferred, while a case-sensitive validator upstream saw InTime; and
// {"CredentialDefinitionId": ...} alone selected a definition such a validator never saw. Now a name that differs
// only in case is an unknown member, ignored like any other.
func TestAdminBodiesMatchNamesCaseSensitively(t *testing.T) {
	type nested struct {
		Subject map[string]any `json:"credentialSubject"`
	}
	type body struct {
		Mode       string  `json:"issuanceMode"`
		Definition string  `json:"credentialDefinitionId"`
		Credential *nested `json:"credential"`
		Count      int     `json:"count"`
		Flag       bool    `json:"flag"`
	}
	tests := []struct {
		name, body string
		want       body
	}{
		{"case variant after the member", `{"issuanceMode":"InTime","IssuanceMode":"Deferred"}`, body{Mode: "InTime"}},
		{"case variant before the member", `{"ISSUANCEMODE":"Deferred","issuanceMode":"InTime"}`, body{Mode: "InTime"}},
		{"case variant alone", `{"CredentialDefinitionId":"other","issuanceMode":"InTime"}`, body{Mode: "InTime"}},
		{"case variant of a nested member", `{"credential":{"CredentialSubject":{"a":1},"credentialSubject":{"b":2}}}`,
			body{Credential: &nested{Subject: map[string]any{"b": json.Number("2")}}}},
		{"case variants of other kinds", `{"COUNT":3,"Flag":true}`, body{}},
	}
	for _, tc := range tests {
		var got body
		if err := DecodeJSONBytes([]byte(tc.body), &got); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: decoded %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// Claim names keep their case: they are map keys, not field names.
	var claims body
	if err := DecodeJSONBytes([]byte(`{"credential":{"credentialSubject":{"Name":"a","name":"b","n":{"X":1.50}}}}`), &claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Name": "a", "name": "b", "n": map[string]any{"X": json.Number("1.50")}}
	if !reflect.DeepEqual(claims.Credential.Subject, want) {
		t.Errorf("claims %#v, want %#v", claims.Credential.Subject, want)
	}
}
