// jwtvc_verify.cjs: an independent JOSE implementation (jose) checks a jwt_vc_json credential of ours, and reads
// it as a VC Data Model 1.1 JWT (section 6.3.1) and as an OID4VCI holder-bound credential.
// stdin: {"jwt": "...", "jwks": {"keys": [...]}, "now": <unix seconds>, "holderJwk": {...}}
// stdout: {"header", "payload", "problems": ["..."]}; exit 1 when jose refuses the JWT (signature, typ, alg,
// nbf, exp).
'use strict';
const jose = require('jose');

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const keys = jose.createLocalJWKSet(input.jwks);
  const { payload, protectedHeader } = await jose.jwtVerify(input.jwt, keys, {
    algorithms: ['ES256'], typ: 'JWT', currentDate: new Date(input.now * 1000), requiredClaims: ['iss', 'nbf', 'jti', 'vc'],
  });
  const problems = [];
  const vc = payload.vc || {};
  const ctx = vc['@context'] || [];
  if (ctx[0] !== 'https://www.w3.org/2018/credentials/v1') problems.push('vc.@context does not start with the VCDM 1.1 context');
  if (!Array.isArray(vc.type) || !vc.type.includes('VerifiableCredential')) problems.push('vc.type lacks VerifiableCredential');
  if (payload.iss !== vc.issuer) problems.push('iss is not vc.issuer');
  if (payload.jti !== vc.id) problems.push('jti is not vc.id');
  if (new Date(vc.issuanceDate).getTime() !== payload.nbf * 1000) problems.push('nbf is not vc.issuanceDate');
  if (payload.exp !== undefined && new Date(vc.expirationDate).getTime() !== payload.exp * 1000) problems.push('exp is not vc.expirationDate');
  const subject = vc.credentialSubject || {};
  if (payload.sub !== subject.id) problems.push('sub is not credentialSubject.id');
  if (input.holderJwk) {
    const want = await jose.calculateJwkThumbprint(input.holderJwk);
    if (!payload.cnf || !payload.cnf.jwk || (await jose.calculateJwkThumbprint(payload.cnf.jwk)) !== want) {
      problems.push('cnf.jwk is not the holder key');
    }
    const did = String(payload.sub || '');
    if (!did.startsWith('did:jwk:')) {
      problems.push('sub is not a did:jwk');
    } else {
      const resolved = JSON.parse(Buffer.from(did.slice('did:jwk:'.length), 'base64url').toString('utf8'));
      if ((await jose.calculateJwkThumbprint(resolved)) !== want) problems.push('did:jwk does not resolve to the holder key');
    }
  }
  if (payload.status) {
    const ref = payload.status.status_list || {};
    const cs = vc.credentialStatus || {};
    if (cs.id !== `${ref.uri}#${ref.idx}` || !cs.type) problems.push('credentialStatus does not name the status entry');
  }
  process.stdout.write(JSON.stringify({ header: protectedHeader, payload, problems }));
}

main().catch((err) => {
  process.stderr.write(`jwt vc verify failed: ${err && (err.code || '')} ${err && err.message}\n`);
  process.exit(1);
});
