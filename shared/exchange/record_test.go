package exchange_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
)

func TestStatusMachine(t *testing.T) {
	type pair struct{ from, to exchange.Status }
	allowed := map[pair]bool{
		{exchange.StatusOfferSent, exchange.StatusOfferReceived}:              true,
		{exchange.StatusOfferSent, exchange.StatusCredentialIssued}:           true,
		{exchange.StatusOfferReceived, exchange.StatusCredentialIssued}:       true,
		{exchange.StatusOfferReceived, exchange.StatusCredentialAcked}:        true,
		{exchange.StatusCredentialIssued, exchange.StatusCredentialAcked}:     true,
		{exchange.StatusCredentialIssued, exchange.StatusCredentialAccepted}:  true,
		{exchange.StatusCredentialAcked, exchange.StatusCredentialAccepted}:   true,
		{exchange.StatusCredentialIssued, exchange.StatusCredentialDeleted}:   true,
		{exchange.StatusCredentialAcked, exchange.StatusCredentialDeleted}:    true,
		{exchange.StatusCredentialAccepted, exchange.StatusCredentialDeleted}: true,
		{exchange.StatusOfferSent, exchange.StatusIssuanceDenied}:             true,
		{exchange.StatusOfferReceived, exchange.StatusIssuanceDenied}:         true,
	}
	order := map[exchange.Status]int{}
	for i, s := range exchange.Statuses() {
		order[s] = i
	}
	for _, from := range exchange.Statuses() {
		for _, to := range exchange.Statuses() {
			got := exchange.CanTransition(from, to)
			if got != allowed[pair{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
			if got && to != exchange.StatusIssuanceDenied && order[to] <= order[from] {
				t.Errorf("%s -> %s moves backwards", from, to)
			}
		}
	}
	if len(exchange.AllowedFrom(exchange.StatusOfferSent)) != 0 {
		t.Error("offer_sent must only be initial")
	}
	a := exchange.AllowedFrom(exchange.StatusCredentialDeleted)
	a[0] = "tampered"
	if exchange.AllowedFrom(exchange.StatusCredentialDeleted)[0] == "tampered" {
		t.Error("AllowedFrom exposes the machine's table")
	}
	if _, err := exchange.ParseStatus("offer_lost"); err == nil {
		t.Error("unknown status parsed")
	}
	rec := exchange.Record{Status: exchange.StatusCredentialIssued}
	if err := rec.Transition(exchange.StatusIssuanceDenied, 5); !errors.Is(err, exchange.ErrTransitionRefused) || rec.Status != exchange.StatusCredentialIssued {
		t.Errorf("refused Transition: %v, status %s", err, rec.Status)
	}
	if err := rec.Transition(exchange.StatusCredentialAccepted, 5); err != nil || rec.UpdatedAt != 5 {
		t.Errorf("allowed Transition: %v", err)
	}
	if got, err := exchange.WriteCondition(exchange.StatusOfferReceived, exchange.StatusOfferReceived); err != nil ||
		!reflect.DeepEqual(got, []exchange.Status{exchange.StatusOfferReceived}) {
		t.Errorf("WriteCondition without a move = %v, %v", got, err)
	}
	if got, err := exchange.WriteCondition(exchange.StatusOfferSent, exchange.StatusCredentialIssued); err != nil ||
		!reflect.DeepEqual(got, exchange.AllowedFrom(exchange.StatusCredentialIssued)) {
		t.Errorf("WriteCondition of a move = %v, %v", got, err)
	}
	if _, err := exchange.WriteCondition(exchange.StatusCredentialIssued, exchange.StatusOfferSent); !errors.Is(err, exchange.ErrTransitionRefused) {
		t.Errorf("WriteCondition of a refused move: %v", err)
	}
	expect := exchange.Expect{Version: 1, Status: exchange.StatusOfferSent}
	issued := exchange.Record{Status: exchange.StatusCredentialIssued}
	moved := exchange.Record{Status: exchange.StatusOfferReceived}
	var te *exchange.TransitionError
	for _, tc := range []struct {
		cur        *exchange.Record
		want       error
		transition bool
	}{
		{nil, exchange.ErrNotFound, false},
		{&issued, exchange.ErrConflict, true},
		{&moved, exchange.ErrConflict, false},
	} {
		err := exchange.RefusedWrite(tc.cur, expect, exchange.StatusIssuanceDenied)
		if !errors.Is(err, tc.want) || errors.As(err, &te) != tc.transition {
			t.Errorf("RefusedWrite(%v) = %v", tc.cur, err)
		}
	}
}

func TestSetCredentialsAndEventDetail(t *testing.T) {
	rec := exchange.Record{CredentialExchangeID: "x", Status: exchange.StatusCredentialIssued,
		CredentialOffer: "haip://?credential_offer_uri=x", CredentialToken: "sd-jwt~", Proof: "proof.jwt.sig",
		Version: 3, ExpiresAt: 99, Pointers: []string{"CODE#ab"}, OfferIDHash: "aa", AccessTokenHash: "bb",
		NotificationDescription: "full", Definition: definition.Definition{ID: "d", Spec: domaintest.DefinitionSpec()},
		TxCode: &exchange.TxCode{InputMode: "numeric", Length: 4}, OfferDelivery: &exchange.OfferDelivery{Outcome: "delivered"}}
	rec.CredentialType = []string{"VerifiableCredential", "PortableDocumentA1"}
	rec.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika",
		"age": json.Number("12345678901234567890"), "address": map[string]any{"street_address": "Main 1"},
		"nationalities": []any{"DE"}},
		CredentialMetadata: map[string]any{"k": "v"}}})
	if rec.CredentialStatus != exchange.CredentialReady {
		t.Fatalf("credential status %s", rec.CredentialStatus)
	}
	mapping, _ := json.Marshal(rec.DisclosureMapping)
	want := `{"address":{"limitedDisclosure":true,"street_address":{"limitedDisclosure":true}},"age":{"limitedDisclosure":false},"given_name":{"limitedDisclosure":true},"nationalities":{"items":[{"limitedDisclosure":true}],"limitedDisclosure":false}}`
	if string(mapping) != want {
		t.Fatalf("disclosure mapping\n got %s\nwant %s", mapping, want)
	}
	pending := rec.Clone()
	pending.SetCredentials(nil)
	mapping, _ = json.Marshal(pending.DisclosureMapping)
	want = `{"address":{"limitedDisclosure":true,"street_address":{"limitedDisclosure":true}},"given_name":{"limitedDisclosure":true},"list":{"limitedDisclosure":false},"nationalities":{"limitedDisclosure":true}}`
	if string(mapping) != want || pending.CredentialStatus != exchange.CredentialPending || len(pending.Credentials) != 0 {
		t.Fatalf("pending disclosure mapping\n got %s\nwant %s", mapping, want)
	}
	d := rec.EventDetail()
	if d.CredentialExchangeID != "x" || d.Status != exchange.StatusCredentialIssued || d.OfferDelivery == nil ||
		d.OfferDelivery == rec.OfferDelivery {
		t.Fatalf("event detail lost what subscribers see: %+v", d)
	}
	detail := fmt.Sprintf("%#v", d)
	for _, secret := range []string{"Erika", "Main 1", "CODE#ab", "credential_offer_uri", "sd-jwt~", "proof.jwt",
		"full", "PortableDocumentA1", "numeric"} {
		if strings.Contains(detail, secret) {
			t.Fatalf("event detail carries %q", secret)
		}
	}
	if d.ExpiresAt != 0 || d.OfferIDHash != "" || d.AccessTokenHash != "" {
		t.Fatalf("event detail carries internal state: %+v", d)
	}
	if d.Version != rec.Version {
		t.Fatalf("event detail version %d, want the record's %d (consumers drop repeated deliveries by it)", d.Version, rec.Version)
	}
}

func TestSecrets(t *testing.T) {
	r := strings.NewReader(strings.Repeat("0123456789abcdef", 8))
	id, err := exchange.NewID(r)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("NewID = %q, %v", id, err)
	}
	s1, _ := exchange.NewSecret(r)
	if len(s1) != 43 {
		t.Fatalf("secret %q is not 32 bytes base64url", s1)
	}
	if _, err := exchange.NewSecret(strings.NewReader("short")); err == nil {
		t.Fatal("short random source accepted")
	}
	codeA, codeA2 := exchange.PreAuthorizedCode("a"), exchange.PreAuthorizedCode("a")
	if codeA != codeA2 || codeA == exchange.PreAuthorizedCode("b") || codeA == "a" {
		t.Fatal("pre-authorized code derivation is not a keyed function of the offer id")
	}
	if k := exchange.PointerKey(exchange.PointerCode, "secret"); k != "CODE#2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b" {
		t.Fatalf("PointerKey = %s", k)
	}
	tests := []struct {
		pin, mode string
		length    int
	}{{"4821", "numeric", 4}, {"ab12", "text", 4}, {"ü1", "text", 2}}
	for _, tt := range tests {
		tx, err := exchange.NewTxCode(strings.NewReader(strings.Repeat("s", 16)), tt.pin)
		if err != nil {
			t.Fatal(err)
		}
		if tx.InputMode != tt.mode || tx.Length != tt.length || !tx.Verify(tt.pin) || tx.Verify(tt.pin+"0") ||
			strings.Contains(string(tx.Hash), tt.pin) {
			t.Errorf("tx code of %q: %+v", tt.pin, tx)
		}
	}
	var none *exchange.TxCode
	if none.Verify("") {
		t.Fatal("nil tx code verified")
	}
}

func TestOfferLinks(t *testing.T) {
	link := exchange.OfferDeepLink("haip://", exchange.OfferURL("https://issuer.example/tenant/", "OFFER_id-1"))
	if link != "haip://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Ftenant%2Fcredential-offer%2FOFFER_id-1" {
		t.Fatalf("deep link %s", link)
	}
	id, err := exchange.OfferIDFromDeepLink(link)
	if err != nil || id != "OFFER_id-1" {
		t.Fatalf("offer id %q, %v", id, err)
	}
	for _, bad := range []string{"haip://", "haip://?credential_offer_uri=https%3A%2F%2Fx", "x?%zz"} {
		if _, err := exchange.OfferIDFromDeepLink(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestEventDetailLeavesOutPresentedClaims: a verified presentation's claims (holder.presentedClaims: a person's
// name, birth date, employer...) are personal data, which never reach an event (API.md, Events: the detail is the
// record without the credential's claims), nor the log of make run, where events are printed. The event says who
// presented what (presentedCredentials: query id, issuer, vct, trust, status, key thumbprint) and the organisation
// reads the claims from the record with its admin key. The record keeps them.
func TestEventDetailLeavesOutPresentedClaims(t *testing.T) {
	rec := exchange.Record{CredentialExchangeID: "x", PresentationExchangeID: "p", Holder: map[string]any{
		"id": "urn:ietf:params:oauth:jwk-thumbprint:sha-256:abc", "jkt": "abc", "authenticatedWith": "openid4vp",
		"presentedClaims":      map[string]any{"pid": []any{map[string]any{"given_name": "Erika", "birthdate": "1964-08-12"}}},
		"presentedCredentials": []map[string]any{{"queryId": "pid", "issuer": "https://pid.example", "vct": "urn:eudi:pid:1"}},
	}}
	d := rec.EventDetail()
	detail := fmt.Sprintf("%#v", d)
	for _, personal := range []string{"Erika", "1964-08-12", "presentedClaims"} {
		if strings.Contains(detail, personal) {
			t.Errorf("event detail carries %q", personal)
		}
	}
	if d.Holder["jkt"] != "abc" || d.Holder["authenticatedWith"] != "openid4vp" || d.Holder["presentedCredentials"] == nil ||
		d.PresentationExchangeID != "p" {
		t.Errorf("event detail lost who presented what: %+v", d.Holder)
	}
	if rec.Holder["presentedClaims"] == nil {
		t.Error("EventDetail changed the record's holder")
	}
}
