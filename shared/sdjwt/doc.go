// Package sdjwt issues and verifies SD-JWT (RFC 9901) credentials in the SD-JWT VC profile
// (draft-ietf-oauth-sd-jwt-vc).
//
// Issuance turns a claim tree and a disclosure policy (claim paths as the admin API defines them)
// into an issuer-signed JWT plus disclosures, serialised as JWT~D1~...~Dn~. Signing goes through
// jwx/v2 with a crypto.Signer, so the same code signs with AWS KMS and with a local key.
// Verification parses the compact serialisation strictly, checks the signature, recomputes every
// digest and reconstructs the claims; it also verifies key binding JWTs.
//
// The package does no I/O. Errors never carry claim values, salts, keys or tokens.
package sdjwt
