// definitions.js: credential definitions: list (paged), create, edit, delete. The form edits the fields this
// console knows (label, format with its type field, validity, revocation, claims with selective disclosure and
// display); every other field of a stored definition is kept in "Other fields (JSON)" and sent back unchanged, so
// fields added to the API later (format-specific ones, policies) survive an edit and can be set already.

import { h, replace, field, input, select, checkbox, check, textarea, formatTime, confirmInline, nextId } from './dom.js';
import * as api from './api.js';
import { showErrors, clearErrors, busy, parseJSONField } from './forms.js';
import { formats, typeFieldOf, parsePath, formatPath } from './model.js';

const pageSize = 20;
let flash = ''; // a message for the next list render (after a save)

// knownFields are the definition fields the form edits or the issuer sets.
const knownFields = new Set(['label', 'credentialFormat', 'vct', 'doctype', 'type', 'expirationInDays',
  'supportRevocation', 'claims', 'display', 'credentialDefinitionId', 'createdAt', 'updatedAt']);

export async function renderList(ctx, cursors = ['']) {
  const { el, signal } = ctx;
  const page = await api.call('GET', `/credential-definitions${api.query({ limit: pageSize, cursor: cursors[cursors.length - 1] })}`,
    undefined, { signal });
  const items = (page && page.credentialDefinitions) || [];
  const next = (page && page.pagination && page.pagination.nextCursor) || '';
  replace(el,
    h('h1', {}, 'Credential definitions'),
    h('p', { class: 'lead' }, 'A definition says what a credential contains: its type, its claims and which of them the ' +
      'holder may disclose one by one (selective disclosure), how long it is valid and whether it can be revoked. ' +
      'Each definition is offered in the issuer metadata.'),
    flash ? h('div', { class: 'notice notice-ok', role: 'status' }, flash) : null,
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/definitions/new' }, 'New credential definition')));
  flash = '';
  if (!items.length && cursors.length === 1) {
    el.append(h('p', { class: 'empty' }, 'No credential definitions yet. Create one, or issue a credential without a ' +
      'definition from the Issue screen.'));
    return;
  }
  const rows = items.map((d) => {
    const actionCell = h('td', { 'data-label': 'Actions' });
    const del = h('button', { type: 'button', class: 'button-quiet', 'aria-label': `Delete ${d.label}` }, 'Delete');
    actionCell.append(
      h('a', { href: `#/definitions/${encodeURIComponent(d.credentialDefinitionId)}`, 'aria-label': `Edit ${d.label}` }, 'Edit'), ' ',
      h('a', { href: `#/issue?definition=${encodeURIComponent(d.credentialDefinitionId)}`, 'aria-label': `Issue ${d.label}` }, 'Issue'), ' ',
      del);
    del.addEventListener('click', async () => {
      const yes = await confirmInline(actionCell, `Delete “${d.label}”? Exchanges already created keep their copy; ` +
        'new offers of it are no longer possible.', 'Delete definition', del);
      if (!yes) return;
      try {
        await api.call('DELETE', `/credential-definition/${api.segment(d.credentialDefinitionId)}`, undefined, { signal });
        flash = `Deleted “${d.label}”.`;
        ctx.announce(flash);
        await renderList(ctx, cursors);
      } catch (e) {
        if (e.status === 401) return;
        actionCell.append(h('p', { class: 'field-error', role: 'alert' }, e.description || String(e)));
      }
    });
    const typeName = d.vct || d.doctype || (Array.isArray(d.type) ? d.type.join(', ') : d.type) || '';
    return h('tr', {},
      h('td', { 'data-label': 'Label' }, d.label),
      h('td', { 'data-label': 'Type', class: 'break' }, typeName),
      h('td', { 'data-label': 'Format' }, d.credentialFormat),
      h('td', { 'data-label': 'Claims' }, String((d.claims || []).length)),
      h('td', { 'data-label': 'Revocable' }, d.supportRevocation ? 'yes' : 'no'),
      h('td', { 'data-label': 'Updated' }, formatTime(d.updatedAt)),
      actionCell);
  });
  el.append(h('div', { class: 'table-wrap' }, h('table', { class: 'cards' },
    h('caption', { class: 'visually-hidden' }, 'Credential definitions, newest first'),
    h('thead', {}, h('tr', {}, ['Label', 'Type', 'Format', 'Claims', 'Revocable', 'Updated', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows))));
  el.append(pager(ctx, cursors, next, (cs) => renderList(ctx, cs)));
}

// pager shows Previous/Next buttons over a stack of cursors.
export function pager(ctx, cursors, next, show) {
  const nav = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const prev = h('button', { type: 'button', class: 'button-secondary', disabled: cursors.length === 1 }, 'Previous page');
  const nextBtn = h('button', { type: 'button', class: 'button-secondary', disabled: !next }, 'Next page');
  prev.addEventListener('click', async () => {
    await show(cursors.slice(0, -1));
    ctx.announce(`Page ${cursors.length - 1}`);
  });
  nextBtn.addEventListener('click', async () => {
    await show([...cursors, next]);
    ctx.announce(`Page ${cursors.length + 1}`);
  });
  nav.append(prev, h('span', {}, `Page ${cursors.length}`), nextBtn);
  return nav;
}

// claimRow is one claim of the editor; index is its position (the API names claims[index] in errors).
function claimRow(claim, onRemove) {
  const id = nextId('claim');
  const path = input(`${id}-path`, { value: claim.path ? formatPath(claim.path) : '', autocomplete: 'off',
    placeholder: 'e.g. given_name or address/street_address' });
  const name = input(`${id}-name`, { value: (claim.display && claim.display[0] && claim.display[0].name) || '', autocomplete: 'off' });
  const sd = checkbox(`${id}-sd`, claim.limitDisclosure !== false);
  const mandatory = checkbox(`${id}-mandatory`, Boolean(claim.mandatory));
  const remove = h('button', { type: 'button', class: 'button-quiet claim-remove' }, 'Remove');
  const row = h('li', { class: 'claim-row' },
    field('Claim path', path),
    field('Name shown in wallets (optional)', name),
    remove,
    h('div', { class: 'claim-flags' },
      check('Selectively disclosable (limitDisclosure)', sd),
      check('Mandatory', mandatory)));
  row.claim = { original: claim, path, name, sd, mandatory };
  remove.addEventListener('click', () => onRemove(row));
  return row;
}

// renumber gives each claim row the API field names of its position and labels that say which claim it is.
function renumber(list) {
  Array.from(list.children).forEach((row, i) => {
    const c = row.claim;
    c.path.dataset.field = `claims[${i}].path`;
    c.name.dataset.field = `claims[${i}].display`;
    c.sd.dataset.field = `claims[${i}].limitDisclosure`;
    c.mandatory.dataset.field = `claims[${i}].mandatory`;
    row.querySelector('.claim-remove').setAttribute('aria-label', `Remove claim ${i + 1}`);
    row.setAttribute('aria-label', `Claim ${i + 1}`);
  });
}

export async function renderForm(ctx, id) {
  const { el, signal } = ctx;
  let def = { label: '', credentialFormat: 'dc+sd-jwt', vct: '', expirationInDays: 365, supportRevocation: true,
    claims: [{ path: ['given_name'], mandatory: true, limitDisclosure: true }, { path: ['family_name'], limitDisclosure: true }],
    display: [] };
  if (id) {
    const res = await api.call('GET', `/credential-definition/${api.segment(id)}`, undefined, { signal });
    def = res.credentialDefinition;
  }
  const extra = {};
  for (const [k, v] of Object.entries(def)) if (!knownFields.has(k)) extra[k] = v;
  const display0 = (def.display && def.display[0]) || {};

  const label = input('def-label', { value: def.label, dataField: 'label', required: true, autocomplete: 'off' });
  const format = select('def-format', formats.map(([code, text]) => [code, text]), { value: def.credentialFormat || 'dc+sd-jwt', dataField: 'credentialFormat' });
  if (![...format.options].some((o) => o.value === def.credentialFormat) && def.credentialFormat) {
    format.append(new Option(def.credentialFormat, def.credentialFormat));
    format.value = def.credentialFormat;
  }
  const vct = input('def-vct', { value: def.vct || '', dataField: 'vct', autocomplete: 'off', placeholder: 'e.g. EmployeeID or https://example.com/vct/employee' });
  const doctype = input('def-doctype', { value: def.doctype || '', dataField: 'doctype', autocomplete: 'off', placeholder: 'e.g. org.iso.18013.5.1.mDL' });
  const type = input('def-type', { value: Array.isArray(def.type) ? def.type.join(', ') : def.type || '', dataField: 'type',
    autocomplete: 'off', placeholder: 'e.g. VerifiableCredential, EmployeeCredential' });
  const typeFields = {
    vct: field('Credential type (vct)', vct, 'The SD-JWT VC type wallets and verifiers see: a name or an https URI.'),
    doctype: field('Document type (doctype)', doctype, 'The mdoc document type.'),
    type: field('W3C credential types (type)', type, 'Comma separated, e.g. VerifiableCredential, EmployeeCredential.'),
  };
  const showTypeField = () => {
    const wanted = typeFieldOf(format.value);
    for (const [k, f] of Object.entries(typeFields)) f.hidden = k !== wanted;
  };
  format.addEventListener('change', showTypeField);
  showTypeField();

  const days = input('def-days', { type: 'number', min: '1', max: '3650', step: '1', value: def.expirationInDays, dataField: 'expirationInDays', inputmode: 'numeric' });
  const revocation = checkbox('def-revocation', def.supportRevocation, { dataField: 'supportRevocation' });

  const claimList = h('ol', { class: 'claims', 'aria-label': 'Claims' });
  const removeRow = (row) => {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber(claimList);
    ctx.announce('Claim removed.');
    (next ? next.querySelector('input') : addClaim).focus();
  };
  for (const c of def.claims || []) claimList.append(claimRow(c, removeRow));
  renumber(claimList);
  const addClaim = h('button', { type: 'button', class: 'button-secondary' }, 'Add a claim');
  addClaim.addEventListener('click', () => {
    const row = claimRow({ path: null, limitDisclosure: true }, removeRow);
    claimList.append(row);
    renumber(claimList);
    row.querySelector('input').focus();
  });

  const dName = input('def-display-name', { value: display0.name || '', dataField: 'display[0].name', autocomplete: 'off' });
  const dLocale = input('def-display-locale', { value: display0.locale || 'en', dataField: 'display[0].locale', autocomplete: 'off' });
  const dDescription = input('def-display-description', { value: display0.description || '', dataField: 'display[0].description', autocomplete: 'off' });
  const dBackground = input('def-display-background', { value: display0.backgroundColor || '', dataField: 'display[0].backgroundColor', autocomplete: 'off', placeholder: '#12107c' });
  const dText = input('def-display-text', { value: display0.textColor || '', dataField: 'display[0].textColor', autocomplete: 'off', placeholder: '#ffffff' });
  const extraText = textarea('def-extra', { value: Object.keys(extra).length ? JSON.stringify(extra, null, 2) : '', dataField: 'extra', rows: '4' });

  const submit = h('button', { type: 'submit' }, id ? 'Save changes' : 'Create definition');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'def-heading' },
    field('Label', label, 'A name for people in this console, e.g. Employee ID.'),
    field('Credential format', format, 'What kind of credential the issuer signs. The issuer refuses formats it does not support yet, and says so here.'),
    typeFields.vct, typeFields.doctype, typeFields.type,
    field('Valid for (days)', days, 'Credentials expire this many days after issuance (1 to 3650).'),
    check('Credentials can be revoked and suspended', revocation, 'Adds a Token Status List entry to each credential, so ' +
      'that you can revoke, suspend and reinstate it from the exchange.'),
    h('fieldset', {}, h('legend', {}, 'Claims'),
      h('p', { class: 'hint' }, 'One row per claim. A path names the claim; nested claims are separated by /, and * means ' +
        'every element of an array (nationalities/*). Selectively disclosable claims are hidden until the holder ' +
        'chooses to show them. Claims not listed are issued in the clear.'),
      claimList, h('div', { class: 'actions' }, addClaim)),
    h('fieldset', {}, h('legend', {}, 'How wallets show it (optional)'),
      field('Name', dName), field('Locale', dLocale, 'A language tag such as en or de-DE.'),
      field('Description', dDescription), field('Background colour', dBackground, 'A CSS colour, e.g. #12107c.'),
      field('Text colour', dText)),
    h('details', {}, h('summary', {}, 'Other fields (JSON)'),
      field('Other definition fields', extraText, 'Fields this form does not show, as a JSON object; they are sent as ' +
        'they are, e.g. {"walletInitiated": true}. Fields of the form above take precedence.')),
    h('div', { class: 'actions' }, submit, h('a', { href: '#/definitions' }, 'Cancel')));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const errors = [];
    const extraParsed = parseJSONField(extraText, {}, 'Other fields');
    if (extraParsed.error) errors.push(extraParsed.error);
    else if (typeof extraParsed.value !== 'object' || Array.isArray(extraParsed.value) || extraParsed.value === null) {
      errors.push({ field: 'extra', description: 'Other fields must be a JSON object, e.g. {"walletInitiated": true}.' });
    }
    const claims = Array.from(claimList.children).map((row, i) => {
      const c = row.claim;
      const parsed = parsePath(c.path.value);
      if (parsed.error) errors.push({ field: `claims[${i}].path`, description: parsed.error });
      const out = { ...c.original, path: parsed.path, limitDisclosure: c.sd.checked };
      if (c.mandatory.checked) out.mandatory = true; else delete out.mandatory;
      const name = c.name.value.trim();
      const rest = (c.original.display || []).slice(1);
      const first = { ...((c.original.display || [])[0] || {}), name };
      if (!first.locale && dLocale.value.trim()) first.locale = dLocale.value.trim();
      if (name) out.display = [first, ...rest];
      else if (rest.length) out.display = rest;
      else delete out.display;
      return out;
    });
    const daysValue = Number(days.value);
    if (!Number.isInteger(daysValue)) errors.push({ field: 'expirationInDays', description: 'Enter a whole number of days, e.g. 365.' });
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    const body = { ...extraParsed.value, label: label.value, credentialFormat: format.value, expirationInDays: daysValue,
      supportRevocation: revocation.checked, claims };
    const typeField = typeFieldOf(format.value);
    for (const k of ['vct', 'doctype', 'type']) delete body[k];
    if (typeField === 'vct') body.vct = vct.value.trim();
    if (typeField === 'doctype') body.doctype = doctype.value.trim();
    if (typeField === 'type') body.type = type.value.split(',').map((s) => s.trim()).filter(Boolean);
    const d0 = { ...display0, name: dName.value.trim(), locale: dLocale.value.trim(), description: dDescription.value.trim(),
      backgroundColor: dBackground.value.trim(), textColor: dText.value.trim() };
    for (const k of ['locale', 'description', 'backgroundColor', 'textColor']) if (!d0[k]) delete d0[k];
    const moreDisplays = (def.display || []).slice(1);
    const anyDisplay = d0.name || d0.description || d0.backgroundColor || d0.textColor;
    body.display = anyDisplay ? [d0, ...moreDisplays] : moreDisplays;
    try {
      const res = await busy(submit, 'Saving…', () => (id
        ? api.call('PUT', `/credential-definition/${api.segment(id)}`, body, { signal })
        : api.call('POST', '/credential-definition', body, { signal })));
      const saved = res.credentialDefinition;
      flash = `Saved “${saved.label}”.`;
      ctx.announce(flash);
      ctx.navigate('#/definitions');
    } catch (err) {
      if (err.status === 401 || err.name === 'AbortError') return;
      const top = (err.field || '').split(/[.[]/)[0];
      if (top && !form.querySelector(`[data-field^="${CSS.escape(top)}"]`) && top in extraParsed.value) err.field = 'extra';
      showErrors(form, err);
    }
  });

  const heading = id ? `Edit “${def.label}”` : 'New credential definition';
  const deleteHost = h('div', { class: 'actions' });
  if (id) {
    const del = h('button', { type: 'button', class: 'button-danger' }, 'Delete this definition');
    deleteHost.append(del);
    del.addEventListener('click', async () => {
      const yes = await confirmInline(deleteHost, `Delete “${def.label}”? Exchanges already created keep their copy.`, 'Delete definition', del);
      if (!yes) return;
      try {
        await api.call('DELETE', `/credential-definition/${api.segment(id)}`, undefined, { signal });
        flash = `Deleted “${def.label}”.`;
        ctx.announce(flash);
        ctx.navigate('#/definitions');
      } catch (err) {
        if (err.status !== 401) showErrors(form, err);
      }
    });
  }
  el.replaceChildren(
    h('h1', { id: 'def-heading' }, heading),
    id ? h('p', { class: 'lead' }, 'Id ', h('code', {}, id), '. Exchanges already created keep the definition they were created with.')
      : h('p', { class: 'lead' }, 'Two sample claims are filled in; change or remove them.'),
    form, deleteHost);
}
