// statuslist_read.cjs: an independent relying party reads our status list token.
// stdin: {"token": "<jwt>", "jwk": {public JWK}, "indexes": [n, ...]}
// stdout: {"signatureValid", "header", "payload", "length", "statuses": [n, ...]}
// The signature is checked with @sd-jwt/crypto-nodejs (WebCrypto ES256), the list read with
// @sd-jwt/jwt-status-list's getListFromStatusListJWT (pako inflate, its own bit order).
'use strict';
const { getListFromStatusListJWT } = require('@sd-jwt/jwt-status-list');
const { ES256 } = require('@sd-jwt/crypto-nodejs');

function b64urlJSON(s) {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const [h, p, sig] = input.token.split('.');
  const verify = await ES256.getVerifier(input.jwk);
  const signatureValid = await verify(`${h}.${p}`, sig);
  const list = getListFromStatusListJWT(input.token);
  const statuses = input.indexes.map((i) => list.getStatus(i));
  process.stdout.write(JSON.stringify({
    signatureValid,
    header: b64urlJSON(h),
    payload: b64urlJSON(p),
    length: list.statusList.length,
    bits: list.getBitsPerStatus(),
    statuses,
  }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
