// Runs a whole pre-authorized OpenID4VCI flow with the OpenWallet Foundation's wallet library
// @openid4vc/openid4vci (oid4vc-ts), whose zod schemas decide what a wallet accepts: offer by reference, issuer and
// authorization server metadata, token, nonce, credential (and deferred credential) and notification responses.
// Input on stdin:
//   {"offerUri": "openid-credential-offer://?credential_offer_uri=...", "txCode": "..."?,
//    "deferred": bool, "configurationId": "..."?, "revealHolderKey": bool?}
// Output on stdout: {"draftVersion", "configurationIds", "txCode", "tokenType", "credentials": [...],
//   "holderJwk": {...}, "holderPrivateJwk": {...} (only with revealHolderKey, so that a test can present the
//   credential as this holder), "notified": bool, "deferredUsed": bool, "errors": [{"step", "error"}]}.
// Each negative probe records the OAuth error the library surfaced. Exit 1 on an unexpected failure.
'use strict';
const crypto = require('crypto');
const { loadLibraries, baseCallbacks, signES256 } = require('./oid4vc_lib.cjs');

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const { vci, oauth2 } = await loadLibraries();

  const holder = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const holderJwk = holder.publicKey.export({ format: 'jwk' });

  const callbacks = {
    ...baseCallbacks(),
    clientAuthentication: oauth2.clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      if (signer.method !== 'jwk' || signer.alg !== 'ES256') {
        throw new Error(`unexpected signer ${signer.method}/${signer.alg}`);
      }
      return { jwt: signES256(holder.privateKey, header, payload), signerJwk: signer.publicJwk };
    },
  };
  const client = new vci.Openid4vciClient({ callbacks });
  const out = { errors: [], deferredUsed: false, notified: false };

  const offer = await client.resolveCredentialOffer(input.offerUri);
  out.configurationIds = offer.credential_configuration_ids;
  out.txCode = offer.grants?.[oauth2.preAuthorizedCodeGrantIdentifier]?.tx_code ?? null;
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  out.draftVersion = issuerMetadata.originalDraftVersion;
  const configurationId = input.configurationId || offer.credential_configuration_ids[0];

  // Negative probe: a wrong transaction code must surface as an OAuth error response the library understands.
  if (input.txCode) {
    try {
      await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata, txCode: input.txCode + '0' });
      throw new Error('a wrong tx_code was accepted');
    } catch (err) {
      out.errors.push({ step: 'token-wrong-tx-code', error: err.errorResponse?.error ?? String(err.message) });
    }
  }
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode: input.txCode,
  });
  out.tokenType = accessTokenResponse.token_type;
  const accessToken = accessTokenResponse.access_token;

  const signer = { method: 'jwk', alg: 'ES256', publicJwk: holderJwk };
  // Negative probe: a proof over a nonce the issuer never handed out is invalid_nonce.
  {
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, signer, nonce: 'not-a-nonce', credentialConfigurationId: configurationId });
    try {
      await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: configurationId, proofs: { jwt: [jwt] } });
      throw new Error('a proof with an unknown nonce was accepted');
    } catch (err) {
      out.errors.push({ step: 'credential-bad-nonce', error: err.response?.credentialErrorResponseResult?.data?.error ?? String(err.message) });
    }
  }

  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, signer, nonce, credentialConfigurationId: configurationId });
  const res = await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: configurationId, proofs: { jwt: [jwt] } });
  if (!res.ok) {
    throw new Error(`credential request failed: ${JSON.stringify(res.credentialErrorResponseResult?.data ?? res.response?.status)}`);
  }
  let body = res.credentialResponse;
  if (body.transaction_id) {
    out.deferredUsed = true;
    const deferred = await client.retrieveDeferredCredentials({ issuerMetadata, accessToken, transactionId: body.transaction_id });
    if (!deferred.ok) throw new Error(`deferred credential request failed: ${deferred.response?.status}`);
    body = deferred.deferredCredentialResponse;
  }
  out.credentials = (body.credentials || []).map((c) => (typeof c === 'string' ? c : c.credential));
  if (body.notification_id) {
    await client.sendNotification({ issuerMetadata, accessToken, notification: { notificationId: body.notification_id, event: 'credential_accepted' } });
    out.notified = true;
  }
  out.holderJwk = { kty: holderJwk.kty, crv: holderJwk.crv, x: holderJwk.x, y: holderJwk.y };
  if (input.revealHolderKey) out.holderPrivateJwk = holder.privateKey.export({ format: 'jwk' });
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`wallet flow failed: ${err && (err.stack || err.message)}\n`);
  process.exit(1);
});
