// Issues an SD-JWT VC with @sd-jwt/sd-jwt-vc under a fresh ES256 key. Input on stdin:
//   {"payload": {...}, "disclosureFrame": {...}}
// Output on stdout: {"sdjwt": "...", "issuerJwk": {...public...}}. Exit 1 on failure.
'use strict';
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = require('@sd-jwt/crypto-nodejs');

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const { publicKey, privateKey } = await ES256.generateKeyPair();
  const signer = await ES256.getSigner(privateKey);
  const sdjwt = new SDJwtVcInstance({
    signer,
    signAlg: ES256.alg,
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
  });
  const credential = await sdjwt.issue(input.payload, input.disclosureFrame);
  process.stdout.write(JSON.stringify({ sdjwt: credential, issuerJwk: publicKey }));
}

main().catch((err) => {
  process.stderr.write(`issue failed: ${err && err.message}\n`);
  process.exit(1);
});
