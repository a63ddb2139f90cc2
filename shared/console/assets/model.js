// model.js: what the console knows about the admin API's data: statuses and their wording, claim paths as the
// operator types them, and the lists it loads for select boxes.

import * as api from './api.js';
import { h } from './dom.js';

// statuses of an exchange, in the order of the status machine, with what they mean for the operator.
export const statuses = [
  ['offer_sent', 'Offer created', 'The offer waits for the wallet.'],
  ['offer_received', 'Wallet opened the offer', 'The wallet fetched the offer or redeemed its code.'],
  ['credential_issued', 'Credential issued', 'The wallet received the credential.'],
  ['credential_acked', 'Deferred credential picked up', 'The wallet picked up the deferred credential.'],
  ['credential_accepted', 'Wallet accepted', 'The wallet stored the credential.'],
  ['credential_deleted', 'Wallet deleted it', 'The wallet reported that the holder deleted the credential.'],
  ['issuance_denied', 'Issuance denied', 'No credential will be issued.'],
];

const statusInfo = new Map(statuses.map(([code, label, help]) => [code, { label, help }]));

// finalStatuses end an exchange: nothing more will happen to it by itself.
export const finalStatuses = new Set(['credential_accepted', 'credential_deleted', 'issuance_denied']);

// issuedStatuses are those after a credential reached the wallet.
export const issuedStatuses = new Set(['credential_issued', 'credential_acked', 'credential_accepted', 'credential_deleted']);

export function statusLabel(code) {
  return statusInfo.has(code) ? statusInfo.get(code).label : code || 'unknown';
}

export function statusHelp(code) {
  return statusInfo.has(code) ? statusInfo.get(code).help : '';
}

// statusBadge shows a status as a labelled badge; the status code itself is in its title.
export function statusBadge(code) {
  let tone = 'badge-progress';
  if (code === 'credential_accepted' || code === 'credential_issued' || code === 'credential_acked') tone = 'badge-ok';
  if (code === 'issuance_denied' || code === 'credential_deleted') tone = 'badge-bad';
  return h('span', { class: ['badge', tone], title: code }, statusLabel(code));
}

// revocationBadge shows a revocation status.
export function revocationBadge(value) {
  if (!value) return h('span', { class: 'empty' }, 'not revocable');
  const tone = value === 'Operational' ? 'badge-ok' : value === 'Suspended' ? 'badge-warn' : 'badge-bad';
  return h('span', { class: ['badge', tone] }, value);
}

// formats a definition may have; the issuer refuses the ones it does not support yet, naming credentialFormat.
export const formats = [
  ['dc+sd-jwt', 'SD-JWT VC (dc+sd-jwt)', 'vct'],
  ['vc+sd-jwt', 'SD-JWT VC, draft name (vc+sd-jwt)', 'vct'],
  ['mso_mdoc', 'ISO mdoc (mso_mdoc)', 'doctype'],
  ['jwt_vc_json', 'W3C VC as a JWT (jwt_vc_json)', 'type'],
];

// typeFieldOf is the field that names the credential type in a definition of format f.
export function typeFieldOf(f) {
  const found = formats.find(([code]) => code === f);
  return found ? found[2] : 'vct';
}

// parsePath turns what the operator typed into a claim path: a JSON array as is, or segments separated by "/",
// where "*" is every element of an array (null) and a number an array index. Returns { path } or { error }.
export function parsePath(text) {
  const t = text.trim();
  if (!t) return { error: 'Enter the claim path, e.g. given_name or address/street_address.' };
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t);
      if (Array.isArray(v)) return { path: v };
    } catch (_) {
      // fall through
    }
    return { error: 'A path starting with [ must be a JSON array, e.g. ["address", "street_address"].' };
  }
  const parts = t.split('/').map((s) => s.trim());
  if (parts.some((s) => s === '')) return { error: 'A path has no empty parts: write a/b, not a//b or a/.' };
  return { path: parts.map((s) => (s === '*' ? null : /^\d+$/.test(s) ? Number(s) : s)) };
}

// formatPath shows a claim path the way parsePath reads it; paths whose names would be misread stay JSON.
export function formatPath(path) {
  if (!Array.isArray(path)) return '';
  const simple = path.every((p) => p === null || Number.isInteger(p) ||
    (typeof p === 'string' && p !== '' && p !== '*' && !p.includes('/') && !/^\d+$/.test(p) && !p.startsWith('[') && p.trim() === p));
  if (!simple) return JSON.stringify(path);
  return path.map((p) => (p === null ? '*' : String(p))).join('/');
}

// subjectSkeleton is a credentialSubject with every claim path of a definition and empty values: what the
// operator fills in.
export function subjectSkeleton(claims) {
  const out = {};
  for (const c of claims || []) {
    const path = c.path || [];
    let node = out;
    for (let i = 0; i < path.length; i += 1) {
      const key = path[i];
      const last = i === path.length - 1;
      if (key === null || Number.isInteger(key)) break; // arrays: the operator writes their elements
      const nextIsArray = !last && (path[i + 1] === null || Number.isInteger(path[i + 1]));
      if (last) {
        if (!(key in node)) node[key] = '';
      } else {
        if (typeof node[key] !== 'object' || node[key] === null) node[key] = nextIsArray ? [] : {};
        if (Array.isArray(node[key])) break;
        node = node[key];
      }
    }
  }
  return out;
}

// loadAll reads every page of a list (definitions for the select boxes; at most `max` items).
export async function loadAll(path, key, signal, max = 500) {
  const out = [];
  let cursor = '';
  do {
    const page = await api.call('GET', path + api.query({ limit: 100, cursor }), undefined, { signal });
    out.push(...((page && page[key]) || []));
    cursor = (page && page.pagination && page.pagination.nextCursor) || '';
  } while (cursor && out.length < max);
  return out;
}

// loadDefinitions reads the credential definitions (newest first).
export function loadDefinitions(signal) {
  return loadAll('/credential-definitions', 'credentialDefinitions', signal);
}

// presentationSupport probes the presentation definition API: it resolves { available: true, items } or
// { available: false, reason } when the issuer has no such routes (404/403 from the gateway, or 501).
export async function presentationSupport(signal) {
  try {
    const items = await loadAll('/presentation-definitions', 'presentationDefinitions', signal);
    return { available: true, items };
  } catch (e) {
    if (e instanceof api.ApiError && [403, 404, 405, 501].includes(e.status)) {
      return { available: false, reason: e.description };
    }
    throw e;
  }
}

// definitionName is how a definition is named in lists.
export function definitionName(d) {
  if (!d) return '';
  const type = d.vct || d.doctype || (Array.isArray(d.type) ? d.type[d.type.length - 1] : d.type) || '';
  return type && type !== d.label ? `${d.label} (${type})` : d.label || d.credentialDefinitionId;
}

// randomPin is a numeric transaction code of n digits from the browser's CSPRNG.
export function randomPin(n = 6) {
  const digits = new Uint32Array(n);
  crypto.getRandomValues(digits);
  return Array.from(digits, (d) => String(d % 10)).join('');
}

// shortId shortens a long id for headings; the full id is always shown beside it.
export function shortId(id) {
  return id && id.length > 13 ? `${id.slice(0, 8)}…` : id || '';
}

// pins keeps the transaction code of exchanges created in this tab: the issue response shows it once, the issuer
// keeps only its hash. Memory only: gone on reload.
export const pins = new Map();
