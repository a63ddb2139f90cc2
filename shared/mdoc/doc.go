// Package mdoc issues and verifies ISO/IEC 18013-5 mobile documents in the form OID4VCI 1.0 (appendix A.2,
// `mso_mdoc`) delivers them: the CBOR `IssuerSigned` structure, base64url-encoded.
//
// Issuance turns a document type and its data elements, grouped by namespace, into IssuerSignedItems (each with
// its own random salt of RandomBytes bytes and a digest ID that says nothing of the element's position), a mobile
// security object (MSO: the items' SHA-256 digests, the holder's device key as a COSE_Key, the validity and,
// where revocation is supported, the Token Status List reference) and the MSO's COSE_Sign1 (`IssuerAuth`, alg
// ES256 in the protected header, the document signer certificate chain as `x5chain` in the unprotected header).
//
// CBOR comes from github.com/fxamacker/cbor/v2 in RFC 8949 core deterministic encoding (for the text and small
// integer keys an mdoc holds this is also the length-first "canonical" order of RFC 7049 that 18013-5 examples
// use); COSE comes from github.com/veraison/go-cose, which signs through a crypto.Signer, so the KMS key signs
// mdocs through the same adapter as every other issuer signature (shared/keys).
//
// Verification (Verify) parses untrusted input with the same libraries under explicit limits, checks the
// signature with the leaf certificate of `x5chain`, the certificate against the caller's trust, every digest and
// the validity; the e2e and unit tests use it, and the interoperability tests check the same documents with
// independent TypeScript implementations.
//
// The package does no I/O. Errors never carry element values, salts or keys.
package mdoc
