// dom.js: building the page from data without ever parsing markup. Every string becomes a text node or an
// attribute value set through the DOM API; nothing here assigns innerHTML, outerHTML or insertAdjacentHTML (the
// Content-Security-Policy's Trusted Types would make such an assignment throw anyway).

// Attributes that may carry a URL: only values built by the console itself go there (see safeHref).
const urlAttributes = new Set(['href', 'src']);

// h builds an element. attrs: plain attributes (strings, numbers, booleans: true sets "", false/null omits), plus
// `class`, `dataset` (object), `on` (object of event listeners) and `props` (properties such as value, checked).
// children: strings (text nodes), nodes, arrays of them, null/undefined/false (skipped).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (name === 'props') {
      Object.assign(el, value);
    } else if (name === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (name === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value);
    } else if (urlAttributes.has(name)) {
      el.setAttribute(name, safeHref(String(value)));
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

// append adds children (see h) to el.
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// safeHref keeps the URLs the console itself makes (fragments, relative paths, blob: URLs of fetched images,
// http(s) and the offer deep-link schemes); anything else (javascript:, data:, ...) becomes "#".
export function safeHref(url) {
  if (/^(#|\.\/|console\/|blob:)/.test(url)) return url;
  try {
    const u = new URL(url, location.href);
    if (['http:', 'https:', 'openid-credential-offer:', 'haip:'].includes(u.protocol)) return url;
  } catch (_) {
    // not a URL
  }
  return '#';
}

// replace makes children (see h; null and false are skipped) the only children of el.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let uid = 0;
// nextId returns a document-unique id with a readable prefix.
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// field wraps a control with its label, an optional hint and the slot for its error message, linked for
// assistive technology (label for=, aria-describedby). control must have an id.
export function field(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : null;
  if (hintId) describe(control, hintId);
  return h('div', { class: 'field' },
    h('label', { for: control.id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true }));
}

// check is a checkbox with its label to the right and an optional hint.
export function check(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : null;
  if (hintId) describe(control, hintId);
  return h('div', { class: 'check' }, control,
    h('div', {}, h('label', { for: control.id }, label),
      hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
      h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true })));
}

// describe adds id to el's aria-describedby.
export function describe(el, id) {
  const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  if (!ids.includes(id)) ids.push(id);
  el.setAttribute('aria-describedby', ids.join(' '));
}

// undescribe removes id from el's aria-describedby.
export function undescribe(el, id) {
  const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
  else el.removeAttribute('aria-describedby');
}

// input builds a text-like input; opts: type, value, placeholder, autocomplete, dataField (the API field it
// feeds), required, inputmode, and any other attribute.
export function input(id, opts = {}) {
  const { value, dataField, ...rest } = opts;
  const el = h('input', { id, name: id, type: 'text', ...rest, dataset: dataField ? { field: dataField } : undefined });
  if (value !== undefined && value !== null) el.value = String(value);
  return el;
}

// textarea builds a textarea (see input).
export function textarea(id, opts = {}) {
  const { value, dataField, ...rest } = opts;
  const el = h('textarea', { id, name: id, spellcheck: 'false', ...rest, dataset: dataField ? { field: dataField } : undefined });
  if (value !== undefined && value !== null) el.value = String(value);
  return el;
}

// select builds a select from [value, label] pairs.
export function select(id, options, opts = {}) {
  const { value, dataField, ...rest } = opts;
  const el = h('select', { id, name: id, ...rest, dataset: dataField ? { field: dataField } : undefined },
    options.map(([v, label]) => h('option', { value: v }, label)));
  if (value !== undefined && value !== null) el.value = String(value);
  return el;
}

// checkbox builds a checkbox input.
export function checkbox(id, checked, opts = {}) {
  const { dataField, ...rest } = opts;
  const el = h('input', { id, name: id, type: 'checkbox', ...rest, dataset: dataField ? { field: dataField } : undefined });
  el.checked = Boolean(checked);
  return el;
}

// formatTime renders unix seconds as a local date and time; 0 or missing as an em dash.
export function formatTime(seconds) {
  if (!seconds) return '—';
  const d = new Date(seconds * 1000);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

// json renders a value as indented JSON text (for <pre>).
export function json(value) {
  return JSON.stringify(value, null, 2);
}

// copyButton copies what getText returns (or an image blob from getBlob) to the clipboard and says so in its
// own label and in the page's live region.
export function copyButton(label, getText, announce, opts = {}) {
  const btn = h('button', { type: 'button', class: 'button-secondary', ...opts.attrs }, label);
  btn.addEventListener('click', async () => {
    try {
      if (opts.getBlob) {
        const blob = await opts.getBlob();
        await navigator.clipboard.write([new ClipboardItem({ [blob.type]: blob })]);
      } else {
        await navigator.clipboard.writeText(getText());
      }
      btn.textContent = 'Copied';
      announce(`${label}: copied to the clipboard`);
    } catch (_) {
      btn.textContent = 'Copy failed: select and copy by hand';
      announce(`${label}: the browser did not allow copying; select the text and copy it by hand`);
    }
    setTimeout(() => { btn.textContent = label; }, 2500);
  });
  return btn;
}

// confirmInline replaces the content of host with a question and two buttons until the operator answers; it
// resolves true for yes. Focus moves to the safe choice (no) and comes back to returnFocus afterwards.
export function confirmInline(host, question, yesLabel, returnFocus) {
  return new Promise((resolve) => {
    const before = Array.from(host.childNodes);
    const no = h('button', { type: 'button', class: 'button-secondary' }, 'Cancel');
    const yes = h('button', { type: 'button', class: 'button-danger' }, yesLabel);
    const box = h('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm' }, h('p', {}, question),
      h('div', { class: 'actions' }, yes, no));
    const done = (answer) => {
      host.replaceChildren(...before);
      if (returnFocus && returnFocus.isConnected) returnFocus.focus();
      resolve(answer);
    };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    box.addEventListener('keydown', (e) => { if (e.key === 'Escape') done(false); });
    host.replaceChildren(box);
    no.focus();
  });
}
