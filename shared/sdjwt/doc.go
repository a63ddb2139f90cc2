// Package sdjwt issues and verifies SD-JWT (RFC 9901) credentials in the SD-JWT VC profile
// (draft-ietf-oauth-sd-jwt-vc).
//
// Issuance turns a claim tree and a disclosure policy (claim paths as the admin API defines them)
// into an issuer-signed JWT plus disclosures, serialised as JWT~D1~...~Dn~. The JWT is signed through
// keys.SignJWS (jwx's jws.Sign with the key as a crypto.Signer), so the same code signs with AWS KMS
// and with a local key; JSON is written with encoding/json. Verification reads JSON with the strict
// decoder of go-json-experiment/json (no repeated members), verifies the signature with jwx (ES256 for
// the issuer, an allow-list for key binding JWTs), recomputes every digest and reconstructs the claims.
//
// The package does no I/O. Errors never carry claim values, salts, keys or tokens.
package sdjwt
