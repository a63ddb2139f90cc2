// What the wallet scripts driving the OpenWallet Foundation's oid4vc-ts libraries share: loading the pinned ESM
// packages, base64url, and the callbacks the libraries need besides signing.
'use strict';
const crypto = require('crypto');
const path = require('path');
const { pathToFileURL } = require('url');

// ESM packages ignore NODE_PATH, so they are imported by file URL from the NODE_PATH directory.
function importPackage(name, file) {
  const base = (process.env.NODE_PATH || '').split(path.delimiter)[0];
  return import(pathToFileURL(path.join(base, name, file)).href);
}

// loadLibraries imports @openid4vc/openid4vci and @openid4vc/oauth2 and lets them talk to the test issuer, which
// listens on http://127.0.0.1.
async function loadLibraries() {
  const vci = await importPackage('@openid4vc/openid4vci', 'dist/index.mjs');
  const oauth2 = await importPackage('@openid4vc/oauth2', 'dist/index.mjs');
  vci.setGlobalConfig({ allowInsecureUrls: true });
  return { vci, oauth2 };
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');

// baseCallbacks are the libraries' fetch, hash and randomness callbacks.
function baseCallbacks() {
  return {
    fetch: (...args) => fetch(...args),
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
    generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
  };
}

// signES256 signs a JWT's header and payload with key (ES256, JOSE signature encoding).
function signES256(key, header, payload) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(sig)}`;
}

module.exports = { importPackage, loadLibraries, b64u, baseCallbacks, signES256 };
