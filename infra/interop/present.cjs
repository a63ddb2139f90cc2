// The holder's side in @sd-jwt/sd-jwt-vc: issues an SD-JWT VC under a fresh ES256 key, then presents a selection
// of its disclosures with a key binding JWT signed by the holder's key. Input on stdin:
//   {"payload": {...}, "disclosureFrame": {...}, "presentationFrame": {...},
//    "holderPrivateJwk": {...}, "kb": {"aud": "...", "nonce": "...", "iat": <unix seconds>}}
// Output on stdout: {"sdjwt": "...", "presentation": "...", "issuerJwk": {...public...}}. Exit 1 on failure.
'use strict';
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = require('@sd-jwt/crypto-nodejs');

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const { publicKey, privateKey } = await ES256.generateKeyPair();
  const sdjwt = new SDJwtVcInstance({
    signer: await ES256.getSigner(privateKey),
    signAlg: ES256.alg,
    kbSigner: await ES256.getSigner(input.holderPrivateJwk),
    kbSignAlg: ES256.alg,
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
  });
  const credential = await sdjwt.issue(input.payload, input.disclosureFrame);
  const presentation = await sdjwt.present(credential, input.presentationFrame, { kb: { payload: input.kb } });
  process.stdout.write(JSON.stringify({ sdjwt: credential, presentation, issuerJwk: publicKey }));
}

main().catch((err) => {
  process.stderr.write(`present failed: ${err && err.message}\n`);
  process.exit(1);
});
