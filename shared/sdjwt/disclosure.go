package sdjwt

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// SDAlg is the only digest algorithm this package issues and accepts (_sd_alg).
const SDAlg = "sha-256"

// Names with a meaning in the SD-JWT structure itself.
const (
	sdKey      = "_sd"
	sdAlgKey   = "_sd_alg"
	ellipsis   = "..."
	saltBytes  = 16 // 128 bits, the RFC 9901 recommendation
	digestSize = sha256.Size
)

var b64 = base64.RawURLEncoding

// Disclosure is one selectively disclosable claim or array element.
type Disclosure struct {
	// Encoded is the base64url form that travels in the SD-JWT.
	Encoded string
	// Digest is base64url(SHA-256(ASCII(Encoded))), the value placed in _sd or "...".
	Digest string
	// Salt is the disclosure's salt.
	Salt string
	// Name is the claim name; empty for an array element.
	Name string
	// ArrayElement is true for a [salt, value] disclosure.
	ArrayElement bool
	// Value is the disclosed value as JSON; nested disclosable members appear as their digests.
	Value json.RawMessage
}

// Digest computes the SD-JWT digest of an encoded disclosure (or of a whole presentation, for sd_hash).
func Digest(encoded string) string {
	sum := sha256.Sum256([]byte(encoded))
	return b64.EncodeToString(sum[:])
}

// ParseDisclosure decodes an encoded disclosure strictly: unpadded base64url, a JSON array of
// [salt, name, value] or [salt, value], string salt and name, no reserved name.
func ParseDisclosure(encoded string) (Disclosure, error) {
	d, _, err := parseDisclosure(encoded)
	return d, err
}

// parseDisclosure is ParseDisclosure that also returns the decoded value.
func parseDisclosure(encoded string) (Disclosure, any, error) {
	if encoded == "" {
		return Disclosure{}, nil, fmt.Errorf("%w: empty disclosure", ErrMalformed)
	}
	raw, err := b64.DecodeString(encoded)
	if err != nil {
		return Disclosure{}, nil, fmt.Errorf("%w: disclosure is not base64url", ErrMalformed)
	}
	v, err := decodeStrict(raw)
	if err != nil {
		return Disclosure{}, nil, fmt.Errorf("disclosure: %w", err)
	}
	arr, ok := v.([]any)
	if !ok || (len(arr) != 2 && len(arr) != 3) {
		return Disclosure{}, nil, fmt.Errorf("%w: disclosure is not an array of 2 or 3 elements", ErrMalformed)
	}
	salt, ok := arr[0].(string)
	if !ok {
		return Disclosure{}, nil, fmt.Errorf("%w: disclosure salt is not a string", ErrMalformed)
	}
	d := Disclosure{Encoded: encoded, Digest: Digest(encoded), Salt: salt}
	value := arr[len(arr)-1]
	if len(arr) == 3 {
		name, ok := arr[1].(string)
		if !ok {
			return Disclosure{}, nil, fmt.Errorf("%w: disclosure claim name is not a string", ErrMalformed)
		}
		if name == sdKey || name == ellipsis {
			return Disclosure{}, nil, fmt.Errorf("%w: disclosure claim name %q is reserved", ErrSDMisuse, name)
		}
		d.Name = name
	} else {
		d.ArrayElement = true
	}
	if d.Value, err = marshal(value, false); err != nil {
		return Disclosure{}, nil, fmt.Errorf("%w: disclosure value", ErrMalformed)
	}
	return d, value, nil
}
