package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestEvaluateGoals(t *testing.T) {
	all := func(mod func(f *figures)) *figures {
		f := &figures{}
		f.add("sdjwt_issue_us", 100, "us", "")
		f.add("es256_sign_us", 50, "us", "")
		f.add("mdoc_issue_us", 60, "us", "")
		f.add("jwtvc_issue_us", 70, "us", "")
		f.add("sdjwt_js_issue_us", 600, "us", "")
		f.add("flow_dynamodb_calls", 12, "calls", "")
		f.add("flow_dpop_dynamodb_calls", 12, "calls", "")
		f.add("flow_kms_sign_calls", 1, "calls", "")
		f.add("authcode_flow_dynamodb_calls", 19, "calls", "")
		f.add("authcode_flow_kms_sign_calls", 2, "calls", "")
		f.add("flow_request_aws_calls", 11, "calls", "")
		f.add("coldstart_token_ms", 20, "ms", "")
		f.add("coldstart_metadata_ms", 30, "ms", "")
		f.add("bootstrap_max_mb", 11, "MiB", "")
		if mod != nil {
			mod(f)
		}
		return f
	}
	tests := []struct {
		name   string
		f      *figures
		missed []string
	}{
		{"every goal met", all(nil), nil},
		{"issuance too slow", all(func(f *figures) { f.add("sdjwt_issue_us", 125, "us", "") }),
			[]string{"issuance vs one ES256 signature", "@sd-jwt/sd-jwt-vc vs issuance"}},
		{"mdoc issuance too slow", all(func(f *figures) { f.add("mdoc_issue_us", 125, "us", "") }),
			[]string{"mdoc issuance vs one ES256 sig."}},
		{"JWT VC issuance too slow", all(func(f *figures) { f.add("jwtvc_issue_us", 125, "us", "") }),
			[]string{"JWT VC issuance vs one ES256 sig."}},
		{"too many DynamoDB calls", all(func(f *figures) {
			f.add("flow_dynamodb_calls", 13, "calls", "")
			f.add("flow_dpop_dynamodb_calls", 13, "calls", "")
		}), []string{"DynamoDB calls per full flow"}},
		{"DPoP adds a DynamoDB call", all(func(f *figures) { f.add("flow_dpop_dynamodb_calls", 13, "calls", "") }),
			[]string{"DynamoDB calls per full flow with DPoP"}},
		{"request path publishes again", all(func(f *figures) { f.add("flow_request_aws_calls", 15, "calls", "") }),
			[]string{"AWS calls of a flow's requests"}},
		{"two signatures", all(func(f *figures) { f.add("flow_kms_sign_calls", 2, "calls", "") }),
			[]string{"KMS Sign per credential"}},
		{"no signature", all(func(f *figures) { f.add("flow_kms_sign_calls", 0, "calls", "") }),
			[]string{"KMS Sign per credential"}},
		{"authorization code flow adds more than its three requests' calls", all(func(f *figures) {
			f.add("authcode_flow_dynamodb_calls", 20, "calls", "")
		}), []string{"DynamoDB calls per auth. code flow"}},
		{"authorization code flow signs more than the request object and the credential", all(func(f *figures) {
			f.add("authcode_flow_kms_sign_calls", 3, "calls", "")
		}), []string{"KMS Sign per auth. code flow"}},
		{"one slow cold start", all(func(f *figures) { f.add("coldstart_issue_ms", 50, "ms", "") }),
			[]string{"every cold start"}},
		{"big bootstrap", all(func(f *figures) { f.add("bootstrap_max_mb", 15, "MiB", "") }),
			[]string{"every bootstrap (linux/arm64)"}},
		{"nothing measured", &figures{}, []string{"issuance vs one ES256 signature", "mdoc issuance vs one ES256 sig.",
			"JWT VC issuance vs one ES256 sig.", "@sd-jwt/sd-jwt-vc vs issuance", "DynamoDB calls per full flow",
			"DynamoDB calls per full flow with DPoP", "AWS calls of a flow's requests", "KMS Sign per credential",
			"DynamoDB calls per auth. code flow", "KMS Sign per auth. code flow", "every cold start",
			"every bootstrap (linux/arm64)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var missed []string
			for _, g := range evaluate(tt.f) {
				if !g.met {
					missed = append(missed, g.name)
				}
			}
			if strings.Join(missed, "|") != strings.Join(tt.missed, "|") {
				t.Errorf("missed %q, want %q", missed, tt.missed)
			}
		})
	}
}

func TestPrintFiguresAndTable(t *testing.T) {
	f := &figures{}
	f.add("sdjwt_issue_us", 110.64, "us", "note")
	f.add("flow_dynamodb_calls", 17, "calls", "GetItem 11")
	f.add("sdjwt_issue_us", 99.5, "us", "replaced")
	var out bytes.Buffer
	printFigures(&out, f)
	if got, want := out.String(), "BENCH sdjwt_issue_us 99.50 us\nBENCH flow_dynamodb_calls 17 calls\n"; got != want {
		t.Errorf("printFigures:\n%s\nwant\n%s", got, want)
	}
	out.Reset()
	printTable(&out, f, evaluate(f))
	for _, want := range []string{"replaced", "DynamoDB calls per full flow", "17", "MISS", "not measured"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{17, "17"}, {110.64, "110.6"}, {52.523, "52.52"}, {0.5, "0.50"}}
	for _, tt := range tests {
		if got := formatValue(tt.v); got != tt.want {
			t.Errorf("formatValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestSignedParts(t *testing.T) {
	tests := []struct {
		name    string
		jwt     string
		wantErr bool
	}{
		{"compact", "eyJ0eXAiOiJkYytzZC1qd3QiLCJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln", false},
		{"two parts", "eyJ0eXAiOiJ4In0.eyJhIjoxfQ", true},
		{"bad payload", "eyJ0eXAiOiJ4In0.!!.c2ln", true},
		{"header not JSON", "bm90IGpzb24.eyJhIjoxfQ.c2ln", true},
		{"header with x5c", "eyJ0eXAiOiJ4IiwieDVjIjpbXX0.eyJhIjoxfQ.c2ln", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, newHdr, err := signedParts(tt.jwt)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if hdr := newHdr(); string(payload) != `{"a":1}` || hdr.Type() != "dc+sd-jwt" || hdr.Algorithm() != "" {
				t.Errorf("payload %s, typ %q, alg %q", payload, hdr.Type(), hdr.Algorithm())
			}
		})
	}
}
