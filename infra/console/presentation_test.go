package console

import (
	"net/http"
	"strings"
	"testing"
)

// TestDynamicRequestFromTheIssueForm: on the real API, the issue form sends a dynamic credential request (a
// presentation definition and transaction data, no PIN); the exchange page shows the offer and the record's
// presentation fields, says that a wallet presenting over OpenID4VP is needed (no scripted wallet command: it
// cannot present), and the stored exchange asks for that presentation with only the authorization code grant.
// Transaction data that is not a JSON object is refused at its field by the issuer.
func TestDynamicRequestFromTheIssueForm(t *testing.T) {
	is := startIssuer(t)
	def := admin(t, is, http.MethodPost, "/credential-definition", map[string]any{"label": "Registration",
		"credentialFormat": "dc+sd-jwt", "vct": "Registration", "expirationInDays": 30,
		"claims": []any{map[string]any{"path": []any{"company"}}}})["credentialDefinition"].(map[string]any)
	pd := admin(t, is, http.MethodPost, "/presentation-definition", map[string]any{"label": "Employee of ACME",
		"dcqlQuery": map[string]any{"credentials": []any{map[string]any{"id": "employee", "format": "dc+sd-jwt",
			"meta": map[string]any{"vct_values": []string{"Employee"}}}}}})["presentationDefinition"].(map[string]any)
	pdID := pd["presentationDefinitionId"].(string)

	tb := openConsole(t, is.url)
	tb.connect(adminKey)
	tb.waitText("main h1", "Issue a credential")
	if got := tb.value("#issue-definition"); got != def["credentialDefinitionId"] {
		t.Errorf("the issue form preselects %q", got)
	}
	tb.fill("#issue-subject", `{"company": "ACME Holding"}`)
	tb.do(chromedpEval(`document.querySelector('details').open = true`))
	tb.waitText("#issue-presentation", "Employee of ACME")
	tb.fill("#issue-presentation", pdID)
	if !eval[bool](tb, `document.querySelector('#issue-pin-on').disabled`) {
		t.Error("the PIN stays possible with a presentation definition")
	}
	tb.fill("#issue-transaction-data", `["not", "an", "object"]`)
	tb.click("form button[type=submit]")
	tb.waitJS(`document.querySelector('#issue-transaction-data-error') && !document.querySelector('#issue-transaction-data-error').hidden &&
	  document.querySelector('#issue-transaction-data-error').textContent.includes('object')`, "the issuer's answer at the transaction data")
	tb.fill("#issue-transaction-data", `{"type": "registration_fee", "amount": "25.00 EUR"}`)
	tb.click("form button[type=submit]")
	tb.waitText("main h1", "Exchange")
	tb.waitText("main", pdID)
	if n := eval[int](tb, `document.querySelectorAll('#offer-pin').length`); n != 0 {
		t.Error("the exchange of a dynamic credential request shows a PIN")
	}
	// The scripted wallet cannot present: the page names the kind of wallet it takes instead of its command.
	tb.waitText("#offer-presentation-note", "OpenID4VP")
	if n := eval[int](tb, `document.querySelectorAll('#wallet-command').length`); n != 0 ||
		strings.Contains(eval[string](tb, `document.querySelector('main').textContent`), "go run ./infra/wallet") {
		t.Error("the exchange of a dynamic credential request suggests the scripted wallet, which cannot present")
	}
	if note := tb.text("#offer-presentation-note"); !strings.Contains(note, "Employee of ACME") ||
		!strings.Contains(note, "scripted wallet") {
		t.Errorf("the note %q names neither the presentation definition nor why not the scripted wallet", note)
	}
	tb.shot("27-dynamic-request-exchange")
	rec := record(t, is, tb.exchangeID())
	if rec["presentationDefinitionId"] != pdID || rec["isPreAuthorised"] != false || rec["userPin"] != "" {
		t.Fatalf("stored exchange %v", rec)
	}
	link, _ := rec["credentialOffer"].(string)
	if !strings.HasPrefix(link, "openid-credential-offer://") {
		t.Fatalf("offer %q", link)
	}
	tb.clean("dynamic request")
}
