package sdjwt

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

func TestIssueReferenceRoundTrip(t *testing.T) {
	iss, signer, pub, _ := issueReference(t)
	if len(iss.Disclosures) != ReferenceDisclosures {
		t.Fatalf("disclosures = %d, want %d", len(iss.Disclosures), ReferenceDisclosures)
	}
	if !strings.HasPrefix(iss.SDJWT, iss.JWT+"~") || !strings.HasSuffix(iss.SDJWT, "~") {
		t.Fatalf("serialization is not JWT~D1~...~Dn~")
	}
	v, err := Verify(iss.SDJWT, WithIssuerKey(pub), clockAt(referenceTime))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.Header["typ"] != "dc+sd-jwt" || v.Header["kid"] != signer.kid || v.Header["alg"] != "ES256" {
		t.Errorf("header = %v", v.Header)
	}
	ref, _ := ReferenceCredential()
	for name, want := range ref.Claims {
		if got := canonical(t, v.Claims[name]); got != canonical(t, want) {
			t.Errorf("claim %s = %s, want %s", name, got, canonical(t, want))
		}
	}
	for _, name := range []string{"iss", "vct", "iat", "exp", "cnf", "status"} {
		if _, ok := v.Claims[name]; !ok {
			t.Errorf("claim %s missing", name)
		}
	}
	if _, ok := v.Claims["_sd_alg"]; ok {
		t.Error("_sd_alg left in reconstructed claims")
	}
	p, err := Parse(iss.SDJWT)
	if err != nil {
		t.Fatal(err)
	}
	if p.Payload["_sd_alg"] != "sha-256" {
		t.Errorf("_sd_alg = %v", p.Payload["_sd_alg"])
	}
	for _, name := range []string{"given_name", "address", "email"} {
		if _, ok := p.Payload[name]; ok {
			t.Errorf("disclosable claim %s is in the clear", name)
		}
	}
	if p.Payload["issuing_country"] != "DE" {
		t.Error("clear claim issuing_country missing from payload")
	}
}

// canonical encodes v deterministically, so float64 and json.Number compare equal.
func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := marshal(v, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIssuePayloadStructure(t *testing.T) {
	iss, _, _, _ := issueReference(t, WithDecoys(2))
	p, err := Parse(iss.SDJWT)
	if err != nil {
		t.Fatal(err)
	}
	sd := p.Payload["_sd"].([]any)
	// 7 top-level disclosures (given_name, family_name, birthdate, email, phone_number, address,
	// is_over_18) + 2 decoys.
	if len(sd) != 9 {
		t.Errorf("top-level _sd has %d digests, want 9", len(sd))
	}
	for i := 1; i < len(sd); i++ {
		if sd[i-1].(string) >= sd[i].(string) {
			t.Fatalf("_sd not sorted")
		}
	}
	nats := p.Payload["nationalities"].([]any)
	if len(nats) != 2 {
		t.Fatalf("nationalities has %d elements", len(nats))
	}
	for _, el := range nats {
		m, ok := el.(map[string]any)
		if !ok || len(m) != 1 || m["..."] == nil {
			t.Errorf("array element %v is not {\"...\": digest}", el)
		}
	}
	var addr *Disclosure
	for i := range iss.Disclosures {
		if iss.Disclosures[i].Name == "address" {
			addr = &iss.Disclosures[i]
		}
	}
	if addr == nil {
		t.Fatal("no address disclosure")
	}
	var av map[string]any
	if err := json.Unmarshal(addr.Value, &av); err != nil {
		t.Fatal(err)
	}
	if av["country"] != "DE" || len(av["_sd"].([]any)) != 5 { // 3 members + 2 decoys
		t.Errorf("address disclosure value = %s", addr.Value)
	}
	seen := map[string]bool{}
	for _, d := range iss.Disclosures {
		if len(d.Salt) != 22 {
			t.Errorf("salt length %d, want 22 (128 bits)", len(d.Salt))
		}
		if seen[d.Digest] {
			t.Error("duplicate digest")
		}
		seen[d.Digest] = true
		if Digest(d.Encoded) != d.Digest {
			t.Error("digest mismatch")
		}
	}
}

func TestIssueOptionsAndHeader(t *testing.T) {
	signer, pub := newLocalSigner(t)
	vc, _ := ReferenceCredential()
	tests := []struct {
		name    string
		opts    []Option
		typ     string
		wantErr error
	}{
		{"default dc+sd-jwt", nil, "dc+sd-jwt", nil},
		{"draft 13 vc+sd-jwt", []Option{WithFormat(FormatVCSDJWT)}, "vc+sd-jwt", nil},
		{"unknown format", []Option{WithFormat("jwt")}, "", ErrInvalidClaims},
		{"bad decoy range", []Option{WithDecoyRange(3, 1)}, "", ErrInvalidClaims},
		{"no decoys", []Option{WithDecoys(0)}, "dc+sd-jwt", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss, err := IssueVC(context.Background(), signer, vc, tc.opts...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			v, err := Verify(iss.SDJWT, WithIssuerKey(pub), clockAt(referenceTime))
			if err != nil {
				t.Fatal(err)
			}
			if v.Header["typ"] != tc.typ {
				t.Errorf("typ = %v, want %s", v.Header["typ"], tc.typ)
			}
		})
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	signer, _ := newLocalSigner(t)
	base := func() VC { vc, _ := ReferenceCredential(); return vc }
	tests := []struct {
		name   string
		mutate func(*VC)
	}{
		{"empty issuer", func(v *VC) { v.Issuer = "" }},
		{"empty vct", func(v *VC) { v.Type = "" }},
		{"no iat", func(v *VC) { v.IssuedAt = time.Time{} }},
		{"exp before iat", func(v *VC) { v.Expiry = v.IssuedAt.Add(-time.Hour) }},
		{"subject claim iss", func(v *VC) { v.Claims["iss"] = "x" }},
		{"subject claim cnf", func(v *VC) { v.Claims["cnf"] = map[string]any{} }},
		{"subject claim _sd", func(v *VC) { v.Claims["_sd"] = []any{} }},
		{"negative status index", func(v *VC) { v.Status = &StatusReference{Index: -1, URI: "u"} }},
		{"policy expects object", func(v *VC) { v.Claims["address"] = "a string" }},
		{"policy expects array", func(v *VC) { v.Claims["nationalities"] = map[string]any{"a": 1} }},
		{"non-finite number", func(v *VC) { v.Claims["n"] = inf() }},
		// docs/security.md, "Forged claims": the signer refuses structural names at every depth too (defence in
		// depth behind the admin API's intake check), in clear and in disclosable values.
		{"nested _sd in a clear claim", func(v *VC) { v.Claims["extra"] = map[string]any{"_sd": []any{"x"}} }},
		{"... in an array of objects", func(v *VC) { v.Claims["roles"] = []any{map[string]any{"...": "x"}} }},
		{"_sd_alg at depth 3 in arrays", func(v *VC) {
			v.Claims["a"] = []any{map[string]any{"b": []any{map[string]any{"c": map[string]any{"_sd_alg": "x"}}}}}
		}},
		{"_sd inside a disclosable claim", func(v *VC) {
			v.Claims["address"] = map[string]any{"street_address": map[string]any{"_sd": []any{"x"}}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vc := base()
			tc.mutate(&vc)
			_, err := IssueVC(context.Background(), signer, vc)
			if !errors.Is(err, ErrInvalidClaims) {
				t.Fatalf("err = %v, want ErrInvalidClaims", err)
			}
			if err != nil && strings.Contains(err.Error(), "Erika") {
				t.Error("error message leaks a claim value")
			}
		})
	}
}

func inf() float64 { z := 0.0; return 1 / z }

func TestIssueWithoutPolicyOrHolder(t *testing.T) {
	signer, pub := newLocalSigner(t)
	vc := VC{Issuer: "https://i.example", Type: "T", IssuedAt: time.Unix(1700000000, 0),
		Claims: map[string]any{"a": 1.5, "b": []any{"x", nil, true}, "c": map[string]any{"d": "e"}}}
	iss, err := IssueVC(context.Background(), signer, vc)
	if err != nil {
		t.Fatal(err)
	}
	if len(iss.Disclosures) != 0 {
		t.Fatalf("disclosures = %d, want 0", len(iss.Disclosures))
	}
	v, err := Verify(iss.SDJWT, WithIssuerKey(pub), clockAt(time.Unix(1700000100, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if canonical(t, v.Claims["b"]) != canonical(t, vc.Claims["b"]) || canonical(t, v.Claims["c"]) != `{"d":"e"}` {
		t.Errorf("claims = %v", v.Claims)
	}
	if _, ok := v.Claims["cnf"]; ok {
		t.Error("cnf present without holder key")
	}
}

func TestAllTopLevelPolicy(t *testing.T) {
	signer, pub := newLocalSigner(t)
	claims := map[string]any{"given_name": "A", "family_name": "B", "address": map[string]any{"x": "y"}}
	vc := VC{Issuer: "https://i.example", Type: "T", IssuedAt: time.Unix(1700000000, 0), Claims: claims, Policy: AllTopLevel(claims)}
	iss, err := IssueVC(context.Background(), signer, vc, WithDecoys(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(iss.Disclosures) != 3 {
		t.Fatalf("disclosures = %d, want 3", len(iss.Disclosures))
	}
	v, err := Verify(iss.SDJWT, WithIssuerKey(pub), clockAt(time.Unix(1700000100, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Claims["address"], map[string]any{"x": "y"}) {
		t.Errorf("address = %v", v.Claims["address"])
	}
}

func TestIssueRegisteredClaims(t *testing.T) {
	signer, pub := newLocalSigner(t)
	holder, holderPub := newHolder(t)
	privJWK, err := jwk.FromRaw(holder) // a private key as cnf input must still publish only the public part
	if err != nil {
		t.Fatal(err)
	}
	iat := time.Unix(1700000000, 0)
	status := &StatusReference{Index: 7, URI: "https://i.example/status-lists/3"}
	wantCNF := canonical(t, map[string]any{"jwk": jwkMembers(t, holderPub)})
	tests := []struct {
		name string
		vc   VC
		want map[string]string // claim -> canonical JSON; "" means absent
	}{
		{"every registered claim",
			VC{Issuer: "https://i.example", Type: "urn:t", IssuedAt: iat, NotBefore: iat.Add(time.Minute),
				Expiry: iat.Add(time.Hour), HolderKey: holderPub, Status: status, Claims: map[string]any{"a": "b"}},
			map[string]string{"iss": `"https://i.example"`, "vct": `"urn:t"`, "iat": "1700000000", "nbf": "1700000060",
				"exp": "1700003600", "cnf": wantCNF, "status": `{"status_list":{"idx":7,"uri":"https://i.example/status-lists/3"}}`}},
		{"optional claims omitted",
			VC{Issuer: "https://i.example", Type: "urn:t", IssuedAt: iat, Claims: map[string]any{"a": "b"}},
			map[string]string{"iss": `"https://i.example"`, "vct": `"urn:t"`, "iat": "1700000000", "nbf": "", "exp": "",
				"cnf": "", "status": ""}},
		{"private holder key publishes its public part",
			VC{Issuer: "https://i.example", Type: "urn:t", IssuedAt: iat, HolderKey: privJWK, Claims: map[string]any{"a": "b"}},
			map[string]string{"cnf": wantCNF}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.vc.Policy = AllTopLevel(tc.vc.Claims)
			iss, err := IssueVC(context.Background(), signer, tc.vc)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(iss.SDJWT)
			if err != nil {
				t.Fatal(err)
			}
			for claim, want := range tc.want {
				got, ok := p.Payload[claim]
				if want == "" {
					if ok {
						t.Errorf("%s = %s, want absent", claim, canonical(t, got))
					}
					continue
				}
				if !ok || canonical(t, got) != want {
					t.Errorf("%s = %v, want %s (in the clear)", claim, got, want)
				}
			}
			for _, d := range iss.Disclosures {
				if IsReservedClaim(d.Name) {
					t.Errorf("registered claim %s is a disclosure", d.Name)
				}
			}
			at := iat.Add(2 * time.Minute)
			if _, err := Verify(iss.SDJWT, WithIssuerKey(pub), clockAt(at)); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

// jwkMembers returns the public members of an EC JWK (kty, crv, x, y).
func jwkMembers(t *testing.T, key jwk.Key) map[string]any {
	t.Helper()
	b, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"kty": m["kty"], "crv": m["crv"], "x": m["x"], "y": m["y"]}
}

func TestIssueDecoyCounts(t *testing.T) {
	signer, _ := newLocalSigner(t)
	vc, err := ReferenceCredential()
	if err != nil {
		t.Fatal(err)
	}
	// The reference credential has 7 disclosures in the top-level _sd and 3 in address's _sd.
	tests := []struct {
		name   string
		opts   []Option
		lo, hi int
	}{
		{"default range", nil, DefaultMinDecoys, DefaultMaxDecoys},
		{"none", []Option{WithDecoys(0)}, 0, 0},
		{"exactly 5", []Option{WithDecoys(5)}, 5, 5},
		{"range 2..4", []Option{WithDecoyRange(2, 4)}, 2, 4},
		{"maximum", []Option{WithDecoys(64)}, 64, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[int]bool{}
			for range 40 {
				iss, err := IssueVC(context.Background(), signer, vc, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				real := map[string]bool{}
				for _, d := range iss.Disclosures {
					real[d.Digest] = true
				}
				p, err := Parse(iss.SDJWT)
				if err != nil {
					t.Fatal(err)
				}
				var addrSD []any
				for _, d := range iss.Disclosures {
					if d.Name == "address" {
						var av map[string]any
						if err := json.Unmarshal(d.Value, &av); err != nil {
							t.Fatal(err)
						}
						addrSD, _ = av["_sd"].([]any)
					}
				}
				for _, arr := range []struct {
					sd   []any
					real int
				}{{p.Payload["_sd"].([]any), 7}, {addrSD, 3}} {
					decoys := 0
					for _, dg := range arr.sd {
						s, _ := dg.(string)
						if len(s) != 43 {
							t.Fatalf("digest %q is not a base64url SHA-256", s)
						}
						if !real[s] {
							decoys++
						}
					}
					if len(arr.sd)-decoys != arr.real {
						t.Fatalf("_sd holds %d real digests, want %d", len(arr.sd)-decoys, arr.real)
					}
					if decoys < tc.lo || decoys > tc.hi {
						t.Fatalf("%d decoys, want %d..%d", decoys, tc.lo, tc.hi)
					}
					seen[decoys] = true
				}
			}
			if tc.hi > tc.lo && len(seen) < 2 {
				t.Errorf("decoy count never varies within %d..%d: %v", tc.lo, tc.hi, seen)
			}
		})
	}
	for _, bad := range []Option{WithDecoys(-1), WithDecoys(65), WithDecoyRange(0, 65)} {
		if _, err := IssueVC(context.Background(), signer, vc, bad); !errors.Is(err, ErrInvalidClaims) {
			t.Errorf("out-of-range decoy option: err = %v, want ErrInvalidClaims", err)
		}
	}
}

func TestIssueNamesMisfittingClaim(t *testing.T) {
	signer, _ := newLocalSigner(t)
	rule := func(path ...PathElement) ClaimRule { return ClaimRule{Path: path, LimitDisclosure: true} }
	tests := []struct {
		name   string
		claims map[string]any
		rules  []ClaimRule
		want   string // the error names this claim path and says what to send
		// valueFault: the claims fit the policy's shape, a value cannot be issued.
		valueFault bool
	}{
		{"members of a string", map[string]any{"address": "Secret Street 1"},
			ReferenceRules(), "claim address: invalid claims: the disclosure policy has rules for members or elements of it but it is a string: send an object or array here, or change the credential definition's claim paths", false},
		{"elements of an object", map[string]any{"nationalities": map[string]any{"first": "Secretland"}},
			ReferenceRules(), "claim nationalities: invalid claims: the disclosure policy has rules for elements of it but it is an object: send an array here, or change the credential definition's claim paths", false},
		{"members of an array", map[string]any{"address": []any{"Secret Street 1"}},
			ReferenceRules(), "claim address: invalid claims: the disclosure policy has rules for members of it but it is an array: send an object here, or change the credential definition's claim paths", false},
		{"deep in an array", map[string]any{"a": []any{map[string]any{"b": map[string]any{"c": 1.0}}, map[string]any{"b": 42.0}}},
			[]ClaimRule{rule(Name("a"), AllElements(), Name("b"), Name("c"))}, "claim a[1].b: invalid claims: the disclosure policy has rules for members or elements of it but it is a number", false},
		{"null under a disclosed claim", map[string]any{"address": nil},
			ReferenceRules(), "claim address: invalid claims: the disclosure policy has rules for members or elements of it but it is null", false},
		{"non-finite number in a disclosure", map[string]any{"x": map[string]any{"y": inf()}},
			[]ClaimRule{rule(Name("x"))}, "claim x: invalid claims: non-finite number", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			policy, err := NewPolicy(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			vc := VC{Issuer: "https://i.example", Type: "T", IssuedAt: time.Unix(1700000000, 0), Claims: tc.claims, Policy: policy}
			_, issueErr := IssueVC(context.Background(), signer, vc)
			errs := []error{issueErr}
			// Check looks at the shape of the claims only; value faults are IssueVC's to find.
			if checkErr := policy.Check(tc.claims); tc.valueFault {
				if checkErr != nil {
					t.Errorf("Check = %v, want nil (the shape fits)", checkErr)
				}
			} else {
				errs = append(errs, checkErr)
			}
			for _, err := range errs {
				if !errors.Is(err, ErrInvalidClaims) {
					t.Fatalf("err = %v, want ErrInvalidClaims", err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %q, want it to contain %q", err, tc.want)
				}
				for _, secret := range []string{"Secret", "42"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("err = %q leaks a claim value", err)
					}
				}
			}
		})
	}
	// Claims that fit pass the check.
	ref, err := ReferenceCredential()
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Policy.Check(ref.Claims); err != nil {
		t.Errorf("reference credential: Check = %v", err)
	}
	var none *Policy
	if err := none.Check(map[string]any{"a": "b"}); err != nil {
		t.Errorf("nil policy: Check = %v", err)
	}
}
