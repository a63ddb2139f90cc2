// Runs a pre-authorized OpenID4VCI flow as a HAIP wallet with the OpenWallet Foundation's libraries
// (@openid4vc/openid4vci and @openid4vc/oauth2, oid4vc-ts): a DPoP key for sender-constrained tokens, with the
// library's own retry on use_dpop_nonce at the token endpoint (no nonce at first) and at the credential endpoint
// (a stale nonce at first), and OAuth attestation-based client authentication (the library signs the PoP with the
// client instance key over the attestation the test's wallet provider issued).
// Input on stdin:
//   {"offerUri": "...", "clientAttestation": "<JWT>", "instanceKey": {private JWK of the attestation's cnf.jwk}}
// Output on stdout: {"dpopAlgs": [...], "authMethods": [...], "tokenType", "credentials": [...],
//   "holderJwk": {...}, "dpopJwk": {...}, "notified": bool}.
'use strict';
const crypto = require('crypto');
const { loadLibraries, baseCallbacks, signES256 } = require('./oid4vc_lib.cjs');

const publicJwk = (key) => {
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  return { kty, crv, x, y };
};

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const { vci, oauth2 } = await loadLibraries();

  const holder = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dpop = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const instance = crypto.createPrivateKey({ key: input.instanceKey, format: 'jwk' });
  // The private key of each public JWK the library asks to sign with.
  const keys = new Map([
    [publicJwk(holder.publicKey).x, holder.privateKey],
    [publicJwk(dpop.publicKey).x, dpop.privateKey],
    [publicJwk(crypto.createPublicKey(instance)).x, instance],
  ]);
  const callbacks = {
    ...baseCallbacks(),
    signJwt: async (signer, { header, payload }) => {
      const key = signer.method === 'jwk' && signer.alg === 'ES256' && keys.get(signer.publicJwk.x);
      if (!key) throw new Error(`unexpected signer ${signer.method}/${signer.alg}`);
      return { jwt: signES256(key, header, payload), signerJwk: signer.publicJwk };
    },
  };
  callbacks.clientAuthentication = oauth2.clientAuthenticationClientAttestationJwt({
    clientAttestationJwt: input.clientAttestation, callbacks,
  });
  const client = new vci.Openid4vciClient({ callbacks });
  const out = { notified: false };

  const offer = await client.resolveCredentialOffer(input.offerUri);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const as = issuerMetadata.authorizationServers[0];
  out.dpopAlgs = as.dpop_signing_alg_values_supported;
  out.authMethods = as.token_endpoint_auth_methods_supported;
  const configurationId = offer.credential_configuration_ids[0];

  const dpopSigner = { method: 'jwk', alg: 'ES256', publicJwk: publicJwk(dpop.publicKey) };
  // No nonce at first: the library retries on the issuer's use_dpop_nonce with its DPoP-Nonce.
  const token = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, dpop: { signer: dpopSigner },
  });
  out.tokenType = token.accessTokenResponse.token_type;
  const accessToken = token.accessTokenResponse.access_token;

  const signer = { method: 'jwk', alg: 'ES256', publicJwk: publicJwk(holder.publicKey) };
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, signer, nonce, credentialConfigurationId: configurationId });
  // A stale DPoP nonce: the resource server answers WWW-Authenticate DPoP error="use_dpop_nonce", which the library
  // retries with the fresh DPoP-Nonce.
  const res = await client.retrieveCredentials({
    issuerMetadata, accessToken, credentialConfigurationId: configurationId, proofs: { jwt: [jwt] },
    dpop: { signer: dpopSigner, nonce: 'stale-nonce' },
  });
  const body = res.credentialResponse;
  out.credentials = (body.credentials || []).map((c) => (typeof c === 'string' ? c : c.credential));
  if (body.notification_id) {
    await client.sendNotification({
      issuerMetadata, accessToken, notification: { notificationId: body.notification_id, event: 'credential_accepted' },
      dpop: { signer: dpopSigner, nonce: res.dpop?.nonce ?? token.dpop?.nonce },
    });
    out.notified = true;
  }
  out.holderJwk = publicJwk(holder.publicKey);
  out.dpopJwk = publicJwk(dpop.publicKey);
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`HAIP wallet flow failed: ${err && (err.stack || err.message)}\n`);
  process.exit(1);
});
