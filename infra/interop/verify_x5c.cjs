// verify_x5c.cjs: the OpenWallet Foundation's @sd-jwt/sd-jwt-vc verifies an SD-JWT VC whose issuer key is found
// only through the x5c header, validated against one trusted root certificate with Node's own X.509 code (no
// JWKS, no /.well-known/jwt-vc-issuer): each certificate issued and signed by the next, the last by the root, all
// within their validity, the intermediates CAs, the root not in x5c (HAIP 1.0), and the leaf naming the
// credential's iss (a URI SAN equal to it, or its host as a DNS or IP SAN). Input on stdin:
//   {"sdjwt": "...", "rootPem": "-----BEGIN CERTIFICATE-----...", "now": <unix seconds>, "typeMetadata": true?}
// With typeMetadata, the library also resolves the vct's type metadata (loadTypeMetadataFormat) through a fetcher
// that checks vct#integrity as SD-JWT VC defines it (W3C SRI: "sha256-" and the base64 digest of the bytes
// served). The library's own fetcher compares the digest in hex (0.19), which no SRI string matches.
// Output: {"payload": {...}, "header": {...}, "chainLength": n, "typeMetadata": {...}|null}. Exit 1 with the
// reason on stderr otherwise.
'use strict';
const crypto = require('crypto');
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest } = require('@sd-jwt/crypto-nodejs');

function b64url(s) {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function checkChain(x5c, root, now) {
  if (!Array.isArray(x5c) || x5c.length === 0) throw new Error('no x5c header');
  const certs = x5c.map((c) => new crypto.X509Certificate(Buffer.from(c, 'base64')));
  const anchors = [...certs.slice(1), root];
  certs.forEach((cert, i) => {
    const issuer = anchors[i];
    if (cert.fingerprint256 === root.fingerprint256) throw new Error('x5c includes the trust anchor');
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new Error(`x5c[${i}] is not issued by the next certificate`);
    if (i > 0 && !cert.ca) throw new Error(`x5c[${i}] is not a CA certificate`);
  });
  for (const cert of [...certs, root]) {
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) throw new Error(`certificate ${cert.subject} is not valid now`);
  }
  return certs[0];
}

function namesIssuer(leaf, iss) {
  const url = new URL(iss);
  const sans = (leaf.subjectAltName || '').split(', ');
  if (sans.includes(`URI:${iss}`)) return true;
  if (/^[0-9.]+$/.test(url.hostname)) return leaf.checkIP(url.hostname) !== undefined;
  return leaf.checkHost(url.hostname, { subject: 'never' }) !== undefined;
}

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const root = new crypto.X509Certificate(input.rootPem);
  const now = new Date(input.now * 1000);
  let chainLength = 0;
  const verifier = async (data, sig) => {
    const [h, p] = data.split('.');
    const header = JSON.parse(b64url(h).toString('utf8'));
    const payload = JSON.parse(b64url(p).toString('utf8'));
    const leaf = checkChain(header.x5c, root, now);
    if (!namesIssuer(leaf, payload.iss)) throw new Error('the leaf certificate does not name iss');
    chainLength = header.x5c.length;
    const jwk = leaf.publicKey.export({ format: 'jwk' });
    return (await ES256.getVerifier(jwk))(data, sig);
  };
  const kbVerifier = async (data, sig, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, sig);
  const vctFetcher = async (uri, integrity) => {
    const response = await fetch(uri, { signal: AbortSignal.timeout(10000) });
    if (!response.ok) throw new Error(`type metadata ${uri}: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (integrity) {
      const [alg, value] = integrity.split('-');
      const got = crypto.createHash(alg).update(bytes).digest('base64');
      if (alg !== 'sha256' || got !== value) throw new Error(`vct#integrity does not match the type metadata at ${uri}`);
    }
    return JSON.parse(bytes.toString('utf8'));
  };
  const sdjwt = new SDJwtVcInstance({ verifier, kbVerifier, hasher: digest, hashAlg: 'sha-256',
    loadTypeMetadataFormat: !!input.typeMetadata, vctFetcher });
  const result = await sdjwt.verify(input.sdjwt, { currentDate: input.now });
  process.stdout.write(JSON.stringify({ payload: result.payload, header: result.header, chainLength,
    typeMetadata: result.typeMetadata ? result.typeMetadata.mergedTypeMetadata : null }));
}

main().catch((err) => {
  process.stderr.write(`verify_x5c failed: ${err && err.message}\n`);
  process.exit(1);
});
