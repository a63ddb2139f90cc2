// Issues the reference credential (the same claims and disclosure frame as
// sdjwt.ReferenceCredential) N times with @sd-jwt/sd-jwt-vc and prints microseconds per issuance.
// Usage: node bench_issue.cjs [N]   (input {"payload", "disclosureFrame"} on stdin)
// Output on stdout: {"n": N, "usPerIssuance": <float>}.
'use strict';
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = require('@sd-jwt/crypto-nodejs');

async function main() {
  const n = Number.parseInt(process.argv[2] || '1000', 10);
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const { privateKey } = await ES256.generateKeyPair();
  const signer = await ES256.getSigner(privateKey);
  const sdjwt = new SDJwtVcInstance({
    signer,
    signAlg: ES256.alg,
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
  });
  // Warm up the JIT before measuring.
  for (let i = 0; i < Math.min(100, n); i++) {
    await sdjwt.issue(input.payload, input.disclosureFrame);
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await sdjwt.issue(input.payload, input.disclosureFrame);
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e3;
  process.stdout.write(JSON.stringify({ n, usPerIssuance: elapsed / n }));
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err && err.message}\n`);
  process.exit(1);
});
