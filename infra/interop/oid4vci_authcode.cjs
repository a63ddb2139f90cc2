// Runs the OpenID4VCI authorization code flow as a wallet with the OpenWallet Foundation's libraries
// (@openid4vc/openid4vci and @openid4vc/oauth2, oid4vc-ts): the library pushes the authorization request (PAR,
// with PKCE S256, the offer's issuer_state or, wallet-initiated, the configuration's scope, a DPoP proof and, when
// given, the client attestation), the script answers the issuer's ID token request as an EWC RFC001 / EBSI wallet
// (the signed request object checked against the issuer's published key, an ID token signed by the holder's did:jwk
// posted to the direct_post endpoint), the library verifies the authorization response (iss, state) and redeems the
// code with the PKCE verifier and DPoP at the token endpoint, then asks for the credential.
// Input on stdin:
//   {"offerUri": "..."} or {"issuer": "...", "configurationId": "..."} (wallet-initiated), optional
//   "clientAttestation" and "instanceKey" (the attestation's cnf private JWK), "dpop": true, "holderPrivateJwk"
//   (the P-256 key the credential is bound to and the ID token signed with; a new one without it).
// Output on stdout: {"as": {AS metadata}, "authorizationResponse": {...}, "tokenResponse": {...},
//   "credentials": [...], "transactionId", "holderDid", "idTokenRequest": {...}, "requestObject": {claims}}.
'use strict';
const crypto = require('crypto');
const { loadLibraries, baseCallbacks, signES256, b64u, retrieveCredential } = require('./oid4vc_lib.cjs');

const publicJwk = (key) => {
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  return { kty, crv, x, y };
};
const redirectUri = 'https://wallet.example/cb';
const clientId = 'oid4vc-ts-wallet';

// verifyRequestObject checks the ID token request's signed request object with the issuer's published key and
// returns its claims.
async function verifyRequestObject(jwt, issuer) {
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  if (header.typ !== 'oauth-authz-req+jwt' || header.alg !== 'ES256') throw new Error(`request object header ${JSON.stringify(header)}`);
  const md = await (await fetch(`${issuer}/.well-known/jwt-vc-issuer`)).json();
  const jwk = md.jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error('request object kid is not a published issuer key');
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key: crypto.createPublicKey({ key: jwk, format: 'jwk' }),
    dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('request object signature does not verify');
  return JSON.parse(Buffer.from(p, 'base64url'));
}

async function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const { vci, oauth2 } = await loadLibraries();

  // The holder's key: the given one (so a later run can present the credential), else a new one.
  const holder = input.holderPrivateJwk
    ? ((privateKey) => ({ privateKey, publicKey: crypto.createPublicKey(privateKey) }))(
      crypto.createPrivateKey({ key: input.holderPrivateJwk, format: 'jwk' }))
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dpop = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = new Map([[publicJwk(holder.publicKey).x, holder.privateKey], [publicJwk(dpop.publicKey).x, dpop.privateKey]]);
  if (input.instanceKey) {
    const instance = crypto.createPrivateKey({ key: input.instanceKey, format: 'jwk' });
    keys.set(publicJwk(crypto.createPublicKey(instance)).x, instance);
  }
  const callbacks = {
    ...baseCallbacks(),
    signJwt: async (signer, { header, payload }) => {
      const key = signer.method === 'jwk' && signer.alg === 'ES256' && keys.get(signer.publicJwk.x);
      if (!key) throw new Error(`unexpected signer ${signer.method}/${signer.alg}`);
      return { jwt: signES256(key, header, payload), signerJwk: signer.publicJwk };
    },
  };
  callbacks.clientAuthentication = input.clientAttestation
    ? oauth2.clientAuthenticationClientAttestationJwt({ clientAttestationJwt: input.clientAttestation, callbacks })
    : oauth2.clientAuthenticationNone({ clientId });
  const client = new vci.Openid4vciClient({ callbacks });
  const oauth2Client = new oauth2.Oauth2Client({ callbacks });
  const dpopOptions = input.dpop ? { signer: { method: 'jwk', alg: 'ES256', publicJwk: publicJwk(dpop.publicKey) } } : undefined;
  const out = {};

  let offer;
  let issuer = input.issuer;
  if (input.offerUri) {
    offer = await client.resolveCredentialOffer(input.offerUri);
    issuer = offer.credential_issuer;
  }
  const issuerMetadata = await client.resolveIssuerMetadata(issuer);
  const as = issuerMetadata.authorizationServers[0];
  out.as = as;
  const configurationId = offer ? offer.credential_configuration_ids[0] : input.configurationId;
  const scope = vci.extractScopesForCredentialConfigurationIds({ credentialConfigurationIds: [configurationId], issuerMetadata })?.join(' ');

  // PAR with PKCE (and DPoP, retried by the library on use_dpop_nonce).
  let auth;
  // The library's initiateAuthorization (offers) sends no state (its state option is not passed on); the plain
  // OAuth client (wallet-initiated) does.
  const sentState = offer ? undefined : 'wallet-state';
  if (offer) {
    auth = await client.initiateAuthorization({ credentialOffer: offer, issuerMetadata, clientId, redirectUri, scope,
      dpop: dpopOptions });
    if (auth.authorizationFlow !== vci.AuthorizationFlow.Oauth2Redirect) throw new Error(`flow ${auth.authorizationFlow}`);
  } else {
    auth = await oauth2Client.createAuthorizationRequestUrl({ authorizationServerMetadata: as, clientId, redirectUri,
      scope, state: sentState, resource: issuer, dpop: dpopOptions });
  }
  const authUrl = new URL(auth.authorizationRequestUrl);
  out.authorizationRequest = Object.fromEntries(authUrl.searchParams);

  // The authorization endpoint answers with the ID token request, sent to the wallet's redirect_uri.
  const authorized = await fetch(authUrl, { redirect: 'manual' });
  if (authorized.status !== 302) throw new Error(`authorization endpoint answered ${authorized.status}: ${await authorized.text()}`);
  const idReq = new URL(authorized.headers.get('location'));
  out.idTokenRequest = Object.fromEntries(idReq.searchParams);
  const claims = await verifyRequestObject(idReq.searchParams.get('request'), issuer);
  out.requestObject = claims;

  // The holder's ID token, signed by its did:jwk, posted to the issuer's direct_post endpoint.
  const did = `did:jwk:${b64u(JSON.stringify(publicJwk(holder.publicKey)))}`;
  out.holderDid = did;
  const now = Math.floor(Date.now() / 1000);
  const idToken = signES256(holder.privateKey, { alg: 'ES256', typ: 'JWT', kid: `${did}#0` },
    { iss: did, sub: did, aud: claims.client_id, nonce: claims.nonce, iat: now, exp: now + 300 });
  const posted = await fetch(claims.redirect_uri, { method: 'POST', redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id_token: idToken, state: claims.state }).toString() });
  if (posted.status !== 302) throw new Error(`direct_post answered ${posted.status}: ${await posted.text()}`);

  // The authorization response: iss and state checked by the library.
  const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({ url: posted.headers.get('location'),
    authorizationServerMetadata: as });
  out.authorizationResponse = response;
  if (response.state !== sentState) throw new Error(`state ${response.state}, sent ${sentState}`);

  const tokenOptions = { authorizationCode: response.code, pkceCodeVerifier: auth.pkce.codeVerifier, redirectUri,
    dpop: auth.dpop ?? dpopOptions };
  const token = offer
    ? await client.retrieveAuthorizationCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata, ...tokenOptions })
    : await oauth2Client.retrieveAuthorizationCodeAccessToken({ authorizationServerMetadata: as, resource: issuer, ...tokenOptions });
  out.tokenResponse = token.accessTokenResponse;
  out.code = response.code;
  out.codeVerifier = auth.pkce.codeVerifier;

  const signer = { method: 'jwk', alg: 'ES256', publicJwk: publicJwk(holder.publicKey) };
  Object.assign(out, await retrieveCredential(client, issuerMetadata, configurationId, token, signer));
  out.accessToken = token.accessTokenResponse.access_token;
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`authorization code wallet flow failed: ${err && (err.stack || err.message)}\n`);
  process.exit(1);
});
