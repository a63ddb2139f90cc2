package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// presentationAPI stands in for the presentation definition routes of the admin API (API.md, "Presentation
// definitions"; issue 15 builds them) in front of the real issuer: the console is served through it, so the page
// meets the contract as it will be, while every other request reaches the issuer unchanged.
type presentationAPI struct {
	URL   string
	mu    sync.Mutex
	items map[string]map[string]any
	next  int
}

func startPresentationAPI(t *testing.T, is *issuer) *presentationAPI {
	t.Helper()
	target, err := url.Parse(is.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	p := &presentationAPI{items: map[string]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		one := flow.AdminBase + "/presentation-definition"
		if r.URL.Path != one && !strings.HasPrefix(r.URL.Path, one+"/") && r.URL.Path != one+"s" {
			proxy.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") != "ApiKey "+adminKey {
			p.answer(w, http.StatusUnauthorized, map[string]any{"errorCode": 401, "errorDescription": "missing or wrong admin API key"})
			return
		}
		p.serve(w, r, strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, one), "/"))
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *presentationAPI) answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (p *presentationAPI) serve(w http.ResponseWriter, r *http.Request, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	bad := func(field, reason string) {
		p.answer(w, http.StatusBadRequest, map[string]any{"errorCode": 400, "errorDescription": field + ": " + reason})
	}
	read := func() map[string]any {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			bad("body", "is not a JSON object")
			return nil
		}
		if s, _ := body["label"].(string); strings.TrimSpace(s) == "" {
			bad("label", "is required: a human-readable name of the presentation definition")
			return nil
		}
		_, pe := body["presentationDefinition"].(map[string]any)
		_, dcql := body["dcqlQuery"].(map[string]any)
		if pe == dcql {
			bad("presentationDefinition", "give presentationDefinition or dcqlQuery (one of them)")
			return nil
		}
		return body
	}
	now := time.Now().Unix()
	switch {
	case r.Method == http.MethodGet && id == "s": // GET .../presentation-definitions
		list := make([]map[string]any, 0, len(p.items))
		for _, it := range p.items {
			list = append(list, it)
		}
		sort.Slice(list, func(i, j int) bool {
			return list[i]["presentationDefinitionId"].(string) > list[j]["presentationDefinitionId"].(string)
		})
		p.answer(w, http.StatusOK, map[string]any{"presentationDefinitions": list, "pagination": map[string]any{"limit": 20, "nextCursor": ""}})
	case r.Method == http.MethodPost && id == "":
		if body := read(); body != nil {
			p.next++
			body["presentationDefinitionId"], body["createdAt"], body["updatedAt"] = fmt.Sprintf("pd-%03d", p.next), now, now
			p.items[body["presentationDefinitionId"].(string)] = body
			p.answer(w, http.StatusCreated, map[string]any{"presentationDefinition": body})
		}
	case p.items[id] == nil:
		p.answer(w, http.StatusNotFound, map[string]any{"errorCode": 404, "errorDescription": "presentation definition not found"})
	case r.Method == http.MethodGet:
		p.answer(w, http.StatusOK, map[string]any{"presentationDefinition": p.items[id]})
	case r.Method == http.MethodPut:
		if body := read(); body != nil {
			body["presentationDefinitionId"], body["createdAt"], body["updatedAt"] = id, p.items[id]["createdAt"], now
			p.items[id] = body
			p.answer(w, http.StatusOK, map[string]any{"presentationDefinition": body})
		}
	case r.Method == http.MethodDelete:
		delete(p.items, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		p.answer(w, http.StatusMethodNotAllowed, map[string]any{"errorCode": 405, "errorDescription": "method not allowed"})
	}
}

// firstID is the id of a stored presentation definition.
func (p *presentationAPI) firstID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.items {
		return id
	}
	return ""
}
