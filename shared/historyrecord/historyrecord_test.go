package historyrecord_test

import (
	"encoding/json"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
)

func TestEmptyRecordRendersEverySeedField(t *testing.T) {
	b, err := json.Marshal(historyrecord.From(&exchange.Record{}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	objects := map[string]bool{"disclosureMapping": true, "holder": true, "cnf": true,
		"decodedWalletUnitAttestation": true, "idTokenDecoded": true, "credentialResponseEncryption": true}
	for _, f := range historyrecord.SeedFields() {
		v, ok := m[f]
		if !ok {
			t.Errorf("field %s missing", f)
			continue
		}
		switch {
		case objects[f]:
			if mm, ok := v.(map[string]any); !ok || len(mm) != 0 {
				t.Errorf("%s = %v, want {}", f, v)
			}
		case f == "credential":
			if v != nil {
				t.Errorf("credential = %v, want null", v)
			}
		case f == "expiredCredentialTokens" || f == "expiredCredentials":
			if a, ok := v.([]any); !ok || len(a) != 0 {
				t.Errorf("%s = %v, want []", f, v)
			}
		default:
			if v != "" && v != false && v != float64(0) {
				t.Errorf("%s = %v, want an empty scalar", f, v)
			}
		}
	}
	for f, want := range map[string]any{"credentials": []any{}, "offerDelivery": nil, "credentialFailureDescription": "", "offerExpiresAt": float64(0), "presentationFailure": nil} {
		if v, ok := m[f]; !ok || jsonOf(t, v) != jsonOf(t, want) {
			t.Errorf("addition %s = %v, want %v", f, v, want)
		}
	}
	if len(m) != 45 {
		t.Errorf("%d fields rendered, want the 40 of the seed and 5 additions", len(m))
	}
	if len(historyrecord.SeedFields()) != 40 {
		t.Errorf("seed has 40 fields, list has %d", len(historyrecord.SeedFields()))
	}
}

func TestFromRendersPayloadsAndEchoesThePinOnlyWhenAsked(t *testing.T) {
	rec := exchange.Record{CredentialType: []string{"VerifiableCredential", "Badge"}, NotificationDescription: "full",
		Credentials: []exchange.CredentialPayload{{CredentialSubject: map[string]any{"a": "1"}},
			{CredentialSubject: map[string]any{"a": "2"}, CredentialMetadata: map[string]any{"ref": "x"}}}}
	r := historyrecord.From(&rec)
	if r.Credential == nil || r.Credential.CredentialSubject["a"] != "1" || len(r.Credentials) != 2 ||
		r.Credentials[1].Type[1] != "Badge" || r.Credentials[1].CredentialMetadata["ref"] != "x" ||
		r.CredentialFailureDescription != "full" || r.UserPin != "" {
		t.Fatalf("rendered %+v", r)
	}
	r.Credentials[0].Type[0] = "changed"
	if rec.CredentialType[0] != "VerifiableCredential" {
		t.Fatal("the rendered type shares the record's slice")
	}
	if got := historyrecord.From(&rec).WithUserPin("4821"); got.UserPin != "4821" {
		t.Fatalf("userPin %q", got.UserPin)
	}
	if l := historyrecord.List(nil); l == nil || len(l) != 0 {
		t.Fatalf("List(nil) = %#v, want an empty list", l)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOfferExpiresAtIsRendered (docs/security.md, "Long-lived offers"): the record says when the offer and its
// pre-authorized code stop working.
func TestOfferExpiresAtIsRendered(t *testing.T) {
	rec := exchange.Record{CredentialExchangeID: "x", OfferExpiresAt: 1796300000}
	b, err := json.Marshal(historyrecord.From(&rec))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["offerExpiresAt"] != float64(1796300000) {
		t.Fatalf("offerExpiresAt = %v (%v) in %s", m["offerExpiresAt"], err, b)
	}
}
