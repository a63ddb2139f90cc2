// app.js: the console's shell. It asks for the admin API key once per browser tab, then routes between the
// screens by the URL fragment (#/issue, #/history, #/exchange/<id>, #/definitions, #/presentations), so the back
// button, reloads and links work. Each screen renders into its own section; leaving a screen aborts its work
// (polling, pending requests).

import { h, field, input, check, checkbox, append } from './dom.js';
import * as api from './api.js';
import { showErrors, busy } from './forms.js';
import * as definitions from './definitions.js';
import * as presentations from './presentations.js';
import * as issue from './issue.js';
import * as history from './history.js';
import * as exchange from './exchange.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const session = document.getElementById('session');
const announcer = document.getElementById('announcer');
const defaultRoute = '#/issue';

// announce says text through the polite live region (status changes, copies, saves).
export function announce(text) {
  announcer.textContent = '';
  // A new text node a moment later makes screen readers announce the same message again.
  setTimeout(() => { announcer.textContent = text; }, 60);
}

// routes: fragment pattern, section of the navigation, screen.
const routes = [
  [/^#\/issue(?:\?(.*))?$/, 'issue', (ctx, m) => issue.render(ctx, new URLSearchParams(m[1] || ''))],
  [/^#\/history(?:\?(.*))?$/, 'history', (ctx, m) => history.render(ctx, new URLSearchParams(m[1] || ''))],
  [/^#\/exchange\/([^?]+)$/, 'history', (ctx, m) => exchange.render(ctx, decodeURIComponent(m[1]))],
  [/^#\/definitions$/, 'definitions', (ctx) => definitions.renderList(ctx)],
  [/^#\/definitions\/new$/, 'definitions', (ctx) => definitions.renderForm(ctx, '')],
  [/^#\/definitions\/([^?]+)$/, 'definitions', (ctx, m) => definitions.renderForm(ctx, decodeURIComponent(m[1]))],
  [/^#\/presentations$/, 'presentations', (ctx) => presentations.renderList(ctx)],
  [/^#\/presentations\/new$/, 'presentations', (ctx) => presentations.renderForm(ctx, '')],
  [/^#\/presentations\/([^?]+)$/, 'presentations', (ctx, m) => presentations.renderForm(ctx, decodeURIComponent(m[1]))],
];

let current = null; // { controller } of the screen shown
let firstRender = true;

// navigate shows the screen of hash (adding it to the browser history).
export function navigate(hash) {
  if (location.hash === hash) {
    route();
  } else {
    location.hash = hash;
  }
}

function setSection(section) {
  for (const a of nav.querySelectorAll('a[data-section]')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// screen starts a new screen: aborts the previous one, gives the new one a fresh section of main.
function startScreen(section) {
  if (current) current.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const el = h('section', { class: 'screen' });
  main.replaceChildren(el);
  setSection(section);
  return { el, signal: controller.signal };
}

// focusHeading moves focus to the screen's heading after a navigation (not on the first load), so keyboard and
// screen reader users start at the new content; the title follows the heading.
function focusHeading(el) {
  const h1 = el.querySelector('h1');
  if (!h1) return;
  document.title = `${h1.textContent} · Console · sdjwt-issuer`;
  h1.setAttribute('tabindex', '-1');
  if (!firstRender) h1.focus();
}

async function route() {
  const hash = location.hash;
  if (!hash.startsWith('#/')) {
    // #main (skip link) and other in-page anchors keep the screen; no fragment at all opens the default screen.
    if (!current) navigate(defaultRoute);
    return;
  }
  if (!api.getKey()) {
    renderKeyScreen('');
    return;
  }
  nav.hidden = false;
  session.hidden = false;
  const found = routes.find(([re]) => re.test(hash));
  if (!found) {
    const { el } = startScreen('');
    el.append(h('h1', {}, 'Page not found'),
      h('p', {}, 'The console has no screen at this address. ', h('a', { href: defaultRoute }, 'Issue a credential'), '.'));
    focusHeading(el);
    firstRender = false;
    return;
  }
  const [re, section, render] = found;
  const { el, signal } = startScreen(section);
  const ctx = { el, signal, announce, navigate };
  try {
    await render(ctx, re.exec(hash));
  } catch (e) {
    if (signal.aborted || (e && e.name === 'AbortError')) return;
    if (e instanceof api.ApiError && e.status === 401) return; // the key screen took over
    el.append(h('div', { class: 'notice notice-warn', role: 'alert' }, e instanceof api.ApiError ? e.description : `Something went wrong: ${e}`));
  }
  if (!signal.aborted) {
    focusHeading(el);
    firstRender = false;
  }
}

// renderKeyScreen asks for the admin API key; message explains why it is asked again.
function renderKeyScreen(message) {
  nav.hidden = true;
  session.hidden = true;
  const { el } = startScreen('');
  const keyInput = input('api-key', { type: 'password', autocomplete: 'off', dataField: 'apiKey', required: true,
    spellcheck: 'false', autocapitalize: 'off' });
  const show = checkbox('api-key-show', false);
  show.addEventListener('change', () => { keyInput.type = show.checked ? 'text' : 'password'; });
  const submit = h('button', { type: 'submit' }, 'Connect');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'key-heading' },
    field('Admin API key', keyInput, 'The key the admin API accepts (Authorization: ApiKey <key>). With `make run` it is ' +
      'printed in the terminal when the issuer starts, and kept in .local/admin-api-key. On AWS it is the key whose ' +
      'SHA-256 you deployed as AdminApiKeyHashes.'),
    check('Show the key while typing', show),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = keyInput.value.trim();
    if (!key) {
      showErrors(form, { field: 'apiKey', description: 'Enter the admin API key.' });
      return;
    }
    api.setKey(key);
    try {
      await busy(submit, 'Connecting…', () => api.call('GET', '/credential-definitions?limit=1', undefined, { keyCheck: true }));
    } catch (err) {
      api.forgetKey();
      const description = err.status === 401
        ? 'The issuer refused this key (HTTP 401). Check for missing characters; `make run` prints the key at start.'
        : err.description || String(err);
      showErrors(form, { field: 'apiKey', description });
      return;
    }
    announce('Connected to the issuer.');
    firstRender = false;
    const target = location.hash.startsWith('#/') ? location.hash : defaultRoute;
    if (location.hash === target) route(); else location.hash = target;
  });
  append(el, [
    h('h1', { id: 'key-heading' }, 'Connect to the issuer'),
    h('p', { class: 'lead' }, 'This console manages the issuer through its admin API: define credentials, offer them ' +
      'to people\'s wallets with a QR code, and follow each exchange. It needs the admin API key; the key stays in ' +
      'this browser tab only.'),
    message ? h('div', { class: 'notice notice-warn', role: 'alert' }, message) : null,
    form]);
  document.title = 'Connect · Console · sdjwt-issuer';
  if (!firstRender || message) keyInput.focus();
}

document.getElementById('forget-key').addEventListener('click', () => {
  api.forgetKey();
  announce('The API key is forgotten in this tab.');
  renderKeyScreen('');
});

api.onUnauthorized(() => {
  api.forgetKey();
  renderKeyScreen('The issuer refused the API key (HTTP 401): it may have changed. Enter it again.');
});

window.addEventListener('hashchange', route);
document.getElementById('loading')?.remove();
route();
