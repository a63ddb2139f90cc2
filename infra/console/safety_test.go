package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
)

// TestServedPageHeadersAndNoInlineScript checks /console and its assets as the issuer serves them (through the
// local gateway, as on make run): the Content-Security-Policy and the other security headers on each, and a page
// whose only script is the module loaded from /console.
func TestServedPageHeadersAndNoInlineScript(t *testing.T) {
	is := startIssuer(t)
	for _, path := range []string{"/console", "/console/app.js", "/console/console.css", "/console/nothing.js"} {
		res, err := http.Get(is.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if path == "/console/nothing.js" {
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, res.StatusCode)
			}
		} else if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'", "style-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline script or eval", path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: nosniff %q, referrer policy %q", path, res.Header.Get("X-Content-Type-Options"), res.Header.Get("Referrer-Policy"))
		}
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s answers CORS", path)
		}
		if path == "/console" {
			scripts := regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`).FindAllStringSubmatch(string(body), -1)
			if len(scripts) != 1 || strings.TrimSpace(scripts[0][1]) != "" || !strings.Contains(scripts[0][0], `src="console/app.js"`) {
				t.Errorf("the page's scripts: %q", scripts)
			}
		}
	}

	// In the browser: every script element comes from /console, none is inline, no style attribute anywhere.
	tb := openConsole(t, is.url)
	tb.connect(adminKey)
	tb.waitText("main h1", "Issue a credential")
	if n := eval[int](tb, `document.querySelectorAll('script:not([src]), [style]').length`); n != 0 {
		t.Errorf("%d inline scripts or style attributes in the live page", n)
	}
	for _, src := range eval[[]string](tb, `Array.from(document.scripts, (s) => s.src)`) {
		if !strings.HasPrefix(src, is.url+"/console/") {
			t.Errorf("script from %s", src)
		}
	}
	// Trusted Types are enforced: a string assigned to innerHTML throws instead of becoming markup.
	if got := eval[string](tb, `(() => { try { document.body.innerHTML = '<b>x</b>'; return 'assigned'; } catch (e) { return e.name; } })()`); got != "TypeError" {
		t.Errorf("innerHTML assignment: %s, want a TypeError from Trusted Types", got)
	}
	if v := eval[[]string](tb, `window.__cspViolations`); len(v) != 1 || !strings.Contains(v[0], "require-trusted-types-for") {
		t.Errorf("CSP violations %q, want exactly the innerHTML assignment of this test", v)
	}
}

// payload is stored where the organisation or a wallet can put text: it must come back as text, never run. It
// has no " or \ because a notification's event_description may not (OID4VCI 1.0 section 11.1); ' stands for
// breaking out of attribute values.
const payload = `<img src=x onerror=window.__xss=1><script>window.__xss=2</script><svg onload=alert(3)>'&<b>`

// TestStoredXSSStaysInert stores markup in a definition label, a credentialSubject value, a wallet's client_id
// and a wallet's notification event_description, then opens every screen that shows them: the exact text is on
// the page, no element of the payload exists, no script of it ran, no dialog opened, no CSP violation happened
// (so nothing was even attempted).
func TestStoredXSSStaysInert(t *testing.T) {
	is := startIssuer(t)
	def := admin(t, is, http.MethodPost, "/credential-definition", map[string]any{"label": payload, "vct": "XSSCheck",
		"expirationInDays": 30, "claims": []any{map[string]any{"path": []any{"note"}, "limitDisclosure": true}}})
	defID := def["credentialDefinition"].(map[string]any)["credentialDefinitionId"].(string)
	issued := admin(t, is, http.MethodPost, "/credential/issue", map[string]any{"issuanceMode": "InTime",
		"credentialDefinitionId": defID, "credential": map[string]any{"credentialSubject": map[string]any{"note": payload}}})
	rec := issued["credentialHistory"].(map[string]any)
	id := rec["credentialExchangeId"].(string)
	received(t, wallet(is, rec["credentialOffer"].(string), flow.ReceiveOptions{ClientID: payload,
		Notify: "credential_failure", Description: payload}), nil)
	stored := record(t, is, id)
	if stored["clientId"] != payload || stored["credentialFailureDescription"] != payload {
		t.Fatalf("the wallet's strings were not stored as sent: clientId %q, description %q", stored["clientId"], stored["credentialFailureDescription"])
	}

	tb := openConsole(t, is.url)
	tb.connect(adminKey)
	tb.waitText("main h1", "Issue a credential")
	inert := func(where string, times int) {
		t.Helper()
		if n := eval[int](tb, fmt.Sprintf(`document.querySelector('main').textContent.split(%s).length - 1`, js(payload))); n < times {
			tb.fail("%s: the payload is shown as text %d times, want at least %d", where, n, times)
		}
		if n := eval[int](tb, `document.querySelectorAll('img[src="x"], main script, svg, [onerror], [onload]').length`); n != 0 {
			tb.fail("%s: %d elements of the payload exist", where, n)
		}
		tb.clean(where)
	}
	tb.waitText("#issue-definition", payload)
	inert("issue form", 0)
	tb.visit("#/definitions", "Credential definitions")
	tb.waitText("main table", "XSSCheck")
	inert("definitions", 1)
	tb.visit("#/definitions/"+defID, "Edit")
	if got := tb.value("#def-label"); got != payload {
		t.Errorf("the label field holds %q", got)
	}
	inert("definition form", 1) // the heading
	tb.visit("#/history", "History")
	tb.waitText("#history-results", "1 exchange")
	inert("history", 2) // the definition's label and the wallet's client id
	tb.shot("20-xss-history")
	tb.visit("#/exchange/"+id, "Exchange")
	tb.waitText(".record", "credentialFailureDescription")
	// the client id, the failure description, the claim in credential and credentials, the raw JSON
	inert("exchange record", 3)
	tb.shot("21-xss-record")
}

// TestAuthorizationCodeRecordRenders takes an offer through the authorization code flow with an ID token that
// carries markup in a claim of its own (wallets may put anything there), then opens the exchange: the holder, the ID
// token, its decoded claims and the grant taken are shown, the markup as text, inert.
func TestAuthorizationCodeRecordRenders(t *testing.T) {
	is := startIssuer(t)
	def := admin(t, is, http.MethodPost, "/credential-definition", map[string]any{"label": "Employee ID", "vct": "EmployeeID",
		"expirationInDays": 30, "claims": []any{map[string]any{"path": []any{"given_name"}, "limitDisclosure": true}}})
	defID := def["credentialDefinition"].(map[string]any)["credentialDefinitionId"].(string)
	issued := admin(t, is, http.MethodPost, "/credential/issue", map[string]any{"issuanceMode": "InTime",
		"credentialDefinitionId": defID, "credential": map[string]any{"credentialSubject": map[string]any{"given_name": "Erika"}}})
	rec := issued["credentialHistory"].(map[string]any)
	id := rec["credentialExchangeId"].(string)
	c := is.wallet()
	c.IDTokenClaims = map[string]any{"name": payload}
	ctx := context.Background()
	uri, err := flow.OfferURI(rec["credentialOffer"].(string))
	if err != nil {
		t.Fatal(err)
	}
	offer, err := c.FetchOffer(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := flow.NewHolder()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Authorize(ctx, offer, holder); err != nil {
		t.Fatalf("authorization code flow: %v", err)
	}
	stored := record(t, is, id)
	did, _ := stored["holder"].(map[string]any)["id"].(string)
	if !strings.HasPrefix(did, "did:jwk:") || stored["idTokenVerified"] != true || stored["isPreAuthorised"] != false {
		t.Fatalf("record %v", stored)
	}

	tb := openConsole(t, is.url)
	tb.connect(adminKey)
	tb.waitText("main h1", "Issue a credential")
	tb.visit("#/exchange/"+id, "Exchange")
	tb.waitText(".record", "credentialExchangeId") // the first group; the ID token is in a later one
	text := eval[string](tb, `document.querySelector('.record') ? [...document.querySelectorAll('.record')].map(e => e.textContent).join(' ') : ''`)
	for _, want := range []string{did, "flow-wallet", "id_token", payload} {
		if !strings.Contains(text, want) {
			t.Errorf("the record does not show %q", want)
		}
	}
	if n := eval[int](tb, `document.querySelectorAll('img[src="x"], main script, svg, [onerror], [onload]').length`); n != 0 {
		tb.fail("%d elements of the ID token's markup exist", n)
	}
	tb.clean("exchange record with an ID token")
	tb.shot("22-authorization-code-record")
}

// TestKeyboardAndAccessibility uses the console with the keyboard only, and checks on every screen that each
// control has a label, focus is visible, and text has AA contrast.
func TestKeyboardAndAccessibility(t *testing.T) {
	is := startIssuer(t)
	admin(t, is, http.MethodPost, "/credential-definition", map[string]any{"label": "Employee ID", "vct": "EmployeeID",
		"expirationInDays": 30, "supportRevocation": true, "claims": []any{map[string]any{"path": []any{"given_name"}, "limitDisclosure": true}}})
	tb := openConsole(t, is.url)
	active := func() string {
		return eval[string](tb, `(() => { const a = document.activeElement; return a ? (a.id || a.textContent.trim().slice(0, 40)) : ''; })()`)
	}
	press := func(key string) { tb.do(chromedpKey(key)) }

	// Tab: the skip link first, then the key field; Enter submits; focus moves to the new screen's heading.
	press("\t")
	if got := active(); got != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	tb.checkFocusVisible("the skip link")
	press("\t")
	if got := active(); got != "api-key" {
		t.Fatalf("second Tab focuses %q, want the API key field", got)
	}
	tb.checkFocusVisible("the API key field")
	tb.do(chromedpType(adminKey + "\r"))
	tb.waitText("main h1", "Issue a credential")
	tb.waitJS(`document.activeElement === document.querySelector('main h1')`, "focus on the new screen's heading")

	// Through the navigation with Tab and Enter.
	tb.do(chromedpEval(`document.querySelector('.skip-link').focus()`))
	for i := 0; i < 10 && active() != "History"; i++ {
		press("\t")
	}
	if active() != "History" {
		t.Fatalf("Tab never reached the History link (at %q)", active())
	}
	tb.checkFocusVisible("the History link")
	press("\r")
	tb.waitText("main h1", "History")
	tb.waitJS(`document.activeElement === document.querySelector('main h1')`, "focus on History's heading")

	// Every screen: labelled controls, visible focus on each focusable element, AA contrast.
	for _, s := range []struct{ fragment, heading string }{
		{"#/issue", "Issue a credential"}, {"#/history", "History"}, {"#/definitions", "Credential definitions"},
		{"#/definitions/new", "New credential definition"}, {"#/presentations", "Presentation definitions"},
	} {
		tb.visit(s.fragment, s.heading)
		tb.waitJS(`!document.querySelector('main').textContent.includes('Loading')`, "the screen")
		tb.do(chromedpEval(`document.querySelectorAll('details').forEach((d) => { d.open = true; })`))
		if bad := eval[[]string](tb, unlabelledControls); len(bad) > 0 {
			t.Errorf("%s: controls without a label: %q", s.fragment, bad)
		}
		if low := eval[[]string](tb, lowContrast); len(low) > 0 {
			t.Errorf("%s: text below WCAG AA contrast: %q", s.fragment, low)
		}
		// Tab through the whole screen: every stop shows a focus indicator.
		tb.do(chromedpEval(`document.querySelector('.skip-link').focus()`))
		for i := 0; i < 60; i++ {
			press("\t")
			if eval[bool](tb, `document.activeElement === document.body || document.activeElement.closest('footer') !== null`) {
				break
			}
			tb.checkFocusVisible(s.fragment + " " + active())
		}
	}
	// A form submitted from the keyboard: the API's error lands at its field, with the focus on the summary.
	tb.visit("#/definitions/new", "New credential definition")
	tb.do(chromedpEval(`document.querySelector('#def-label').focus()`))
	press("\r")
	tb.waitText("#def-label-error", "label")
	tb.waitJS(`document.activeElement.classList.contains('error-summary')`, "focus on the error summary")
	if got := eval[string](tb, `document.querySelector('#def-label').getAttribute('aria-describedby')`); !strings.Contains(got, "def-label-error") {
		t.Errorf("the label field is not described by its error (aria-describedby %q)", got)
	}
	tb.shot("22-keyboard-error")
	tb.clean("keyboard")
}

// TestPresentationDefinitionsScreen: on the issuer's real presentation definition API the screen lists, creates,
// edits (DIF Presentation Exchange and DCQL) and deletes them, shows the API's errors at their field, and the
// issue form offers them. Behind an issuer without those routes (404) the screen says so, offers no form, and the
// issue form's dynamic credential request is disabled.
func TestPresentationDefinitionsScreen(t *testing.T) {
	is := startIssuer(t)
	tb := openConsole(t, olderIssuer(t, is))
	tb.connect(adminKey)
	tb.waitText("main h1", "Issue a credential")
	if !eval[bool](tb, `document.querySelector('#issue-presentation').disabled`) {
		t.Error("the presentation definition field of the issue form is enabled on an issuer without them")
	}
	tb.visit("#/presentations", "Presentation definitions")
	tb.waitText("#presentations-unavailable", "Not available on this issuer yet")
	if n := eval[int](tb, `document.querySelectorAll('main form').length`); n != 0 {
		t.Errorf("%d forms on the unavailable screen", n)
	}
	tb.shot("23-presentations-unavailable")
	tb.clean("presentations unavailable")

	tb2 := openConsole(t, is.url)
	tb2.connect(adminKey)
	tb2.waitText("main h1", "Issue a credential")
	tb2.visit("#/presentations", "Presentation definitions")
	tb2.waitText("main", "No presentation definitions yet")
	tb2.clickButton("New presentation definition")
	tb2.waitText("main h1", "New presentation definition")
	tb2.click("form button[type=submit]")
	tb2.waitText("#pd-label-error", "label")
	tb2.fill("#pd-label", "Proof of employment")
	// The issuer's own check of the definition shows at the body: a path that is no JSONPath.
	tb2.fill("#pd-body", `{"id": "employment", "input_descriptors": [{"id": "employee", "constraints": {"fields": [{"path": ["vct"]}]}}]}`)
	tb2.click("form button[type=submit]")
	tb2.waitJS(`document.querySelector('#pd-body-error') && !document.querySelector('#pd-body-error').hidden &&
	  document.querySelector('#pd-body-error').textContent.includes('JSONPath')`, "the issuer's answer at the definition")
	tb2.fill("#pd-body", `{"id": "employment", "input_descriptors": [{"id": "employee", "constraints": {"fields": [{"path": ["$.vct"]}]}}]}`)
	tb2.fill("#pd-trusted", "https://issuer.example\nhttps://other.example")
	tb2.shot("24-presentation-form")
	tb2.click("form button[type=submit]")
	tb2.waitText("main table", "Proof of employment")
	tb2.waitText("main table", "https://other.example")
	tb2.clickButton("Edit")
	tb2.waitText("main h1", "Edit “Proof of employment”")
	tb2.click("#pd-kind-dcql")
	tb2.fill("#pd-body", `{"credentials": [{"id": "employee", "format": "dc+sd-jwt", "meta": {"vct_values": ["EmployeeID"]}}]}`)
	tb2.click("form button[type=submit]")
	tb2.waitText("main table", "DCQL query")
	tb2.shot("25-presentations")
	list := adminGet(t, is, "/presentation-definitions")
	items, _ := list["presentationDefinitions"].([]any)
	if len(items) != 1 {
		t.Fatalf("%d presentation definitions stored, want 1: %v", len(items), list)
	}
	stored, _ := items[0].(map[string]any)
	if _, ok := stored["dcqlQuery"].(map[string]any); !ok || stored["presentationDefinition"] != nil {
		t.Errorf("the edit did not store the DCQL query in place of the definition: %v", stored)
	}

	// The issue form offers it; choosing it drops the PIN.
	tb2.visit("#/issue", "Issue a credential")
	tb2.do(chromedpEval(`document.querySelector('details').open = true`))
	tb2.waitText("#issue-presentation", "Proof of employment")
	tb2.fill("#issue-type", "EmployeeID")
	tb2.fill("#issue-presentation", stored["presentationDefinitionId"].(string))
	if !eval[bool](tb2, `document.querySelector('#issue-pin-on').disabled`) {
		t.Error("the PIN stays possible with a presentation definition")
	}
	tb2.shot("26-issue-dynamic-request")

	tb2.visit("#/presentations", "Presentation definitions")
	tb2.clickButton("Delete")
	tb2.clickButton("Delete presentation definition")
	tb2.waitText("main", "No presentation definitions yet")
	tb2.clean("presentations")
}

// adminGet reads an admin API document of the issuer.
func adminGet(t *testing.T, is *issuer, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, is.url+flow.AdminBase+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+adminKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return out
}
