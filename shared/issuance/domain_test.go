package issuance_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/issuance"
)

func TestStatusMachine(t *testing.T) {
	type pair struct{ from, to issuance.Status }
	allowed := map[pair]bool{
		{issuance.StatusOfferSent, issuance.StatusOfferReceived}:              true,
		{issuance.StatusOfferSent, issuance.StatusCredentialIssued}:           true,
		{issuance.StatusOfferReceived, issuance.StatusCredentialIssued}:       true,
		{issuance.StatusOfferReceived, issuance.StatusCredentialAcked}:        true,
		{issuance.StatusCredentialIssued, issuance.StatusCredentialAcked}:     true,
		{issuance.StatusCredentialIssued, issuance.StatusCredentialAccepted}:  true,
		{issuance.StatusCredentialAcked, issuance.StatusCredentialAccepted}:   true,
		{issuance.StatusCredentialIssued, issuance.StatusCredentialDeleted}:   true,
		{issuance.StatusCredentialAcked, issuance.StatusCredentialDeleted}:    true,
		{issuance.StatusCredentialAccepted, issuance.StatusCredentialDeleted}: true,
		{issuance.StatusOfferSent, issuance.StatusIssuanceDenied}:             true,
		{issuance.StatusOfferReceived, issuance.StatusIssuanceDenied}:         true,
	}
	order := map[issuance.Status]int{}
	for i, s := range issuance.Statuses() {
		order[s] = i
	}
	for _, from := range issuance.Statuses() {
		for _, to := range issuance.Statuses() {
			got := issuance.CanTransition(from, to)
			if got != allowed[pair{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
			if got && to != issuance.StatusIssuanceDenied && order[to] <= order[from] {
				t.Errorf("%s -> %s moves backwards", from, to)
			}
		}
	}
	if len(issuance.AllowedFrom(issuance.StatusOfferSent)) != 0 {
		t.Error("offer_sent must only be initial")
	}
	a := issuance.AllowedFrom(issuance.StatusCredentialDeleted)
	a[0] = "tampered"
	if issuance.AllowedFrom(issuance.StatusCredentialDeleted)[0] == "tampered" {
		t.Error("AllowedFrom exposes the machine's table")
	}
	if _, err := issuance.ParseStatus("offer_lost"); err == nil {
		t.Error("unknown status parsed")
	}
	rec := issuance.ExchangeRecord{Status: issuance.StatusCredentialIssued}
	if err := rec.Transition(issuance.StatusIssuanceDenied, 5); !errors.Is(err, issuance.ErrTransitionRefused) || rec.Status != issuance.StatusCredentialIssued {
		t.Errorf("refused Transition: %v, status %s", err, rec.Status)
	}
	if err := rec.Transition(issuance.StatusCredentialAccepted, 5); err != nil || rec.UpdatedAt != 5 {
		t.Errorf("allowed Transition: %v", err)
	}
}

func validSpec() issuance.DefinitionSpec {
	return issuance.DefinitionSpec{Label: "Portable Document A1", CredentialFormat: "dc+sd-jwt", VCT: "PortableDocumentA1",
		ExpirationInDays: 365, SupportRevocation: true,
		Claims: []issuance.Claim{{Path: []any{"given_name"}, Mandatory: true, LimitDisclosure: true},
			{Path: []any{"address"}, LimitDisclosure: true}, {Path: []any{"address", "street_address"}, LimitDisclosure: true},
			{Path: []any{"nationalities", nil}, LimitDisclosure: true}, {Path: []any{"list", json.Number("0")}}},
		Display: []issuance.Display{{Name: "Portable Document A1", Locale: "en-GB"}}}
}

func TestDefinitionSpecNormalize(t *testing.T) {
	tests := []struct {
		name   string
		change func(*issuance.DefinitionSpec)
		field  string
	}{
		{"valid", func(*issuance.DefinitionSpec) {}, ""},
		{"legacy format", func(s *issuance.DefinitionSpec) { s.CredentialFormat = "vc+sd-jwt" }, ""},
		{"default format", func(s *issuance.DefinitionSpec) { s.CredentialFormat = "" }, ""},
		{"https vct", func(s *issuance.DefinitionSpec) { s.VCT = "https://example.com/pda1" }, ""},
		{"no claims", func(s *issuance.DefinitionSpec) { s.Claims = nil }, ""},
		{"no label", func(s *issuance.DefinitionSpec) { s.Label = "  " }, "label"},
		{"long label", func(s *issuance.DefinitionSpec) { s.Label = strings.Repeat("a", 257) }, "label"},
		{"control in label", func(s *issuance.DefinitionSpec) { s.Label = "a\x00b" }, "label"},
		{"mdoc", func(s *issuance.DefinitionSpec) { s.CredentialFormat = "mso_mdoc" }, "credentialFormat"},
		{"no vct", func(s *issuance.DefinitionSpec) { s.VCT = "" }, "vct"},
		{"vct with space", func(s *issuance.DefinitionSpec) { s.VCT = "Portable Document" }, "vct"},
		{"vct colon not URI", func(s *issuance.DefinitionSpec) { s.VCT = ":abc" }, "vct"},
		{"vct too long", func(s *issuance.DefinitionSpec) { s.VCT = strings.Repeat("v", 2049) }, "vct"},
		{"zero expiry", func(s *issuance.DefinitionSpec) { s.ExpirationInDays = 0 }, "expirationInDays"},
		{"negative expiry", func(s *issuance.DefinitionSpec) { s.ExpirationInDays = -1 }, "expirationInDays"},
		{"huge expiry", func(s *issuance.DefinitionSpec) { s.ExpirationInDays = 3651 }, "expirationInDays"},
		{"empty path", func(s *issuance.DefinitionSpec) { s.Claims[1].Path = nil }, "claims[1].path"},
		{"null first", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{nil} }, "claims[0].path[0]"},
		{"index first", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{1.0} }, "claims[0].path[0]"},
		{"negative index", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{"a", -1.0} }, "claims[0].path[1]"},
		{"fraction index", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{"a", 1.5} }, "claims[0].path[1]"},
		{"bool element", func(s *issuance.DefinitionSpec) { s.Claims[2].Path = []any{"a", true} }, "claims[2].path[1]"},
		{"empty name", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{""} }, "claims[0].path[0]"},
		{"reserved iss", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{"iss"} }, "claims[0].path[0]"},
		{"reserved cnf", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{"cnf"} }, "claims[0].path[0]"},
		{"sd marker", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = []any{"a", "_sd"} }, "claims[0].path[1]"},
		{"array used as object", func(s *issuance.DefinitionSpec) {
			s.Claims = append(s.Claims, issuance.Claim{Path: []any{"nationalities", "x"}})
		}, "claims[5].path"},
		{"duplicate", func(s *issuance.DefinitionSpec) { s.Claims[1].Path = []any{"given_name"} }, "claims[1].path"},
		{"too deep", func(s *issuance.DefinitionSpec) { s.Claims[0].Path = make([]any, 17) }, "claims[0].path"},
		{"too many claims", func(s *issuance.DefinitionSpec) {
			s.Claims = make([]issuance.Claim, 201)
		}, "claims"},
		{"display without name", func(s *issuance.DefinitionSpec) { s.Display[0].Name = "" }, "display[0].name"},
		{"bad locale", func(s *issuance.DefinitionSpec) { s.Display[0].Locale = "en GB" }, "display[0].locale"},
		{"claim display", func(s *issuance.DefinitionSpec) {
			s.Claims[0].Display = []issuance.Display{{Locale: "en"}}
		}, "claims[0].display[0].name"},
		{"logo http", func(s *issuance.DefinitionSpec) {
			s.Display[0].Logo = &issuance.Logo{URI: "http://x.example/l.png"}
		}, "display[0].logo.uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.change(&s)
			err := s.Normalize()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid spec refused: %v", err)
				}
				if s.CredentialFormat == "" || s.Display == nil {
					t.Fatalf("not normalized: %+v", s)
				}
				return
			}
			var v *issuance.ValidationError
			if !errors.As(err, &v) || v.Field != tt.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
			}
		})
	}
	s := validSpec()
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	if n, ok := s.Claims[4].Path[1].(int); !ok || n != 0 {
		t.Fatalf("index element not normalized to int: %#v", s.Claims[4].Path[1])
	}
}

func TestRecordRendersEverySeedField(t *testing.T) {
	b, err := json.Marshal(issuance.ExchangeRecord{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	objects := map[string]bool{"disclosureMapping": true, "holder": true, "cnf": true,
		"decodedWalletUnitAttestation": true, "idTokenDecoded": true, "credentialResponseEncryption": true}
	for _, f := range issuance.SeedFields() {
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
	for _, internal := range []string{"version", "expiresAt", "internal", "txCode", "pointers", "definition"} {
		if _, ok := m[internal]; ok {
			t.Errorf("internal field %s rendered", internal)
		}
	}
	if len(issuance.SeedFields()) != 40 {
		t.Errorf("seed has 40 fields, list has %d", len(issuance.SeedFields()))
	}
}

func TestStoredRecordRoundTripAndSecrets(t *testing.T) {
	rec := issuance.ExchangeRecord{CredentialExchangeID: "x", Status: issuance.StatusOfferSent, UserPin: "1234"}
	if _, err := rec.MarshalStored(); err == nil {
		t.Fatal("a clear userPin was encoded for storage")
	}
	rec.UserPin = ""
	rec.Internal = issuance.ExchangeInternal{Version: 3, ExpiresAt: 99, Pointers: []string{"CODE#ab"},
		Definition: issuance.CredentialDefinition{ID: "d", DefinitionSpec: validSpec()}}
	rec.Internal.CredentialType = []string{"VerifiableCredential", "PortableDocumentA1"}
	rec.SetCredentials([]issuance.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika",
		"age": json.Number("12345678901234567890"), "address": map[string]any{"street_address": "Main 1"},
		"nationalities": []any{"DE"}},
		CredentialMetadata: map[string]any{"k": "v"}}})
	b, err := rec.MarshalStored()
	if err != nil {
		t.Fatal(err)
	}
	got, err := issuance.UnmarshalStored(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Internal.Version != 3 || got.Internal.Pointers[0] != "CODE#ab" || got.Credential == nil ||
		got.Credential.Type[1] != "PortableDocumentA1" || got.CredentialStatus != issuance.CredentialReady ||
		got.Internal.Credentials[0].CredentialSubject["age"] != json.Number("12345678901234567890") {
		t.Fatalf("round trip lost data: %+v", got)
	}
	mapping, _ := json.Marshal(got.DisclosureMapping)
	want := `{"address":{"limitedDisclosure":true,"street_address":{"limitedDisclosure":true}},"age":{"limitedDisclosure":false},"given_name":{"limitedDisclosure":true},"nationalities":{"items":[{"limitedDisclosure":true}],"limitedDisclosure":false}}`
	if string(mapping) != want {
		t.Fatalf("disclosure mapping\n got %s\nwant %s", mapping, want)
	}
	pending := got.Clone()
	pending.SetCredentials(nil)
	mapping, _ = json.Marshal(pending.DisclosureMapping)
	want = `{"address":{"limitedDisclosure":true,"street_address":{"limitedDisclosure":true}},"given_name":{"limitedDisclosure":true},"list":{"limitedDisclosure":false},"nationalities":{"limitedDisclosure":true}}`
	if string(mapping) != want || pending.CredentialStatus != issuance.CredentialPending || pending.Credential != nil {
		t.Fatalf("pending disclosure mapping\n got %s\nwant %s", mapping, want)
	}
	detail, _ := json.Marshal(rec.EventDetail())
	for _, secret := range []string{"Erika", "Main 1", "CODE#ab"} {
		if strings.Contains(string(detail), secret) {
			t.Fatalf("event detail carries %q", secret)
		}
	}
}

func TestSecrets(t *testing.T) {
	r := strings.NewReader(strings.Repeat("0123456789abcdef", 8))
	id, err := issuance.NewID(r)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("NewID = %q, %v", id, err)
	}
	s1, _ := issuance.NewSecret(r)
	if len(s1) != 43 {
		t.Fatalf("secret %q is not 32 bytes base64url", s1)
	}
	if _, err := issuance.NewSecret(strings.NewReader("short")); err == nil {
		t.Fatal("short random source accepted")
	}
	codeA, codeA2 := issuance.PreAuthorizedCode("a"), issuance.PreAuthorizedCode("a")
	if codeA != codeA2 || codeA == issuance.PreAuthorizedCode("b") || codeA == "a" {
		t.Fatal("pre-authorized code derivation is not a keyed function of the offer id")
	}
	if k := issuance.PointerKey(issuance.PointerCode, "secret"); k != "CODE#2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b" {
		t.Fatalf("PointerKey = %s", k)
	}
	tests := []struct {
		pin, mode string
		length    int
	}{{"4821", "numeric", 4}, {"ab12", "text", 4}, {"ü1", "text", 2}}
	for _, tt := range tests {
		tx, err := issuance.NewTxCode(strings.NewReader(strings.Repeat("s", 16)), tt.pin)
		if err != nil {
			t.Fatal(err)
		}
		if tx.InputMode != tt.mode || tx.Length != tt.length || !tx.Verify(tt.pin) || tx.Verify(tt.pin+"0") ||
			strings.Contains(string(tx.Hash), tt.pin) {
			t.Errorf("tx code of %q: %+v", tt.pin, tx)
		}
	}
	var none *issuance.TxCode
	if none.Verify("") {
		t.Fatal("nil tx code verified")
	}
}

func TestOfferLinks(t *testing.T) {
	link := issuance.OfferDeepLink("haip://", issuance.OfferURL("https://issuer.example/tenant/", "OFFER_id-1"))
	if link != "haip://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Ftenant%2Fcredential-offer%2FOFFER_id-1" {
		t.Fatalf("deep link %s", link)
	}
	id, err := issuance.OfferIDFromDeepLink(link)
	if err != nil || id != "OFFER_id-1" {
		t.Fatalf("offer id %q, %v", id, err)
	}
	for _, bad := range []string{"haip://", "haip://?credential_offer_uri=https%3A%2F%2Fx", "x?%zz"} {
		if _, err := issuance.OfferIDFromDeepLink(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestValidateOfferEndpoint(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://wallet.example/credential_offer", true},
		{"https://wallet.example/offer?tenant=1", true},
		{"http://127.0.0.1:8080/offer", true},
		{"http://localhost/offer", true},
		{"http://[::1]/offer", true},
		{"http://wallet.example/offer", false},
		{"ftp://wallet.example/offer", false},
		{"/relative", false},
		{"https://user:pw@wallet.example/", false},
		{"https://wallet.example/#frag", false},
		{"https://" + strings.Repeat("a", 2050), false},
		{"not a url", false},
	}
	for _, tt := range tests {
		err := issuance.ValidateOfferEndpoint("credentialOfferEndpoint", tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}
