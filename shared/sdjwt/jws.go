package sdjwt

import (
	"crypto"
	"crypto/rand"
	"fmt"
)

// es256SigSize is the length of a JOSE ES256 signature: r and s, 32 bytes each, big-endian
// (RFC 7518, Section 3.4).
const es256SigSize = 64

// es256SigB64Len is the base64url length of an ES256 signature.
const es256SigB64Len = (es256SigSize*8 + 5) / 6

// appendProtectedHeader appends the JWS protected header JSON {"alg":"ES256","kid":...,"typ":...}
// (members in the order jwx writes them; kid omitted when empty).
func appendProtectedHeader(dst []byte, kid, typ string) []byte {
	dst = append(dst, `{"alg":"ES256"`...)
	if kid != "" {
		dst = append(dst, `,"kid":`...)
		dst = appendString(dst, kid)
	}
	dst = append(dst, `,"typ":`...)
	dst = appendString(dst, typ)
	return append(dst, '}')
}

// signES256 signs the SHA-256 digest of a JWS signing input with cs and returns the JOSE
// signature r||s. cs returns an ASN.1 DER ECDSA signature, as crypto.Signer requires of ECDSA
// keys (a local *ecdsa.PrivateKey or the KMS signer alike).
func signES256(cs crypto.Signer, digest []byte) ([es256SigSize]byte, error) {
	var sig [es256SigSize]byte
	der, err := cs.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		return sig, fmt.Errorf("%w: sign: %w", ErrSignature, err)
	}
	if err := joseFromDER(sig[:], der); err != nil {
		return sig, err
	}
	return sig, nil
}

// joseFromDER converts the DER ECDSA-Sig-Value SEQUENCE { r INTEGER, s INTEGER } in der into the
// fixed-size r||s form of out (len(out)/2 bytes each). It accepts only strict DER: short-form
// lengths, minimally encoded positive non-zero integers that fit, no trailing data.
func joseFromDER(out, der []byte) error {
	if len(der) < 2 || der[0] != 0x30 || der[1] >= 0x80 || int(der[1]) != len(der)-2 {
		return fmt.Errorf("%w: signer returned a malformed ECDSA signature", ErrSignature)
	}
	rest := der[2:]
	half := len(out) / 2
	for i := range 2 {
		var n []byte
		var ok bool
		if n, rest, ok = derPositiveInt(rest); !ok || len(n) > half {
			return fmt.Errorf("%w: signer returned a malformed ECDSA signature", ErrSignature)
		}
		field := out[i*half : (i+1)*half]
		clear(field[:half-len(n)])
		copy(field[half-len(n):], n)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: signer returned a malformed ECDSA signature", ErrSignature)
	}
	return nil
}

// derPositiveInt reads one DER INTEGER from b that must be positive, and returns its magnitude
// without the sign padding byte, and the bytes after it.
func derPositiveInt(b []byte) (mag, rest []byte, ok bool) {
	if len(b) < 3 || b[0] != 0x02 || b[1] >= 0x80 || int(b[1]) > len(b)-2 || b[1] == 0 {
		return nil, nil, false
	}
	v, rest := b[2:2+int(b[1])], b[2+int(b[1]):]
	if v[0]&0x80 != 0 { // negative
		return nil, nil, false
	}
	if v[0] == 0 {
		if len(v) == 1 || v[1]&0x80 == 0 { // zero, or a padding byte that was not needed
			return nil, nil, false
		}
		v = v[1:]
	}
	return v, rest, true
}
