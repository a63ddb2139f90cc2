// Package jwtvc issues and verifies W3C Verifiable Credentials secured as JWTs, the OID4VCI 1.0 `jwt_vc_json`
// format (appendix A.1.1: "VC signed as a JWT, not using JSON-LD").
//
// Which data model: OID4VCI 1.0 defines `jwt_vc_json` against VC Data Model 1.1 (its [VC_DATA] reference is the
// 2022 Recommendation) and shows a 1.1 credential in its example; VC Data Model 2.0 secures credentials as
// `vc+jwt` (VC-JOSE-COSE) without the `vc` claim and is a different format. So this package writes the VCDM 1.1
// JWT encoding (section 6.3.1): the credential in the `vc` claim (`@context` ["https://www.w3.org/2018/
// credentials/v1"], `type`, `id`, `issuer`, `issuanceDate`, `expirationDate`, `credentialSubject`,
// `credentialStatus`) and the registered claims that represent it: `iss` (issuer), `jti` (id), `sub`
// (credentialSubject.id), `nbf` (issuanceDate), `exp` (expirationDate), plus `iat`.
//
// Holder binding: the credential is bound to the key of the wallet's proof twice over: `cnf.jwk` (RFC 7800, what
// OID4VCI and JWT verifiers look for) and `sub` = `credentialSubject.id` = the key's `did:jwk` (what a VCDM
// verifier that resolves DIDs looks for; did:jwk resolves offline to the same key).
//
// Status: the JWT carries the IETF Token Status List reference as its `status` claim (draft-ietf-oauth-status-list,
// "Referenced Token in JOSE"), which Token Status List verifiers read, and `vc.credentialStatus` names the same
// entry for VCDM readers: `{"id": "<uri>#<idx>", "type": "TokenStatusList", "status_list": {"idx", "uri"}}`
// (VCDM 1.1 requires `id` and `type`; no W3C-registered type exists for the IETF mechanism, so the type names it
// and the member repeats the IETF structure verbatim).
//
// Signing goes through the issuer's one JWS path, keys.SignJWS (jws.Sign with the KMS or local key as a
// crypto.Signer), one signature per credential. The package does no I/O; errors never carry claim values or keys.
package jwtvc
