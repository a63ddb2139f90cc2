package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// wallet runs the scripted wallet (infra/load/flow, the same as `go run ./infra/wallet`) on an offer link in the
// background; the result arrives on the channel.
func wallet(is *issuer, link string, opts flow.ReceiveOptions) <-chan walletResult {
	out := make(chan walletResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		c := is.wallet()
		got, err := c.Receive(ctx, link, opts)
		out <- walletResult{got: got, client: c, err: err}
	}()
	return out
}

type walletResult struct {
	got    flow.Received
	client *flow.Client
	err    error
}

// received waits for the wallet and checks its credential: signed with the issuer's published key, with the
// given claims.
func received(t *testing.T, ch <-chan walletResult, claims map[string]string) {
	t.Helper()
	var r walletResult
	select {
	case r = <-ch:
	case <-time.After(3 * time.Minute):
		t.Fatal("the scripted wallet did not finish")
	}
	if r.err != nil {
		t.Fatalf("scripted wallet: %v", r.err)
	}
	if len(r.got.Credentials) != 1 {
		t.Fatalf("wallet received %d credentials, want 1", len(r.got.Credentials))
	}
	keys, err := r.client.IssuerKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdjwt.Verify(r.got.Credentials[0], sdjwt.WithIssuerKeySet(keys))
	if err != nil {
		t.Fatalf("the wallet's credential does not verify: %v", err)
	}
	for k, want := range claims {
		if got := fmt.Sprint(v.Claims[k]); got != want {
			t.Errorf("credential claim %s = %q, want %q", k, got, want)
		}
	}
}

// admin calls the admin API directly (set-up the test does not do through the page).
func admin(t *testing.T, is *issuer, method, path string, body any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(method, is.url+flow.AdminBase+path, strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, out)
	}
	return out
}

func record(t *testing.T, is *issuer, id string) map[string]any {
	t.Helper()
	h, _ := admin(t, is, http.MethodGet, "/credential/history/"+id, nil)["credentialHistory"].(map[string]any)
	return h
}

// connect types the admin API key on the key screen.
func (tb *tab) connect(key string) {
	tb.t.Helper()
	tb.waitText("main h1", "Connect to the issuer")
	tb.fill("#api-key", key)
	tb.click("form button[type=submit]")
}

// exchangeID is the id of the exchange the page shows (from its URL).
func (tb *tab) exchangeID() string {
	tb.t.Helper()
	return eval[string](tb, `decodeURIComponent(location.hash.replace('#/exchange/', ''))`)
}

// TestWholePathToAScriptedWallet plays an operator on an empty issuer: connect (a wrong key first), create a
// credential definition (an error from the API shown at its field first), edit it, issue an InTime offer with a
// PIN, hand the link and PIN to the scripted wallet, watch the status reach "accepted" live, suspend, reinstate
// and revoke; find the exchange in the history with filters and paging; a Deferred exchange completed from the
// page and picked up by the wallet; another denied and deleted; the definition deleted. Every screen is
// photographed, on a desktop and on a phone.
func TestWholePathToAScriptedWallet(t *testing.T) {
	is := startIssuer(t)
	tb := openConsole(t, is.url)

	// Connect: a wrong key is refused at the key field, the right one opens the Issue screen.
	tb.shot("01-connect")
	tb.connect("not-the-key")
	tb.waitText("#api-key-error", "refused this key")
	if got := eval[string](tb, `document.querySelector('#api-key').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("the key field is not marked invalid (%q)", got)
	}
	tb.shot("02-connect-wrong-key")
	tb.connect(adminKey)
	tb.waitText("main h1", "Issue a credential")
	if eval[string](tb, `sessionStorage.getItem('sdjwt-issuer.console.adminApiKey')`) != adminKey ||
		eval[int](tb, `localStorage.length`) != 0 {
		t.Error("the key must be kept in sessionStorage only")
	}
	tb.waitText("form", "No credential definitions yet")
	tb.shot("03-issue-empty-issuer")
	tb.clean("issue screen")

	// A credential definition, created with the form; the API's error lands at the label field.
	tb.visit("#/definitions", "Credential definitions")
	tb.waitText("main", "No credential definitions yet")
	tb.clickButton("New credential definition")
	tb.waitText("main h1", "New credential definition")
	tb.fill("#def-vct", "EmployeeID")
	tb.click("form button[type=submit]")
	tb.waitText("#def-label-error", "label")
	tb.waitText(".error-summary", "There is a problem")
	tb.shot("04-definition-error-at-field")
	tb.fill("#def-label", "Employee ID")
	tb.clickButton("Add a claim")
	tb.fill(".claim-row:nth-child(3) input[id$=-path]", "address/street_address")
	tb.fill(".claim-row:nth-child(3) input[id$=-name]", "Street")
	tb.fill("#def-display-name", "Employee ID")
	tb.shot("05-definition-form")
	tb.click("form button[type=submit]")
	tb.waitText("main h1", "Credential definitions")
	tb.waitText("main table", "Employee ID")
	tb.waitText("main [role=status]", "Saved")
	defs, _ := admin(t, is, http.MethodGet, "/credential-definitions", nil)["credentialDefinitions"].([]any)
	if len(defs) != 1 {
		t.Fatalf("%d definitions stored, want 1", len(defs))
	}
	def := defs[0].(map[string]any)
	defID := def["credentialDefinitionId"].(string)
	var wantClaims any
	_ = json.Unmarshal([]byte(`[{"path":["given_name"],"mandatory":true,"limitDisclosure":true},{"path":["family_name"],"limitDisclosure":true},`+
		`{"path":["address","street_address"],"limitDisclosure":true,"display":[{"name":"Street","locale":"en"}]}]`), &wantClaims)
	if def["vct"] != "EmployeeID" || def["supportRevocation"] != true || !reflect.DeepEqual(def["claims"], wantClaims) {
		t.Errorf("stored definition: vct %v, revocation %v, claims %v", def["vct"], def["supportRevocation"], def["claims"])
	}
	// Edit: the label changes, everything else stays.
	tb.clickButton("Edit")
	tb.waitText("main h1", "Edit “Employee ID”")
	tb.fill("#def-label", "Employee ID card")
	tb.click("form button[type=submit]")
	tb.waitText("main table", "Employee ID card")
	tb.shot("06-definitions")
	tb.clean("definitions")

	// An InTime offer with a PIN: QR code, link and PIN at once.
	tb.visit("#/issue", "Issue a credential")
	if got := tb.value("#issue-definition"); got != defID {
		t.Errorf("the issue form preselects %q, want the only definition %q", got, defID)
	}
	tb.fill("#issue-subject", `{"given_name": "Erika", "family_name": "Mustermann", "address": {"street_address": "Heidestrasse 17"}}`)
	pin := tb.value("#issue-pin")
	if len(pin) != 6 || strings.Trim(pin, "0123456789") != "" {
		t.Errorf("generated PIN %q, want 6 digits", pin)
	}
	tb.shot("07-issue-form")
	tb.click("form button[type=submit]")
	tb.waitText("main h1", "Exchange")
	tb.waitJS(`(() => { const img = document.querySelector('img.qr'); return img && img.complete && img.naturalWidth >= 128; })()`, "the QR code image")
	if src := eval[string](tb, `document.querySelector('img.qr').src`); !strings.HasPrefix(src, "blob:") {
		t.Errorf("QR code src %q, want a blob: URL", src)
	}
	link := tb.value("#offer-link")
	if !strings.HasPrefix(link, "openid-credential-offer://?credential_offer_uri=") {
		t.Fatalf("offer link %q", link)
	}
	if got := tb.text("#offer-pin"); got != pin {
		t.Errorf("the exchange shows PIN %q, the form had %q", got, pin)
	}
	if cmd := tb.text("#wallet-command"); !strings.Contains(cmd, "go run ./infra/wallet -pin "+pin+" '"+link+"'") {
		t.Errorf("scripted wallet command %q", cmd)
	}
	tb.do(chromedp.EmulateViewport(1280, 1000))
	tb.viewShot("readme-exchange") // docs/console.png is a copy of it
	tb.desktop()
	tb.clickButton("Copy link")
	tb.waitJS(`Array.from(document.querySelectorAll('button')).some((b) => b.textContent === 'Copied')`, "the copy button's answer")
	if got := eval[string](tb, `navigator.clipboard.readText()`); got != link {
		t.Errorf("the clipboard holds %q after Copy link, want the link", got)
	}
	tb.waitText("main", "Offer created")
	id := tb.exchangeID()
	tb.shot("08-exchange-offer")
	tb.clean("exchange")

	// The scripted wallet takes the link and the PIN; the page follows live to "Wallet accepted".
	received(t, wallet(is, link, flow.ReceiveOptions{TxCode: pin}), map[string]string{"given_name": "Erika"})
	tb.waitText(".steps li.done:last-child", "Wallet accepted it")
	tb.waitText("#announcer", "Wallet accepted")
	tb.waitJS(`document.querySelector('#offer-heading') === null || document.querySelector('#offer-heading').closest('section').hidden`, "the offer to disappear")
	tb.waitText("main", "The exchange has ended")
	tb.shot("09-exchange-accepted")

	// Revocation: suspend, reinstate, revoke (with its confirmation).
	tb.clickButton("Suspend")
	tb.waitText("#revocation-heading + p", "Suspended")
	tb.clickButton("Reinstate")
	tb.waitText("#revocation-heading + p", "Operational")
	tb.clickButton("Revoke")
	tb.waitText(".confirm", "final")
	tb.clickButton("Revoke for good")
	tb.waitText("#revocation", "Revoked is final")
	if got := record(t, is, id)["revocationStatus"]; got != "Revoked" {
		t.Errorf("revocationStatus %v after revoking from the page", got)
	}
	tb.shot("10-exchange-revoked")
	tb.clean("revocation")

	// Deferred, without PIN: the wallet waits; the operator completes it on the page.
	tb.visit("#/issue", "Issue a credential")
	tb.setChecked("#issue-mode-deferred", true)
	if got := tb.value("#issue-subject"); got != "" {
		t.Errorf("Deferred keeps claims %q in the form, want them empty", got)
	}
	tb.setChecked("#issue-pin-on", false)
	tb.click("form button[type=submit]")
	tb.waitJS(`document.querySelector('img.qr') !== null`, "the deferred offer")
	deferredLink := tb.value("#offer-link")
	if strings.Contains(tb.text("#wallet-command"), "-pin") {
		t.Errorf("the command of an offer without PIN has -pin: %s", tb.text("#wallet-command"))
	}
	pickedUp := wallet(is, deferredLink, flow.ReceiveOptions{})
	tb.waitText("main", "Wallet opened the offer (done)")
	tb.waitText("#deferred-heading", "waiting for you")
	tb.shot("11-deferred-waiting")
	tb.fill("#complete-subject", `{"given_name": "Max", "family_name": "Mustermann"}`)
	tb.clickButton("Issue the credential")
	received(t, pickedUp, map[string]string{"given_name": "Max"})
	tb.waitText("main .live", "Deferred credential picked up")
	tb.shot("12-deferred-picked-up")

	// Deferred again, denied from the page, then deleted.
	tb.visit("#/issue", "Issue a credential")
	tb.setChecked("#issue-mode-deferred", true)
	tb.click("form button[type=submit]")
	tb.waitText("#deferred-heading", "waiting for you")
	deniedID := tb.exchangeID()
	tb.clickButton("Deny issuance")
	tb.waitText("#deny-reason-error", "issuanceDeniedReason")
	tb.fill("#deny-reason", "The employment ended.")
	tb.clickButton("Deny issuance")
	tb.waitText("main .live", "Issuance denied")
	tb.waitText(".steps", "Issuance denied")
	tb.shot("13-deferred-denied")
	tb.clickButton("Delete this exchange")
	tb.clickButton("Delete exchange")
	tb.waitText("main h1", "History")
	tb.clean("deferred")

	// History: more exchanges than one page, filters, paging, opening a record.
	for i := 0; i < 9; i++ {
		admin(t, is, http.MethodPost, "/credential/issue", map[string]any{"issuanceMode": "InTime", "credentialDefinitionId": defID,
			"credential": map[string]any{"credentialSubject": map[string]any{"given_name": fmt.Sprintf("Person %d", i)}}})
	}
	tb.visit("#/history", "History")
	tb.fill("#history-limit", "10")
	tb.waitText("#history-results", "10 exchanges on this page")
	if strings.Contains(tb.text("#history-results"), deniedID[:8]) {
		t.Error("the deleted exchange is still listed")
	}
	tb.shot("14-history")
	tb.clickButton("Next page")
	tb.waitText("#history-results", "1 exchange on this page")
	tb.waitText(".pager", "Page 2")
	tb.clickButton("Previous page")
	tb.waitText("#history-results", "10 exchanges on this page")
	tb.fill("#history-status", "credential_accepted")
	tb.waitText("#history-results", "1 exchange on this page")
	tb.waitText("#history-results", id[:8])
	if !strings.Contains(eval[string](tb, `location.hash`), "status=credential_accepted") {
		t.Errorf("the filter is not in the URL: %s", eval[string](tb, `location.hash`))
	}
	tb.fill("#history-status", "issuance_denied")
	tb.waitText("#history-results", "No exchange matches")
	tb.fill("#history-status", "")
	tb.fill("#history-definition", defID)
	tb.waitText("#history-results", "10 exchanges on this page")
	tb.fill("#history-status", "credential_acked")
	tb.waitText("#history-results", "1 exchange on this page")
	tb.click("#history-results a")
	tb.waitText("main h1", "Exchange")
	tb.waitText(".record", "credentialExchangeId")
	tb.shot("15-record")
	tb.clean("history")

	// Phone: every screen fits the width; photographs of the main ones.
	tb.phone()
	for _, s := range []struct{ fragment, heading, name string }{
		{"#/issue", "Issue a credential", "16-phone-issue"},
		{"#/exchange/" + id, "Exchange", "17-phone-exchange"},
		{"#/history", "History", "18-phone-history"},
		{"#/definitions", "Credential definitions", "19-phone-definitions"},
	} {
		tb.visit(s.fragment, s.heading)
		tb.waitJS(`!document.querySelector('main').textContent.includes('Loading')`, "the screen")
		tb.shot(s.name)
		tb.clean(s.name)
	}
	tb.desktop()

	// The definition goes; its exchanges keep their copy.
	tb.visit("#/definitions", "Credential definitions")
	tb.clickButton("Delete")
	tb.waitText(".confirm", "Exchanges already created keep their copy")
	tb.clickButton("Delete definition")
	tb.waitText("main [role=status]", "Deleted")
	tb.waitText("main", "No credential definitions yet")
	if got := record(t, is, id)["status"]; got != "credential_accepted" {
		t.Errorf("the exchange after deleting its definition: status %v", got)
	}
	tb.clean("end")
}
