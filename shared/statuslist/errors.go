package statuslist

import "errors"

// Sentinel errors, checked with errors.Is. Messages never carry claim values, keys or tokens.
var (
	// ErrInvalidBits reports a bit size other than 1, 2, 4 or 8.
	ErrInvalidBits = errors.New("status list bits must be 1, 2, 4 or 8")
	// ErrIndexOutOfRange reports an index outside the list.
	ErrIndexOutOfRange = errors.New("status list index out of range")
	// ErrStatusOutOfRange reports a status value that does not fit in the list's bits.
	ErrStatusOutOfRange = errors.New("status value does not fit in the list's bits")
	// ErrInvalidSize reports a list size that is negative, zero or too large.
	ErrInvalidSize = errors.New("invalid status list size")
	// ErrMalformedList reports an `lst` value that is not base64url-encoded ZLIB data.
	ErrMalformedList = errors.New("malformed status list")
	// ErrListTooLarge reports a list whose decompressed size exceeds the decoder's bound (a possible zip bomb).
	ErrListTooLarge = errors.New("decompressed status list exceeds the size bound")
	// ErrUnknownRevocationStatus reports a revocationStatus other than Operational, Revoked or Suspended.
	ErrUnknownRevocationStatus = errors.New("unknown revocation status")
	// ErrRevokedIsFinal reports an attempt to change the status of a revoked credential.
	ErrRevokedIsFinal = errors.New("a revoked credential cannot change status")
	// ErrInvalidToken reports a status list token that fails verification (signature, header or claims).
	ErrInvalidToken = errors.New("invalid status list token")
	// ErrInvalidReference reports a `status` claim without a valid status_list reference.
	ErrInvalidReference = errors.New("invalid status list reference")
	// ErrInvalidListID reports a malformed status list identifier.
	ErrInvalidListID = errors.New("invalid status list id")
	// ErrInvalidLayout reports a shard layout that cannot work (no shards, capacity not a power of two, ...).
	ErrInvalidLayout = errors.New("invalid status list layout")
)
