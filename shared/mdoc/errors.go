package mdoc

import "errors"

// Sentinel errors, checked with errors.Is. Returned errors wrap them with context that names namespaces, element
// identifiers and positions but never values.
var (
	// ErrInvalidDocument reports issuer input that cannot be issued (doctype, namespaces, element values, keys,
	// validity).
	ErrInvalidDocument = errors.New("invalid mdoc")
	// ErrSignature reports a signature that could not be made, or does not verify.
	ErrSignature = errors.New("invalid mdoc signature")
	// ErrMalformed reports an IssuerSigned structure that does not parse as ISO 18013-5 says it must.
	ErrMalformed = errors.New("malformed mdoc")
	// ErrUntrusted reports a document signer certificate the verifier does not trust.
	ErrUntrusted = errors.New("untrusted mdoc document signer")
	// ErrDigest reports an IssuerSignedItem whose digest is not the one the MSO signs.
	ErrDigest = errors.New("mdoc digest mismatch")
	// ErrValidity reports a document outside its validity period (or whose validity is inconsistent).
	ErrValidity = errors.New("mdoc not valid at this time")
)
