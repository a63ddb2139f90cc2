// Verifies an SD-JWT VC (and, when keyBindingNonce is given, its key binding JWT) with the
// OpenWallet Foundation's @sd-jwt/sd-jwt-vc. Input on stdin:
//   {"sdjwt": "...", "issuerJwk": {...}, "now": <unix seconds>, "keyBindingNonce": "..."?}
// Output on stdout: {"payload": {...}, "header": {...}, "kb": {...}|null}. Exit 1 on failure.
'use strict';
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest } = require('@sd-jwt/crypto-nodejs');

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const verifier = await ES256.getVerifier(input.issuerJwk);
  const kbVerifier = async (data, sig, payload) => {
    const v = await ES256.getVerifier(payload.cnf.jwk);
    return v(data, sig);
  };
  const sdjwt = new SDJwtVcInstance({ verifier, kbVerifier, hasher: digest, hashAlg: 'sha-256' });
  const options = { currentDate: input.now };
  if (input.keyBindingNonce) {
    options.keyBindingNonce = input.keyBindingNonce;
  }
  if (input.requiredClaimKeys) {
    options.requiredClaimKeys = input.requiredClaimKeys;
  }
  const result = await sdjwt.verify(input.sdjwt, options);
  process.stdout.write(JSON.stringify({ payload: result.payload, header: result.header, kb: result.kb || null }));
}

main().catch((err) => {
  process.stderr.write(`verify failed: ${err && err.message}\n`);
  process.exit(1);
});
