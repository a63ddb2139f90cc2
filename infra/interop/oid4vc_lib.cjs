// What the wallet scripts driving the OpenWallet Foundation's oid4vc-ts libraries share: loading the pinned ESM
// packages, base64url, the callbacks the libraries need besides signing, and the credential request.
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

// retrieveCredential asks the credential endpoint for configurationId with a fresh nonce and a key proof by
// signer, naming the token's credential identifier when it has one; it returns the credentials (the strings) and
// the transaction_id of a deferred answer.
async function retrieveCredential(client, issuerMetadata, configurationId, token, signer) {
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, signer, nonce, credentialConfigurationId: configurationId });
  const identifier = token.accessTokenResponse.authorization_details?.[0]?.credential_identifiers?.[0];
  const res = await client.retrieveCredentials({ issuerMetadata, accessToken: token.accessTokenResponse.access_token,
    credentialConfigurationId: configurationId, proofs: { jwt: [jwt] }, dpop: token.dpop,
    additionalRequestPayload: identifier ? { credential_identifier: identifier, credential_configuration_id: undefined } : undefined });
  if (!res.ok) throw new Error(`credential endpoint answered ${res.response.status}: ${await res.response.text()}`);
  const body = res.credentialResponse;
  return { credentials: (body.credentials || []).map((c) => (typeof c === 'string' ? c : c.credential)),
    transactionId: body.transaction_id };
}

module.exports = { importPackage, loadLibraries, b64u, baseCallbacks, signES256, retrieveCredential };
