// api.js: the admin API as the console calls it. The key lives only in this tab's sessionStorage; every call
// sends it as `Authorization: ApiKey <key>` to the same origin the page came from.

const keyName = 'sdjwt-issuer.console.adminApiKey';

// root is where the issuer is served: the page is <root>/console (on AWS with the execute-api URL, root is the
// stage path).
export const root = location.pathname.replace(/\/console\/?$/, '');

// adminBase is the admin API's base path.
export const adminBase = `${root}/v2/config/digital-wallet/openid/sdjwt`;

export function getKey() {
  try {
    return sessionStorage.getItem(keyName) || '';
  } catch (_) {
    return '';
  }
}

export function setKey(key) {
  sessionStorage.setItem(keyName, key);
}

export function forgetKey() {
  try {
    sessionStorage.removeItem(keyName);
  } catch (_) {
    // storage unavailable: nothing kept
  }
}

// ApiError is a failed admin API call: status (0 when nothing answered), the API's errorDescription, and the
// request field it names ("claims[1].path", "userPin", ...) when it starts with one.
export class ApiError extends Error {
  constructor(status, description) {
    super(description);
    this.status = status;
    this.description = description;
    this.field = fieldOf(description);
  }
}

// fieldOf reads the field an admin API error names: its descriptions start with the JSON path of the field and a
// colon ("claims[2].path[1]: ..."). Returns "" when the description names none.
export function fieldOf(description) {
  const m = /^([A-Za-z_$][\w$]*(?:\[\d+\]|\.[A-Za-z_$][\w$#-]*)*):\s/.exec(description || '');
  return m ? m[1] : '';
}

// Listeners for answers that mean the key is wrong or gone (401).
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

// call sends one admin API request. path is below adminBase; body (an object) is sent as JSON. It resolves the
// decoded JSON body (null for 204), or the Response itself when raw is set; it rejects with an ApiError. A 401
// also tells the onUnauthorized listeners, unless keyCheck is set (the key screen answers it itself).
export async function call(method, path, body, { raw = false, signal, keyCheck = false } = {}) {
  const headers = { Authorization: `ApiKey ${getKey()}` };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(adminBase + path, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The issuer did not answer. Is it running, and is this page served by it?');
  }
  if (res.status === 401) {
    const err = new ApiError(401, await describeFailure(res));
    if (!keyCheck) for (const fn of unauthorizedListeners) fn(err);
    throw err;
  }
  if (!res.ok) throw new ApiError(res.status, await describeFailure(res));
  if (raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (_) {
    throw new ApiError(res.status, 'The issuer answered something that is not JSON.');
  }
}

// describeFailure is the error text of a failed answer: the admin API's errorDescription, API Gateway's
// message, or the HTTP status.
async function describeFailure(res) {
  let data = null;
  try {
    data = JSON.parse(await res.text());
  } catch (_) {
    // not JSON
  }
  if (data && typeof data.errorDescription === 'string' && data.errorDescription) return data.errorDescription;
  if (data && typeof data.error_description === 'string' && data.error_description) return data.error_description;
  if (res.status === 404 || res.status === 403) return `Not found (HTTP ${res.status}).`;
  if (data && typeof data.message === 'string' && data.message) return `${data.message} (HTTP ${res.status}).`;
  return `The issuer answered HTTP ${res.status}.`;
}

// query builds a query string from the non-empty values of params.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// segment escapes an id for a path segment.
export function segment(id) {
  return encodeURIComponent(id);
}
