package gateway

import (
	"encoding/json"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	event := `{"version":"0","id":"1","detail-type":"DeferredCredentialReady","source":"com.example.hr",
		"account":"1","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":["arn:a","arn:b"],
		"detail":{"credentialExchangeId":"x-1","count":5,"flag":true,"none":null,"nested":{"state":"Ready"}}}`
	tests := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"detail-type in list", `{"detail-type":["DeferredCredentialReady","DeferredCredentialDenied"]}`, true},
		{"detail-type not in list", `{"detail-type":["DeferredCredentialDenied"]}`, false},
		{"two fields both match", `{"source":["com.example.hr"],"detail-type":["DeferredCredentialReady"]}`, true},
		{"two fields one fails", `{"source":["other"],"detail-type":["DeferredCredentialReady"]}`, false},
		{"nested detail", `{"detail":{"nested":{"state":["Ready"]}}}`, true},
		{"nested detail mismatch", `{"detail":{"nested":{"state":["Done"]}}}`, false},
		{"nested pattern on a scalar", `{"source":{"x":["y"]}}`, false},
		{"array field any element", `{"resources":["arn:b"]}`, true},
		{"number", `{"detail":{"count":[5]}}`, true},
		{"number mismatch", `{"detail":{"count":[6]}}`, false},
		{"string is not number", `{"detail":{"count":["5"]}}`, false},
		{"boolean", `{"detail":{"flag":[true]}}`, true},
		{"null matches null", `{"detail":{"none":[null]}}`, true},
		{"null does not match missing", `{"detail":{"missing":[null]}}`, false},
		{"prefix", `{"source":[{"prefix":"com.example"}]}`, true},
		{"prefix mismatch", `{"source":[{"prefix":"org."}]}`, false},
		{"prefix ignore case", `{"source":[{"prefix":{"equals-ignore-case":"COM.EX"}}]}`, true},
		{"suffix", `{"source":[{"suffix":".hr"}]}`, true},
		{"equals-ignore-case", `{"detail-type":[{"equals-ignore-case":"deferredcredentialready"}]}`, true},
		{"wildcard", `{"detail-type":[{"wildcard":"Deferred*Ready"}]}`, true},
		{"wildcard mismatch", `{"detail-type":[{"wildcard":"Deferred*Denied"}]}`, false},
		{"anything-but scalar", `{"source":[{"anything-but":"other"}]}`, true},
		{"anything-but list hit", `{"source":[{"anything-but":["other","com.example.hr"]}]}`, false},
		{"anything-but prefix", `{"source":[{"anything-but":{"prefix":"com."}}]}`, false},
		{"exists true", `{"detail":{"credentialExchangeId":[{"exists":true}]}}`, true},
		{"exists false on present", `{"detail":{"credentialExchangeId":[{"exists":false}]}}`, false},
		{"exists false on missing", `{"detail":{"missing":[{"exists":false}]}}`, true},
		{"numeric range", `{"detail":{"count":[{"numeric":[">",1,"<=",5]}]}}`, true},
		{"numeric out of range", `{"detail":{"count":[{"numeric":[">",5]}]}}`, false},
		{"missing field", `{"detail":{"missing":["x"]}}`, false},
		{"scalar pattern value is invalid", `{"source":"com.example.hr"}`, false},
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p map[string]any
			if err := json.Unmarshal([]byte(tc.pattern), &p); err != nil {
				t.Fatal(err)
			}
			if got := matchPattern(p, ev); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckPattern(t *testing.T) {
	tests := []struct {
		pattern string
		ok      bool
	}{
		{`{"detail-type":["A","B"]}`, true},
		{`{"detail":{"x":[{"prefix":"a"}]}}`, true},
		{`{}`, false},
		{`{"detail-type":[]}`, false},
		{`{"detail-type":"A"}`, false},
		{`{"source":[{"cidr":"10.0.0.0/24"}]}`, false},
		{`{"detail":{}}`, false},
	}
	for _, tc := range tests {
		var p map[string]any
		if err := json.Unmarshal([]byte(tc.pattern), &p); err != nil {
			t.Fatal(err)
		}
		if err := checkPattern(p); (err == nil) != tc.ok {
			t.Errorf("checkPattern(%s) = %v, want ok %v", tc.pattern, err, tc.ok)
		}
	}
}
