// mdoc_verify.cjs: an independent mdoc verifier (@animo-id/mdoc) checks an mso_mdoc credential of ours, as a
// wallet receives it and as a verifier later sees it.
// stdin: {"credential": "<base64url IssuerSigned>", "docType": "...", "trustedCertificate": "<base64 DER>",
//         "devicePrivateJwk": {...}, "now": <unix ms>}
// stdout: {"checks": [{"category","check","status","reason"}], "docType", "nameSpaces": {ns: {id: value}},
//          "mso": {"version","digestAlgorithm","validityInfo","status","deviceKey"}}
// It parses the IssuerSigned structure (parseIssuerSigned), verifies the issuer signature, certificate and
// validity (verifyIssuerSignature) and every digest (verifyData); then it plays the holder: builds a
// DeviceResponse disclosing every element, signed with the device key, and verifies that whole response
// (verifyDeviceResponse), which checks the device signature against the MSO's deviceKeyInfo. Every check the
// library makes is reported, PASSED or FAILED; the Go test decides. The crypto primitives it asks of its
// caller come from Node's WebCrypto and @peculiar/x509.
'use strict';
const { webcrypto } = require('node:crypto');
const x509 = require('@peculiar/x509');
const {
  parseIssuerSigned, Verifier, MDoc, DeviceResponse,
} = require('@animo-id/mdoc');

const subtle = webcrypto.subtle;
x509.cryptoProvider.set(webcrypto);

const ES256 = { name: 'ECDSA', namedCurve: 'P-256' };
const SHA256 = { name: 'ECDSA', hash: { name: 'SHA-256' } };

async function publicJwkOf(certificateBytes) {
  const cert = new x509.X509Certificate(certificateBytes);
  const key = await cert.publicKey.export({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify']);
  return subtle.exportKey('jwk', key);
}

// The certificate chain is trusted when each certificate is within its validity and signed by the next, and the
// last one is a trusted certificate or signed by one.
async function validateChain({ trustedCertificates, x5chain }) {
  const chain = x5chain.map((c) => new x509.X509Certificate(c));
  const trusted = trustedCertificates.map((c) => new x509.X509Certificate(c));
  const now = new Date();
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i];
    if (now < cert.notBefore || now > cert.notAfter) throw new Error(`x5chain[${i}] outside its validity`);
    if (i + 1 < chain.length && !(await cert.verify({ publicKey: chain[i + 1].publicKey, signatureOnly: true }))) {
      throw new Error(`x5chain[${i}] is not signed by x5chain[${i + 1}]`);
    }
  }
  const last = chain[chain.length - 1];
  for (const t of trusted) {
    if (last.equal(t)) return;
    if (await last.verify({ publicKey: t.publicKey, signatureOnly: true })) return;
  }
  throw new Error('x5chain does not lead to a trusted certificate');
}

const context = {
  crypto: {
    random: (n) => webcrypto.getRandomValues(new Uint8Array(n)),
    digest: async ({ digestAlgorithm, bytes }) => new Uint8Array(await subtle.digest(digestAlgorithm, bytes)),
    calculateEphemeralMacKeyJwk: async () => { throw new Error('MAC device authentication is not used here'); },
  },
  cose: {
    sign1: {
      sign: async ({ sign1, jwk }) => {
        const { data } = sign1.getRawSigningData();
        const key = await subtle.importKey('jwk', jwk, ES256, false, ['sign']);
        return new Uint8Array(await subtle.sign(SHA256, key, data));
      },
      verify: async ({ sign1, jwk, options }) => {
        const { data, signature } = sign1.getRawVerificationData(options);
        const { d, ...pub } = jwk;
        const key = await subtle.importKey('jwk', pub, ES256, false, ['verify']);
        return subtle.verify(SHA256, key, signature, data);
      },
    },
    mac0: {
      sign: async () => { throw new Error('MAC is not used here'); },
      verify: async () => { throw new Error('MAC is not used here'); },
    },
  },
  x509: {
    getIssuerNameField: ({ certificate, field }) => new x509.X509Certificate(certificate).issuerName.getField(field),
    getPublicKey: async ({ certificate }) => publicJwkOf(certificate),
    validateCertificateChain: validateChain,
    getCertificateData: async ({ certificate }) => {
      const cert = new x509.X509Certificate(certificate);
      const thumbprint = Buffer.from(await cert.getThumbprint('SHA-256', webcrypto)).toString('hex');
      return {
        issuerName: cert.issuerName.toString(),
        subjectName: cert.subjectName.toString(),
        pem: cert.toString('pem'),
        serialNumber: cert.serialNumber,
        thumbprint,
        notBefore: cert.notBefore,
        notAfter: cert.notAfter,
      };
    },
  },
};

// plain turns what the CBOR library decoded into JSON: maps to objects, bytes to {"bytes": base64url}, dates to
// {"date": ISO string} (full-date values keep their day), tagged values to {"tag", "value"}.
function plain(v) {
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, e]) => [String(k), plain(e)]));
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('base64url') };
  if (v instanceof Date) return { date: v.toISOString() };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    if (v.constructor && v.constructor.name === 'DateOnly') return { fullDate: v.toISOString().slice(0, 10) };
    if ('tag' in v && 'value' in v) return { tag: v.tag, value: plain(v.value) };
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, plain(e)]));
  }
  if (typeof v === 'bigint') return Number(v);
  return v;
}

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const issuerSigned = new Uint8Array(Buffer.from(input.credential, 'base64url'));
  const trusted = new Uint8Array(Buffer.from(input.trustedCertificate, 'base64'));
  const now = new Date(input.now);
  const checks = [];
  const onCheck = (c) => checks.push({ category: c.category, check: c.check, status: c.status, reason: c.reason || '' });

  const document = parseIssuerSigned(issuerSigned, input.docType);
  const verifier = new Verifier();
  await verifier.verifyIssuerSignature({
    trustedCertificates: [trusted], issuerAuth: document.issuerSigned.issuerAuth, now,
    disableCertificateChainValidation: false, onCheckG: onCheck,
  }, context);
  await verifier.verifyData({ mdoc: document, onCheckG: onCheck }, context);

  // The holder presents every element it holds, signing with the device key the MSO names.
  const fields = [];
  for (const ns of document.issuerSignedNameSpaces) {
    for (const id of document.getIssuerNameSpace(ns).keys()) fields.push({ path: [`$['${ns}']['${id}']`], intent_to_retain: false });
  }
  const pd = { id: 'all', input_descriptors: [{ id: input.docType, format: { mso_mdoc: { alg: ['ES256'] } }, constraints: { limit_disclosure: 'required', fields } }] };
  const transcript = { mdocGeneratedNonce: 'mdoc-nonce', clientId: 'verifier.example', responseUri: 'https://verifier.example/response', verifierGeneratedNonce: 'verifier-nonce' };
  const response = await DeviceResponse.from(new MDoc([document]))
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptForOID4VP(transcript)
    .authenticateWithSignature(input.devicePrivateJwk, 'ES256')
    .sign(context);
  const presented = await verifier.verifyDeviceResponse({
    encodedDeviceResponse: response.encode(),
    encodedSessionTranscript: await DeviceResponse.calculateSessionTranscriptBytesForOID4VP({ context, ...transcript }),
    trustedCertificates: [trusted], now, onCheck,
  }, context);

  const nameSpaces = {};
  for (const ns of presented.documents[0].issuerSignedNameSpaces) {
    nameSpaces[ns] = plain(presented.documents[0].getIssuerNameSpace(ns));
  }
  const mso = document.issuerSigned.issuerAuth.decodedPayload;
  process.stdout.write(JSON.stringify({
    checks,
    docType: presented.documents[0].docType,
    nameSpaces,
    mso: plain({
      version: mso.version,
      digestAlgorithm: mso.digestAlgorithm,
      validityInfo: mso.validityInfo,
      status: mso.status,
      deviceKey: mso.deviceKeyInfo && mso.deviceKeyInfo.deviceKey,
    }),
  }));
}

main().catch((err) => {
  process.stderr.write(`mdoc verify failed: ${err && err.stack}\n`);
  process.exit(1);
});
