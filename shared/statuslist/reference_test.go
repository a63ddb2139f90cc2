package statuslist

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestReferenceJSON(t *testing.T) {
	ref := Reference{Idx: 412, URI: "https://issuer.example/status-lists/3-0"}
	b, err := json.Marshal(map[string]any{"status": ref})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":{"status_list":{"idx":412,"uri":"https://issuer.example/status-lists/3-0"}}}`
	if string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	claim, err := json.Marshal(map[string]any{"status": ref.Claim()})
	if err != nil || string(claim) != want {
		t.Fatalf("Claim marshals to %s, %v; want %s", claim, err, want)
	}
	var back struct {
		Status Reference `json:"status"`
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Status != ref {
		t.Fatalf("unmarshal = %+v, %v", back.Status, err)
	}
}

func TestReferenceJSONRejects(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"no status_list", `{"other":{}}`},
		{"no idx", `{"status_list":{"uri":"https://x"}}`},
		{"negative idx", `{"status_list":{"idx":-1,"uri":"https://x"}}`},
		{"fractional idx", `{"status_list":{"idx":1.5,"uri":"https://x"}}`},
		{"no uri", `{"status_list":{"idx":1}}`},
		{"not an object", `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reference
			if err := json.Unmarshal([]byte(tt.json), &r); !errors.Is(err, ErrInvalidReference) {
				t.Fatalf("unmarshal %s: error %v, want ErrInvalidReference", tt.json, err)
			}
		})
	}
	if _, err := json.Marshal(Reference{Idx: -1, URI: "https://x"}); err == nil {
		t.Fatal("marshal of a negative index succeeded")
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		rs   RevocationStatus
		s    Status
		name string
	}{
		{RevocationOperational, Valid, "VALID"},
		{RevocationRevoked, Invalid, "INVALID"},
		{RevocationSuspended, Suspended, "SUSPENDED"},
	}
	for _, tt := range tests {
		parsed, err := ParseRevocationStatus(string(tt.rs))
		if err != nil || parsed != tt.rs {
			t.Errorf("ParseRevocationStatus(%q) = %q, %v", tt.rs, parsed, err)
		}
		if s, err := tt.rs.Status(); err != nil || s != tt.s {
			t.Errorf("%s.Status() = %s, %v; want %s", tt.rs, s, err, tt.s)
		}
		if rs, err := tt.s.RevocationStatus(); err != nil || rs != tt.rs {
			t.Errorf("%s.RevocationStatus() = %s, %v; want %s", tt.s, rs, err, tt.rs)
		}
		if tt.s.String() != tt.name {
			t.Errorf("String() = %s, want %s", tt.s, tt.name)
		}
	}
	for _, bad := range []string{"revoked", "", "Active"} {
		if _, err := ParseRevocationStatus(bad); !errors.Is(err, ErrUnknownRevocationStatus) {
			t.Errorf("ParseRevocationStatus(%q) error %v", bad, err)
		}
	}
	if _, err := Status(3).RevocationStatus(); !errors.Is(err, ErrUnknownRevocationStatus) {
		t.Errorf("Status(3).RevocationStatus() error %v", err)
	}
	if Status(3).String() != "0x03" {
		t.Errorf("Status(3).String() = %s", Status(3))
	}
}

func TestCheckTransition(t *testing.T) {
	all := []RevocationStatus{RevocationOperational, RevocationRevoked, RevocationSuspended}
	for _, from := range all {
		for _, to := range all {
			err := CheckTransition(from, to)
			wantFinal := from == RevocationRevoked && to != RevocationRevoked
			if wantFinal != errors.Is(err, ErrRevokedIsFinal) || (!wantFinal && err != nil) {
				t.Errorf("CheckTransition(%s, %s) = %v", from, to, err)
			}
		}
	}
	if err := CheckTransition("Gone", RevocationRevoked); !errors.Is(err, ErrUnknownRevocationStatus) {
		t.Errorf("CheckTransition from unknown = %v", err)
	}
}

// A status claim that repeats a member, or names one in another letter case, is refused: two parsers could read
// different entries from it.
func TestReferenceUnmarshalStrict(t *testing.T) {
	for _, in := range []string{
		`{"status_list":{"idx":1,"uri":"https://i.example/a","idx":2}}`,
		`{"status_list":{"idx":1,"uri":"https://i.example/a"},"status_list":{"idx":2,"uri":"https://i.example/b"}}`,
		`{"status_list":{"IDX":1,"uri":"https://i.example/a"}}`,
	} {
		var r Reference
		if err := json.Unmarshal([]byte(in), &r); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("Unmarshal(%s) = %+v, %v; want ErrInvalidReference", in, r, err)
		}
	}
}
