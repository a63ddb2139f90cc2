// history.js: the exchanges, newest first, filtered by status and definition, one page at a time
// (GET /credential/history with limit, cursor, status, credentialDefinitionId). Each row opens the exchange.

import { h, field, select, formatTime } from './dom.js';
import * as api from './api.js';
import { statuses, statusBadge, revocationBadge, loadDefinitions, definitionName, shortId } from './model.js';
import { pager } from './definitions.js';

export async function render(ctx, params) {
  const { el, signal } = ctx;
  const defs = await loadDefinitions(signal);
  const names = new Map(defs.map((d) => [d.credentialDefinitionId, d.label]));
  const status = select('history-status', [['', 'Any status'], ...statuses.map(([code, label]) => [code, `${label} (${code})`])],
    { value: params.get('status') || '', dataField: 'status' });
  const definition = select('history-definition', [['', 'Any definition'], ...defs.map((d) => [d.credentialDefinitionId, definitionName(d)])],
    { value: params.get('definition') || '', dataField: 'credentialDefinitionId' });
  const limit = select('history-limit', [['10', '10'], ['20', '20'], ['50', '50'], ['100', '100']], { value: params.get('limit') || '20', dataField: 'limit' });
  const refresh = h('button', { type: 'button', class: 'button-secondary' }, 'Refresh');
  const results = h('div', { id: 'history-results' });
  const filters = h('form', { class: 'filters', novalidate: true, role: 'search', 'aria-label': 'Filter the history' },
    field('Status', status), field('Credential definition', definition), field('Per page', limit),
    h('div', { class: 'actions' }, refresh));
  filters.addEventListener('submit', (e) => e.preventDefault());

  const show = async (cursors) => {
    const q = { status: status.value, credentialDefinitionId: definition.value, limit: limit.value, cursor: cursors[cursors.length - 1] };
    let page;
    try {
      page = await api.call('GET', `/credential/history${api.query(q)}`, undefined, { signal });
    } catch (err) {
      if (err.status === 401 || err.name === 'AbortError') return;
      results.replaceChildren(h('div', { class: 'notice notice-warn', role: 'alert' }, err.description || String(err)));
      return;
    }
    const items = (page && page.credentialHistory) || [];
    const next = (page && page.pagination && page.pagination.nextCursor) || '';
    if (!items.length) {
      results.replaceChildren(h('p', { class: 'empty', role: 'status' }, cursors.length > 1 ? 'No more exchanges.'
        : 'No exchange matches. Exchanges appear here when you issue a credential.'));
      if (cursors.length > 1) results.append(pager(ctx, cursors, '', show));
      return;
    }
    const rows = items.map((r) => {
      const credType = r.credential && Array.isArray(r.credential.type) ? r.credential.type[r.credential.type.length - 1] : '';
      const what = names.get(r.credentialDefinitionId) || credType || r.credentialDefinitionId || '—';
      return h('tr', {},
        h('td', { 'data-label': 'Created' }, formatTime(r.createdAt)),
        h('td', { 'data-label': 'Exchange', class: 'nowrap' },
          h('a', { href: `#/exchange/${encodeURIComponent(r.credentialExchangeId)}`, 'aria-label': `Open exchange ${r.credentialExchangeId}` },
            shortId(r.credentialExchangeId))),
        h('td', { 'data-label': 'Credential' }, what),
        h('td', { 'data-label': 'Mode' }, r.issuanceMode),
        h('td', { 'data-label': 'Status' }, statusBadge(r.status)),
        h('td', { 'data-label': 'Revocation' }, revocationBadge(r.revocationStatus)),
        h('td', { 'data-label': 'Wallet client', class: 'break' }, r.clientId || '—'));
    });
    results.replaceChildren(
      h('p', { role: 'status' }, `${items.length} exchange${items.length === 1 ? '' : 's'} on this page.`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'cards' },
        h('caption', { class: 'visually-hidden' }, 'Exchanges, newest first'),
        h('thead', {}, h('tr', {}, ['Created', 'Exchange', 'Credential', 'Mode', 'Status', 'Revocation', 'Wallet client'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))),
      pager(ctx, cursors, next, show));
  };
  const apply = () => {
    const q = api.query({ status: status.value, definition: definition.value, limit: limit.value === '20' ? '' : limit.value });
    history.replaceState(null, '', `#/history${q}`);
    return show(['']);
  };
  for (const s of [status, definition, limit]) s.addEventListener('change', apply);
  refresh.addEventListener('click', async () => {
    await show(['']);
    ctx.announce('History refreshed.');
  });

  el.replaceChildren(
    h('h1', {}, 'History'),
    h('p', { class: 'lead' }, 'Every exchange, newest first. Open one to see all its fields, its QR code while it is ' +
      'open, and to complete, deny, revoke, suspend or delete it.'),
    filters, results);
  await show(['']);
}
