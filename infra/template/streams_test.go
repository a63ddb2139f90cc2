package template

import (
	"encoding/json"
	"testing"
)

func TestFilterMatches(t *testing.T) {
	var pattern map[string]any
	if err := json.Unmarshal([]byte(`{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "EXCHANGE#"}]}}, "SizeBytes": [10]}}`), &pattern); err != nil {
		t.Fatal(err)
	}
	if err := CheckFilter(pattern); err != nil {
		t.Fatal(err)
	}
	rec := func(name, pk string, size float64) map[string]any {
		return map[string]any{"eventName": name, "dynamodb": map[string]any{"Keys": map[string]any{"pk": map[string]any{"S": pk}}, "SizeBytes": size}}
	}
	tests := []struct {
		name string
		rec  map[string]any
		want bool
	}{
		{"match", rec("MODIFY", "EXCHANGE#1", 10), true},
		{"other value", rec("REMOVE", "EXCHANGE#1", 10), false},
		{"other prefix", rec("MODIFY", "EXCHANGEX", 10), false},
		{"prefix is not a suffix", rec("MODIFY", "X#EXCHANGE#", 10), false},
		{"number", rec("MODIFY", "EXCHANGE#1", 11), false},
		{"missing field", map[string]any{"eventName": "INSERT"}, false},
		{"object where a value is wanted", map[string]any{"eventName": map[string]any{"x": "INSERT"}, "dynamodb": map[string]any{}}, false},
	}
	for _, tt := range tests {
		if got := FilterMatches(pattern, tt.rec); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{`{"a": []}`, `{"a": [{"suffix": "x"}]}`, `{"a": [{"prefix": ""}]}`, `{"a": "x"}`, `{"a": [null]}`} {
		var p map[string]any
		_ = json.Unmarshal([]byte(bad), &p)
		if CheckFilter(p) == nil {
			t.Errorf("CheckFilter accepted %s", bad)
		}
	}
}
