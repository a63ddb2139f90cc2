// Runs a dynamic credential request as a wallet with the OpenWallet Foundation's libraries: @openid4vc/openid4vci
// and @openid4vc/oauth2 take the offer through the authorization code grant (PAR with PKCE, the offer's
// issuer_state), and when the authorization endpoint answers with an OpenID4VP request, @openid4vc/openid4vp
// parses and resolves it (client identifier prefix, signed request object checked with its x5c when there is one,
// dcql_query or presentation_definition, transaction_data), the holder presents the credentials it was given with
// @sd-jwt/sd-jwt-vc (the disclosures the query asks for, a key binding JWT over the request's nonce, client_id
// and, when the request carries transaction data, transaction_data_hashes), and @openid4vc/openid4vp builds the
// authorization response (encrypted to client_metadata.jwks with jose for direct_post.jwt) and posts it to the
// response_uri. The issuer's answer names the redirect_uri with the code (or the error), which the OID4VCI library
// verifies; the code is redeemed and the credential asked for.
// Input on stdin:
//   {"offerUri": "...", "holderPrivateJwk": {...}, "present": [{"queryId": "...", "sdjwt": "..."}]}
// Output on stdout: {"request": {resolved request parameters}, "clientIdPrefix", "responseMode", "vpToken",
//   "answer": {the response_uri's JSON answer}, "authorizationResponse", "error", "errorDescription",
//   "credentials": [...]}. A refused presentation is not a failure of the script: error and errorDescription say
//   what the issuer answered. Exit 1 on any other failure.
'use strict';
const crypto = require('crypto');
const jose = require('jose');
const { importPackage, loadLibraries, baseCallbacks, signES256, retrieveCredential } = require('./oid4vc_lib.cjs');
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = require('@sd-jwt/crypto-nodejs');

const redirectUri = 'https://wallet.example/cb';
const clientId = 'oid4vc-ts-wallet';

const publicJwk = (key) => {
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  return { kty, crv, x, y };
};

// x509Metadata is what the OpenID4VP library needs to know of a request object's x5c leaf (x509_san_dns).
function x509Metadata(certificate) {
  const cert = new crypto.X509Certificate(Buffer.from(certificate, 'base64'));
  const names = (cert.subjectAltName || '').split(', ');
  return {
    sanDnsNames: names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
    sanUriNames: names.filter((n) => n.startsWith('URI:')).map((n) => n.slice(4)),
  };
}

// verifyJwt verifies a signed request object with the key of its x5c leaf (the library checks the client id
// against the certificate through getX509CertificateMetadata).
async function verifyJwt(signer, { compact }) {
  if (signer.method !== 'x5c') throw new Error(`request object signer ${signer.method}: only x5c is expected`);
  const cert = new crypto.X509Certificate(Buffer.from(signer.x5c[0], 'base64'));
  const [h, p, s] = compact.split('.');
  const verified = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key: cert.publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'));
  return { verified, signerJwk: cert.publicKey.export({ format: 'jwk' }) };
}

// encryptJwe encrypts the authorization response to the verifier's key (direct_post.jwt) with jose.
async function encryptJwe(encryptor, data) {
  const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
  const header = { alg: encryptor.alg, enc: encryptor.enc, kid: encryptor.publicJwk.kid };
  if (encryptor.apu) header.apu = encryptor.apu;
  if (encryptor.apv) header.apv = encryptor.apv;
  const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader(header).encrypt(key);
  return { jwe, encryptionJwk: encryptor.publicJwk };
}

// disclosureFrame discloses the top-level claims a DCQL credential query names (all of them without claims).
function presentationFrame(query, queryId) {
  const cq = query && (query.credentials || []).find((c) => c.id === queryId);
  if (!cq || !cq.claims) return undefined;
  const frame = {};
  for (const c of cq.claims) frame[c.path[0]] = true;
  return frame;
}

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const { vci, oauth2 } = await loadLibraries();
  const vp = await importPackage('@openid4vc/openid4vp', 'dist/index.mjs');

  const holder = crypto.createPrivateKey({ key: input.holderPrivateJwk, format: 'jwk' });
  const holderJwk = publicJwk(crypto.createPublicKey(holder));
  const callbacks = {
    ...baseCallbacks(),
    signJwt: async (signer, { header, payload }) => {
      if (signer.method !== 'jwk' || signer.publicJwk.x !== holderJwk.x) throw new Error(`unexpected signer ${signer.method}`);
      return { jwt: signES256(holder, header, payload), signerJwk: signer.publicJwk };
    },
    verifyJwt,
    encryptJwe,
    getX509CertificateMetadata: x509Metadata,
  };
  callbacks.clientAuthentication = oauth2.clientAuthenticationNone({ clientId });
  const client = new vci.Openid4vciClient({ callbacks });
  const out = {};

  const offer = await client.resolveCredentialOffer(input.offerUri);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const as = issuerMetadata.authorizationServers[0];
  const configurationId = offer.credential_configuration_ids[0];
  const scope = vci.extractScopesForCredentialConfigurationIds({ credentialConfigurationIds: [configurationId], issuerMetadata })?.join(' ');
  const auth = await client.initiateAuthorization({ credentialOffer: offer, issuerMetadata, clientId, redirectUri, scope });
  if (auth.authorizationFlow !== vci.AuthorizationFlow.Oauth2Redirect) throw new Error(`flow ${auth.authorizationFlow}`);

  // The authorization endpoint sends the wallet an OpenID4VP request at its redirect_uri.
  const authorized = await fetch(new URL(auth.authorizationRequestUrl), { redirect: 'manual' });
  if (authorized.status !== 302) throw new Error(`authorization endpoint answered ${authorized.status}: ${await authorized.text()}`);
  const location = authorized.headers.get('location');

  const vpClient = new vp.Openid4vpClient({ callbacks });
  const parsed = vpClient.parseOpenid4vpAuthorizationRequest({ authorizationRequest: location });
  const resolved = await vpClient.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  const request = resolved.authorizationRequestPayload;
  out.request = request;
  out.clientIdPrefix = resolved.client.prefix;
  out.effectiveClientId = resolved.client.effective;
  out.signed = Boolean(resolved.jar);
  out.responseMode = request.response_mode;

  // The holder's presentations: the disclosures asked for, a KB-JWT over this request.
  const sdjwt = new SDJwtVcInstance({
    kbSigner: await ES256.getSigner(input.holderPrivateJwk), kbSignAlg: ES256.alg,
    hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt,
  });
  const query = resolved.dcql ? resolved.dcql.query : undefined;
  const vpToken = {};
  const pexTokens = [];
  for (const p of input.present) {
    const kb = { aud: resolved.client.effective, nonce: request.nonce, iat: Math.floor(Date.now() / 1000) };
    const td = (resolved.transactionData || []).filter((t) => t.transactionData.credential_ids.includes(p.queryId));
    if (td.length > 0) {
      kb.transaction_data_hashes = td.map((t) => crypto.createHash('sha256').update(t.encoded).digest('base64url'));
      kb.transaction_data_hashes_alg = 'sha-256';
    }
    const presented = await sdjwt.present(p.sdjwt, presentationFrame(query, p.queryId), { kb: { payload: kb } });
    (vpToken[p.queryId] = vpToken[p.queryId] || []).push(presented);
    pexTokens.push({ id: p.queryId, presented });
  }
  let responsePayload = { vp_token: vpToken };
  if (!query) {
    const definition = resolved.pex.presentation_definition;
    responsePayload = {
      vp_token: pexTokens.length === 1 ? pexTokens[0].presented : pexTokens.map((t) => t.presented),
      presentation_submission: { id: crypto.randomUUID(), definition_id: definition.id,
        descriptor_map: pexTokens.map((t, i) => ({ id: t.id, format: 'vc+sd-jwt', path: pexTokens.length === 1 ? '$' : `$[${i}]` })) },
    };
  }
  out.vpToken = responsePayload.vp_token;
  const jarm = request.response_mode === 'direct_post.jwt'
    ? { encryption: { nonce: crypto.randomBytes(16).toString('base64url') }, serverMetadata: { authorization_signing_alg_values_supported: [],
      authorization_encryption_alg_values_supported: ['ECDH-ES'], authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'] } }
    : undefined;
  const response = await vpClient.createOpenid4vpAuthorizationResponse({ authorizationRequestPayload: request,
    authorizationResponsePayload: responsePayload, jarm });
  const submitted = await vpClient.submitOpenid4vpAuthorizationResponse({ authorizationRequestPayload: request,
    authorizationResponsePayload: response.authorizationResponsePayload, jarm: response.jarm });
  const answerText = await submitted.response.text();
  if (submitted.response.status !== 200) throw new Error(`response_uri answered ${submitted.response.status}: ${answerText}`);
  out.answer = JSON.parse(answerText);

  // The issuer's answer sends the user agent to the OID4VCI wallet's redirect_uri with the code or the error.
  const back = new URL(out.answer.redirect_uri);
  if (back.searchParams.get('error')) {
    out.error = back.searchParams.get('error');
    out.errorDescription = back.searchParams.get('error_description');
    out.iss = back.searchParams.get('iss');
    process.stdout.write(JSON.stringify(out));
    return;
  }
  const authorizationResponse = client.parseAndVerifyAuthorizationResponseRedirectUrl({ url: out.answer.redirect_uri,
    authorizationServerMetadata: as });
  out.authorizationResponse = authorizationResponse;
  const token = await client.retrieveAuthorizationCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata,
    authorizationCode: authorizationResponse.code, pkceCodeVerifier: auth.pkce.codeVerifier, redirectUri });
  out.tokenResponse = token.accessTokenResponse;

  const signer = { method: 'jwk', alg: 'ES256', publicJwk: holderJwk };
  Object.assign(out, await retrieveCredential(client, issuerMetadata, configurationId, token, signer));
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`dynamic credential request wallet flow failed: ${err && (err.stack || err.message)}\n`);
  process.exit(1);
});
