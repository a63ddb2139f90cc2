package sdjwt

import "errors"

// Sentinel errors, checked with errors.Is. Returned errors wrap them with context that names
// claims and positions but never values.
var (
	// ErrInvalidPolicy reports a disclosure policy that cannot be applied (bad path, reserved claim).
	ErrInvalidPolicy = errors.New("invalid disclosure policy")
	// ErrInvalidClaims reports issuer input claims that cannot be issued.
	ErrInvalidClaims = errors.New("invalid claims")
	// ErrMalformed reports an SD-JWT, disclosure or JWT that does not parse.
	ErrMalformed = errors.New("malformed sd-jwt")
	// ErrTooLarge reports input beyond the parser's limits.
	ErrTooLarge = errors.New("sd-jwt exceeds limits")
	// ErrSignature reports a signature that does not verify or a key that cannot be used.
	ErrSignature = errors.New("invalid signature")
	// ErrUnexpectedType reports a JWS header typ or alg that is not accepted.
	ErrUnexpectedType = errors.New("unexpected token type")
	// ErrDuplicateDisclosure reports the same disclosure present twice.
	ErrDuplicateDisclosure = errors.New("duplicate disclosure")
	// ErrDuplicateDigest reports a digest that appears more than once in the payload and disclosures.
	ErrDuplicateDigest = errors.New("duplicate digest")
	// ErrUnreferencedDisclosure reports a disclosure whose digest appears nowhere in the payload.
	ErrUnreferencedDisclosure = errors.New("unreferenced disclosure")
	// ErrClaimCollision reports a disclosed claim name that already exists in its object.
	ErrClaimCollision = errors.New("claim name collision")
	// ErrSDMisuse reports a wrong use of _sd, "..." or _sd_alg, or a disclosure of the wrong kind.
	ErrSDMisuse = errors.New("invalid selective disclosure structure")
	// ErrReservedClaim reports a claim that must never be selectively disclosed but was.
	ErrReservedClaim = errors.New("reserved claim selectively disclosed")
	// ErrMissingClaim reports a claim required by SD-JWT VC that is absent or of the wrong type.
	ErrMissingClaim = errors.New("missing or invalid required claim")
	// ErrExpired reports a token whose exp is in the past.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid reports a token whose nbf or iat is in the future.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrKeyBinding reports a missing or invalid key binding JWT.
	ErrKeyBinding = errors.New("invalid key binding")
)
