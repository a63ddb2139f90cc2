package console

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sdjwt-issuer/issuer/infra/load/flow"
)

func chromedpKey(key string) chromedp.Action[chromedp.Void]   { return chromedp.KeyEvent(key) }
func chromedpType(text string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(text) }
func chromedpEval(expression string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expression)
}

// checkFocusVisible checks that the focused element shows a focus indicator (an outline of at least 2 px).
func (tb *tab) checkFocusVisible(what string) {
	tb.t.Helper()
	style := eval[[]string](tb, `(() => { const s = getComputedStyle(document.activeElement);
  return [s.outlineStyle, s.outlineWidth, document.activeElement.matches(':focus-visible') ? 'visible' : 'not'] })()`)
	width, err := strconv.ParseFloat(strings.TrimSuffix(style[1], "px"), 64)
	if style[0] == "none" || err != nil || width < 2 || style[2] != "visible" {
		tb.t.Errorf("%s: no visible focus indicator (outline %s %s, %s)", what, style[0], style[1], style[2])
	}
}

// unlabelledControls lists the visible form controls and buttons without an accessible name.
const unlabelledControls = `Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
  .filter((el) => el.tagName === 'BUTTON'
    ? !el.textContent.trim() && !el.getAttribute('aria-label')
    : !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map((el) => el.id || el.name || el.tagName)`

// lowContrast lists visible text whose contrast with its background is below WCAG 2.1 AA (4.5:1, 3:1 for large
// text); disabled controls are exempt, as WCAG says.
const lowContrast = `(() => {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const blend = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const l of layers.reverse()) bg = blend(l, bg);
    return bg;
  };
  const out = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (el.offsetParent === null || el.closest('.visually-hidden, :disabled, option')) continue;
    const s = getComputedStyle(el);
    const bg = background(el);
    const fg = blend(parse(s.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (parseInt(s.fontWeight, 10) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) out.push(el.tagName + ' "' + node.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return out;
})()`

// olderIssuer is the real issuer behind a proxy that answers the presentation definition routes 404, as an
// issuer of a release before them (or an API Gateway without those routes) does: the console must say so.
func olderIssuer(t *testing.T, is *issuer) string {
	t.Helper()
	target, err := url.Parse(is.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, flow.AdminBase+"/presentation-definition") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errorCode":404,"errorDescription":"no route for this method and path"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
