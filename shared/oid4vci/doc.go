// Package oid4vci holds the protocol types and validation of OpenID for Verifiable Credential Issuance: issuer and
// authorization server metadata, credential offers, token, credential, deferred credential and notification requests
// and responses, and key proof JWTs.
//
// OpenID4VCI 1.0 (final) is the shape this package speaks first. Wallets still on draft 13 (and the draft 12 request
// shapes) are served too: every parser records the Dialect the wallet spoke, and the response builders answer in that
// dialect. docs/wallet-compat.md explains each compatibility decision.
//
// The package does no I/O: callers pass the request body, the clock and any store lookups (such as the c_nonce check)
// in, and get typed values or an *Error carrying the exact OAuth error code back.
package oid4vci
