package console

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/load/flow"
	"github.com/sdjwt-issuer/issuer/infra/load/inproc"
)

const adminKey = "console-admin-key"

// chromiumPath finds Debian's Chromium (or $CHROMIUM): the tests skip, saying why, when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no headless Chromium: install Debian's package `chromium` (make test's setup, infra/local/install.sh, " +
		"does when apt-get works) or set CHROMIUM to its path; the console's browser tests are skipped")
	return ""
}

// issuer is the whole API on a loopback port (inproc: the local gateway with template.yaml's routes in front of
// every function's handler), on a fresh table of the local stack.
type issuer struct {
	url    string
	wallet func() *flow.Client
}

func startIssuer(t *testing.T) *issuer {
	t.Helper()
	srv := inproc.ForTest(t, adminKey)
	return &issuer{url: srv.URL, wallet: func() *flow.Client { return &flow.Client{BaseURL: srv.URL, AdminKey: adminKey} }}
}

// artifacts is where the screenshots go: $CONSOLE_SCREENSHOTS, or .artifacts/console at the repository root
// (ignored by git).
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(testkit.MustRepoRoot(t), ".artifacts", "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// watch is injected into every document before its scripts: it records Content-Security-Policy violations and
// whether the payloads' marker code ever ran (window.__xss).
const watch = `(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
  });
})();`

// tab is one browser tab on the console.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string

	mu      sync.Mutex
	dialogs []string
}

// openConsole starts Chromium with the flags the brief asks for and a fresh profile, and opens base+"/console".
func openConsole(t *testing.T, base string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	tb := &tab{t: t, ctx: ctx, base: base, shots: artifacts(t)}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// Every dialog (alert, confirm, prompt) is recorded and dismissed: the console opens none, so any dialog is
	// a finding (an injected script calling alert, for one).
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, string(ev.Type)+": "+ev.Message)
			tb.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	origin := strings.TrimRight(base, "/")
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSettingGranted, Origin: origin}); err != nil {
			t.Logf("grant %s: %v (copy buttons then report a failure)", name, err)
		}
	}
	tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watch})
		return err
	}), chromedp.Navigate(base+"/console"))
	tb.waitJS(`document.querySelector('main h1') !== null`, "the console's first screen")
	return tb
}

// fail takes a screenshot of the failing state, then fails the test.
func (tb *tab) fail(format string, args ...any) {
	tb.t.Helper()
	tb.shot("FAILED-" + regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(tb.t.Name(), "-"))
	tb.t.Fatalf(format, args...)
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fail("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value into T.
func eval[T any](tb *tab, expression string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.fail("evaluate %s: %v", expression, err)
	}
	return v
}

// waitJS waits until the expression is truthy (what names it in the failure).
func (tb *tab) waitJS(expression, what string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 70*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expression,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		tb.fail("waiting for %s: %v\nmain says: %s", what, err, tb.mainText())
	}
}

func (tb *tab) mainText() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	return s
}

// js quotes a Go value as a JavaScript literal.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// waitText waits until the element of the CSS selector shows text.
func (tb *tab) waitText(selector, text string) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el !== null && el.textContent.includes(%s); })()`,
		js(selector), js(text)), fmt.Sprintf("%q in %s", text, selector))
}

// click clicks the element of the CSS selector.
func (tb *tab) click(selector string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// clickButton clicks the visible button (or link) whose text is label.
func (tb *tab) clickButton(label string) {
	tb.t.Helper()
	ok := eval[bool](tb, fmt.Sprintf(`(() => {
  const el = Array.from(document.querySelectorAll('main button, main a, header button, header a'))
    .find((b) => b.textContent.trim() === %s && b.offsetParent !== null && !b.disabled);
  if (!el) return false;
  el.click();
  return true;
})()`, js(label)))
	if !ok {
		tb.fail("no enabled button or link %q", label)
	}
}

// fill sets the value of a form control as typing would (input and change events).
func (tb *tab) fill(selector, value string) {
	tb.t.Helper()
	ok := eval[bool](tb, fmt.Sprintf(`(() => {
  const el = document.querySelector(%s);
  if (!el) return false;
  el.focus();
  el.value = %s;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
})()`, js(selector), js(value)))
	if !ok {
		tb.fail("no control %s", selector)
	}
}

// setChecked sets a checkbox or radio as a click would.
func (tb *tab) setChecked(selector string, checked bool) {
	tb.t.Helper()
	if eval[bool](tb, fmt.Sprintf(`document.querySelector(%s).checked`, js(selector))) != checked {
		tb.click(selector)
	}
}

// value reads a control's value; text an element's text.
func (tb *tab) value(selector string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`document.querySelector(%s).value`, js(selector)))
}

func (tb *tab) text(selector string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%s) || {textContent: ''}).textContent`, js(selector)))
}

// visit goes to a screen by its fragment and waits for its heading.
func (tb *tab) visit(fragment, heading string) {
	tb.t.Helper()
	tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %s`, js(fragment))))
	tb.waitText("main h1", heading)
}

// shot saves a full-page PNG screenshot under the artifacts folder.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	tb.screenshot(name, chromedp.FullScreenshot(100))
}

// viewShot saves what the window shows (the README's picture is one).
func (tb *tab) viewShot(name string) {
	tb.t.Helper()
	tb.screenshot(name, chromedp.CaptureScreenshot())
}

func (tb *tab) screenshot(name string, capture chromedp.Action[[]byte]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(tb.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	tb.t.Logf("screenshot %s", path)
}

// phone switches to a phone-sized viewport (390x844, mobile) and back with desktop.
func (tb *tab) phone() {
	tb.t.Helper()
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
}

func (tb *tab) desktop() {
	tb.t.Helper()
	tb.do(chromedp.EmulateViewport(1280, 900))
}

// clean checks what must hold on every screen: no dialog opened, no CSP violation, no injected code ran, no
// horizontal scrolling of the page.
func (tb *tab) clean(where string) {
	tb.t.Helper()
	tb.mu.Lock()
	dialogs := append([]string(nil), tb.dialogs...)
	tb.mu.Unlock()
	if len(dialogs) > 0 {
		tb.fail("%s: dialogs opened: %q", where, dialogs)
	}
	if v := eval[[]string](tb, `window.__cspViolations || []`); len(v) > 0 {
		tb.fail("%s: Content-Security-Policy violations: %q", where, v)
	}
	if eval[bool](tb, `window.__xss !== undefined`) {
		tb.fail("%s: injected code ran (window.__xss is set)", where)
	}
	if w := eval[[]int](tb, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		tb.fail("%s: the page is %d px wide in a %d px window (horizontal scrolling)", where, w[0], w[1])
	}
}
