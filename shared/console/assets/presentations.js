// presentations.js: presentation definitions (what a holder must present in a dynamic credential request): list,
// create, edit, delete through POST/GET/PUT/DELETE /presentation-definition and GET /presentation-definitions.
// An issuer without these routes answers 404 (403 behind API Gateway): the screen then says so and shows no
// form, and starts working unchanged once the routes exist.

import { h, replace, field, input, textarea, formatTime, confirmInline } from './dom.js';
import * as api from './api.js';
import { showErrors, clearErrors, busy, parseJSONField } from './forms.js';
import { presentationSupport } from './model.js';
import { pager } from './definitions.js';

let flash = '';

function unavailable(ctx, reason) {
  const again = h('button', { type: 'button', class: 'button-secondary' }, 'Check again');
  again.addEventListener('click', () => ctx.navigate('#/presentations'));
  return [
    h('div', { class: 'notice notice-warn', role: 'status', id: 'presentations-unavailable' },
      h('p', {}, h('strong', {}, 'Not available on this issuer yet.'), ' This issuer has no presentation definition ' +
        'API (POST, GET, PUT and DELETE …/presentation-definition), so presentation definitions cannot be managed ' +
        'here, and offers cannot ask for a presentation first (dynamic credential request).'),
      h('p', {}, 'This screen works as soon as the issuer has that API; everything else in the console works without it.'),
      h('p', { class: 'hint' }, `The issuer answered: ${reason}`)),
    h('div', { class: 'actions' }, again)];
}

function lead() {
  return h('p', { class: 'lead' }, 'A presentation definition says which credentials a holder must present (OpenID4VP) ' +
    'before the issuer issues, in a dynamic credential request: as a DIF Presentation Exchange definition or a DCQL query, ' +
    'with the issuers whose credentials are trusted.');
}

export async function renderList(ctx, cursors = ['']) {
  const { el, signal } = ctx;
  let page;
  try {
    page = await api.call('GET', `/presentation-definitions${api.query({ limit: 20, cursor: cursors[cursors.length - 1] })}`, undefined, { signal });
  } catch (err) {
    if (err instanceof api.ApiError && [403, 404, 405, 501].includes(err.status)) {
      el.replaceChildren(h('h1', {}, 'Presentation definitions'), lead(), ...unavailable(ctx, err.description));
      return;
    }
    throw err;
  }
  const items = (page && page.presentationDefinitions) || [];
  const next = (page && page.pagination && page.pagination.nextCursor) || '';
  replace(el, h('h1', {}, 'Presentation definitions'), lead(),
    flash ? h('div', { class: 'notice notice-ok', role: 'status' }, flash) : null,
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/presentations/new' }, 'New presentation definition')));
  flash = '';
  if (!items.length && cursors.length === 1) {
    el.append(h('p', { class: 'empty' }, 'No presentation definitions yet.'));
    return;
  }
  const rows = items.map((p) => {
    const label = p.label || p.presentationDefinitionId;
    const actions = h('td', { 'data-label': 'Actions' });
    const del = h('button', { type: 'button', class: 'button-quiet', 'aria-label': `Delete ${label}` }, 'Delete');
    actions.append(h('a', { href: `#/presentations/${encodeURIComponent(p.presentationDefinitionId)}`, 'aria-label': `Edit ${label}` }, 'Edit'), ' ', del);
    del.addEventListener('click', async () => {
      if (!(await confirmInline(actions, `Delete “${label}”?`, 'Delete presentation definition', del))) return;
      try {
        await api.call('DELETE', `/presentation-definition/${api.segment(p.presentationDefinitionId)}`, undefined, { signal });
        flash = `Deleted “${label}”.`;
        ctx.announce(flash);
        await renderList(ctx, cursors);
      } catch (err) {
        if (err.status !== 401) actions.append(h('p', { class: 'field-error', role: 'alert' }, err.description || String(err)));
      }
    });
    return h('tr', {},
      h('td', { 'data-label': 'Label' }, label),
      h('td', { 'data-label': 'Kind' }, p.dcqlQuery ? 'DCQL query' : 'DIF Presentation Exchange'),
      h('td', { 'data-label': 'Trusted issuers', class: 'break' }, (p.trustedIssuers || []).join(', ') || '—'),
      h('td', { 'data-label': 'Updated' }, formatTime(p.updatedAt)),
      actions);
  });
  el.append(h('div', { class: 'table-wrap' }, h('table', { class: 'cards' },
    h('caption', { class: 'visually-hidden' }, 'Presentation definitions'),
    h('thead', {}, h('tr', {}, ['Label', 'Kind', 'Trusted issuers', 'Updated', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows))), pager(ctx, cursors, next, (cs) => renderList(ctx, cs)));
}

export async function renderForm(ctx, id) {
  const { el, signal } = ctx;
  let pd = { label: '', presentationDefinition: { id: 'employee', input_descriptors: [] }, trustedIssuers: [] };
  if (id) {
    try {
      pd = (await api.call('GET', `/presentation-definition/${api.segment(id)}`, undefined, { signal })).presentationDefinition;
    } catch (err) {
      if (err instanceof api.ApiError && [403, 404, 405, 501].includes(err.status)) {
        const support = await presentationSupport(signal);
        if (!support.available) {
          el.replaceChildren(h('h1', {}, 'Presentation definitions'), lead(), ...unavailable(ctx, support.reason));
          return;
        }
      }
      throw err;
    }
  } else {
    const support = await presentationSupport(signal);
    if (!support.available) {
      el.replaceChildren(h('h1', {}, 'Presentation definitions'), lead(), ...unavailable(ctx, support.reason));
      return;
    }
  }
  const isDCQL = Boolean(pd.dcqlQuery);
  const label = input('pd-label', { value: pd.label || '', dataField: 'label', autocomplete: 'off' });
  const dif = h('input', { type: 'radio', id: 'pd-kind-dif', name: 'pd-kind', value: 'dif' });
  const dcql = h('input', { type: 'radio', id: 'pd-kind-dcql', name: 'pd-kind', value: 'dcql' });
  dif.checked = !isDCQL;
  dcql.checked = isDCQL;
  const body = textarea('pd-body', { rows: '14', value: JSON.stringify(isDCQL ? pd.dcqlQuery : pd.presentationDefinition || {}, null, 2) });
  const bodyLabel = h('label', { for: body.id });
  const setKind = () => {
    body.dataset.field = dcql.checked ? 'dcqlQuery' : 'presentationDefinition';
    bodyLabel.textContent = dcql.checked ? 'DCQL query (JSON)' : 'Presentation definition (DIF Presentation Exchange 2.0, JSON)';
  };
  dif.addEventListener('change', setKind);
  dcql.addEventListener('change', setKind);
  setKind();
  const trusted = textarea('pd-trusted', { rows: '3', dataField: 'trustedIssuers', value: (pd.trustedIssuers || []).join('\n') });
  const submit = h('button', { type: 'submit' }, id ? 'Save changes' : 'Create presentation definition');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'pd-heading' },
    field('Label', label, 'A name for people in this console.'),
    h('fieldset', {}, h('legend', {}, 'Kind'),
      h('div', { class: 'radio-group' },
        h('div', { class: 'check' }, dif, h('label', { for: dif.id }, 'DIF Presentation Exchange 2.0 definition')),
        h('div', { class: 'check' }, dcql, h('label', { for: dcql.id }, 'OpenID4VP 1.0 DCQL query')))),
    h('div', { class: 'field' }, bodyLabel, body, h('p', { class: 'field-error', id: 'pd-body-error', hidden: true })),
    field('Trusted issuers (optional)', trusted, 'One credential issuer identifier per line, e.g. https://issuer.example. ' +
      'Credentials of these issuers are accepted.'),
    h('div', { class: 'actions' }, submit, h('a', { href: '#/presentations' }, 'Cancel')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const parsed = parseJSONField(body, undefined, 'The definition');
    if (parsed.error || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      showErrors(form, parsed.error || { field: body.dataset.field, description: 'Enter a JSON object.' });
      return;
    }
    const payload = { label: label.value };
    payload[body.dataset.field] = parsed.value;
    const issuers = trusted.value.split('\n').map((s) => s.trim()).filter(Boolean);
    if (issuers.length) payload.trustedIssuers = issuers;
    try {
      const res = await busy(submit, 'Saving…', () => (id
        ? api.call('PUT', `/presentation-definition/${api.segment(id)}`, payload, { signal })
        : api.call('POST', '/presentation-definition', payload, { signal })));
      const saved = res && res.presentationDefinition;
      flash = `Saved “${(saved && saved.label) || payload.label}”.`;
      ctx.announce(flash);
      ctx.navigate('#/presentations');
    } catch (err) {
      if (err.status !== 401 && err.name !== 'AbortError') showErrors(form, err);
    }
  });
  el.replaceChildren(h('h1', { id: 'pd-heading' }, id ? `Edit “${pd.label || id}”` : 'New presentation definition'), lead(), form);
}
