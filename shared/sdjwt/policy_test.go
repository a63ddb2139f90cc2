package sdjwt

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestClaimPathJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    ClaimPath
		wantErr bool
	}{
		{`["given_name"]`, ClaimPath{Name("given_name")}, false},
		{`["address","street_address"]`, ClaimPath{Name("address"), Name("street_address")}, false},
		{`["nationalities",null]`, ClaimPath{Name("nationalities"), AllElements()}, false},
		{`["nationalities",1]`, ClaimPath{Name("nationalities"), Index(1)}, false},
		{`[]`, nil, true},
		{`["a",-1]`, nil, true},
		{`["a",1.5]`, nil, true},
		{`["a",true]`, nil, true},
		{`["a",{}]`, nil, true},
		{`"a"`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var p ClaimPath
			err := json.Unmarshal([]byte(tc.in), &p)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidPolicy) {
					t.Fatalf("err = %v, want ErrInvalidPolicy", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(p, tc.want) {
				t.Fatalf("got %v, %v; want %v", p, err, tc.want)
			}
			back, err := json.Marshal(p)
			if err != nil || string(back) != tc.in {
				t.Errorf("round trip = %s, %v", back, err)
			}
		})
	}
}

func TestNewPolicyValidation(t *testing.T) {
	p := func(els ...PathElement) ClaimPath { return ClaimPath(els) }
	tests := []struct {
		name  string
		rules []ClaimRule
		ok    bool
	}{
		{"reference", ReferenceRules(), true},
		{"empty path", []ClaimRule{{Path: nil, LimitDisclosure: true}}, false},
		{"starts with index", []ClaimRule{{Path: p(Index(0)), LimitDisclosure: true}}, false},
		{"starts with null", []ClaimRule{{Path: p(AllElements()), LimitDisclosure: true}}, false},
		{"iss", []ClaimRule{{Path: p(Name("iss")), LimitDisclosure: true}}, false},
		{"vct", []ClaimRule{{Path: p(Name("vct"))}}, false},
		{"cnf member", []ClaimRule{{Path: p(Name("cnf"), Name("jwk")), LimitDisclosure: true}}, false},
		{"status", []ClaimRule{{Path: p(Name("status")), LimitDisclosure: true}}, false},
		{"vct#integrity", []ClaimRule{{Path: p(Name("vct#integrity")), LimitDisclosure: true}}, false},
		{"exp nbf iat", []ClaimRule{{Path: p(Name("exp"))}, {Path: p(Name("nbf"))}, {Path: p(Name("iat"))}}, false},
		{"nested _sd", []ClaimRule{{Path: p(Name("a"), Name("_sd")), LimitDisclosure: true}}, false},
		{"nested ...", []ClaimRule{{Path: p(Name("a"), Name("...")), LimitDisclosure: true}}, false},
		{"nested iss is an ordinary name", []ClaimRule{{Path: p(Name("a"), Name("iss")), LimitDisclosure: true}}, true},
		{"object then array", []ClaimRule{{Path: p(Name("a"), Name("b"))}, {Path: p(Name("a"), AllElements())}}, false},
		{"array then object", []ClaimRule{{Path: p(Name("a"), Index(0))}, {Path: p(Name("a"), Name("b"))}}, false},
		{"array of objects", []ClaimRule{{Path: p(Name("a"), AllElements(), Name("b")), LimitDisclosure: true}}, true},
		{"element kind missing", []ClaimRule{{Path: ClaimPath{{}}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPolicy(tc.rules)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidPolicy)) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestDisclosureMapping(t *testing.T) {
	vc, err := ReferenceCredential()
	if err != nil {
		t.Fatal(err)
	}
	got := vc.Policy.DisclosureMapping(vc.Claims)
	want := map[string]any{
		"given_name":   map[string]any{"limitedDisclosure": true},
		"family_name":  map[string]any{"limitedDisclosure": true},
		"birthdate":    map[string]any{"limitedDisclosure": true},
		"email":        map[string]any{"limitedDisclosure": true},
		"phone_number": map[string]any{"limitedDisclosure": true},
		"address": map[string]any{"limitedDisclosure": true,
			"street_address": map[string]any{"limitedDisclosure": true},
			"locality":       map[string]any{"limitedDisclosure": true},
			"postal_code":    map[string]any{"limitedDisclosure": true},
			"country":        map[string]any{"limitedDisclosure": false},
		},
		"nationalities": map[string]any{"limitedDisclosure": false, "items": []any{
			map[string]any{"limitedDisclosure": true}, map[string]any{"limitedDisclosure": true}}},
		"is_over_18":      map[string]any{"limitedDisclosure": true},
		"issuing_country": map[string]any{"limitedDisclosure": false},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("mapping =\n%s\nwant\n%s", g, w)
	}
	var nilPolicy *Policy
	m := nilPolicy.DisclosureMapping(map[string]any{"a": map[string]any{"b": 1}})
	if !reflect.DeepEqual(m, map[string]any{"a": map[string]any{"limitedDisclosure": false, "b": map[string]any{"limitedDisclosure": false}}}) {
		t.Errorf("nil policy mapping = %v", m)
	}
}

func TestPolicyIndexAndAllMerge(t *testing.T) {
	// Element 1 is disclosable through its index rule, every element's "b" through the null rule.
	pol, err := NewPolicy([]ClaimRule{
		{Path: ClaimPath{Name("a"), AllElements(), Name("b")}, LimitDisclosure: true},
		{Path: ClaimPath{Name("a"), Index(1)}, LimitDisclosure: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"a": []any{map[string]any{"b": 1.0, "c": 2.0}, map[string]any{"b": 3.0}}}
	got := pol.DisclosureMapping(claims)
	items := got["a"].(map[string]any)["items"].([]any)
	if items[0].(map[string]any)["limitedDisclosure"] != false || items[1].(map[string]any)["limitedDisclosure"] != true {
		t.Errorf("items = %v", items)
	}
	if items[0].(map[string]any)["b"].(map[string]any)["limitedDisclosure"] != true ||
		items[1].(map[string]any)["b"].(map[string]any)["limitedDisclosure"] != true {
		t.Errorf("merged member rule lost: %v", items)
	}
}
