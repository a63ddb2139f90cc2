package mdoc

import (
	"github.com/fxamacker/cbor/v2"
)

// CBOR tags of ISO 18013-5.
const (
	// tagEncodedCBOR wraps a byte string holding encoded CBOR (RFC 8949 section 3.4.5.1): IssuerSignedItemBytes
	// and MobileSecurityObjectBytes.
	tagEncodedCBOR = 24
	// tagDateTime is tdate: an RFC 3339 date-time string.
	tagDateTime = 0
	// tagFullDate is full-date (RFC 8943): "YYYY-MM-DD".
	tagFullDate = 1004
)

// Decoding limits for untrusted input: far above any document this issuer writes, far below what would let a
// crafted one cost real memory.
const (
	maxNestedLevels  = 24
	maxArrayElements = 4096
	maxMapPairs      = 4096
	// MaxEncodedBytes bounds the IssuerSigned structure Verify accepts.
	MaxEncodedBytes = 1 << 20
)

var (
	// encMode is RFC 8949 core deterministic encoding: shortest integers, lengths and floats, definite lengths,
	// map keys (and struct fields) sorted bytewise by their encoding.
	encMode cbor.EncMode
	// decMode refuses duplicate map keys, indefinite lengths, invalid UTF-8 and anything beyond the limits.
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err) // fixed options: fails only if the library rejects them, at start, never on input
	}
	if decMode, err = (cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  maxNestedLevels,
		MaxArrayElements: maxArrayElements,
		MaxMapPairs:      maxMapPairs,
		IntDec:           cbor.IntDecConvertSignedOrFail,
	}).DecMode(); err != nil {
		panic(err)
	}
}
