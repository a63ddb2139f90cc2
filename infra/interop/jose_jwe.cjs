// jose_jwe.cjs: an independent JOSE implementation (jose) plays the wallet's side of credential request and
// response encryption (OpenID4VCI 1.0 section 10). One operation per run, chosen by "op" on stdin:
//   {"op": "keygen"}                                   -> {"publicJwk": {...}, "privateJwk": {...}}  (P-256, ECDH-ES)
//   {"op": "decrypt", "jwe": "...", "privateJwk": {...}} -> {"header": {...}, "plaintext": "..."}
//   {"op": "encrypt", "plaintext": "...", "jwk": {...}, "enc": "A128GCM", "zip": "DEF"?}
//                                                      -> {"jwe": "..."} (alg = the jwk's alg, kid = its kid)
// Exit 1 with the reason on stderr when jose refuses.
'use strict';
const jose = require('jose');

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  let out;
  switch (input.op) {
    case 'keygen': {
      const { publicKey, privateKey } = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
      out = { publicJwk: await jose.exportJWK(publicKey), privateJwk: await jose.exportJWK(privateKey) };
      break;
    }
    case 'decrypt': {
      const key = await jose.importJWK(input.privateJwk, 'ECDH-ES');
      const { plaintext, protectedHeader } = await jose.compactDecrypt(input.jwe, key, {
        keyManagementAlgorithms: ['ECDH-ES'],
        contentEncryptionAlgorithms: ['A128GCM', 'A256GCM'],
      });
      out = { header: protectedHeader, plaintext: new TextDecoder().decode(plaintext) };
      break;
    }
    case 'encrypt': {
      const alg = input.jwk.alg;
      const key = await jose.importJWK(input.jwk, alg);
      const header = { alg, enc: input.enc };
      if (input.jwk.kid) header.kid = input.jwk.kid;
      if (input.zip) header.zip = input.zip;
      const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(input.plaintext)).setProtectedHeader(header).encrypt(key);
      out = { jwe };
      break;
    }
    default:
      throw new Error(`unknown op ${input.op}`);
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`jose_jwe failed: ${err && err.message}\n`);
  process.exit(1);
});
