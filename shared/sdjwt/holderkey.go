package sdjwt

import (
	"encoding/json"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// appendHolderJWK appends the JSON of the public part of key, the cnf.jwk member: byte for byte
// what json.Marshal(key.PublicKey()) writes (jwx sorts the members). The usual holder key, an EC
// public key with only kty, crv, x and y, is written directly; any other key goes through jwx.
func appendHolderJWK(dst []byte, key jwk.Key) ([]byte, error) {
	if ec, ok := key.(jwk.ECDSAPublicKey); ok && plainECKey(ec) {
		dst = append(dst, `{"crv":"`...)
		dst = append(dst, ec.Crv().String()...)
		dst = append(dst, `","kty":"EC","x":"`...)
		dst = b64.AppendEncode(dst, ec.X())
		dst = append(dst, `","y":"`...)
		dst = b64.AppendEncode(dst, ec.Y())
		return append(dst, `"}`...), nil
	}
	pub, err := key.PublicKey()
	if err != nil {
		return dst, fmt.Errorf("%w: holder key: %w", ErrInvalidClaims, err)
	}
	raw, err := json.Marshal(pub)
	if err != nil {
		return dst, fmt.Errorf("%w: holder key: %w", ErrInvalidClaims, err)
	}
	return append(dst, raw...), nil
}

// plainECKey reports whether k is an EC public key on a NIST curve with coordinates and no
// member other than kty, crv, x and y.
func plainECKey(k jwk.ECDSAPublicKey) bool {
	if len(k.PrivateParams()) != 0 || len(k.X()) == 0 || len(k.Y()) == 0 {
		return false
	}
	switch k.Crv() {
	case jwa.P256, jwa.P384, jwa.P521:
	default:
		return false
	}
	// Every JWK member besides kty, crv, x and y that a jwx EC public key can carry.
	for _, name := range [...]string{
		jwk.AlgorithmKey, jwk.KeyIDKey, jwk.KeyOpsKey, jwk.KeyUsageKey,
		jwk.X509CertChainKey, jwk.X509CertThumbprintKey, jwk.X509CertThumbprintS256Key, jwk.X509URLKey,
	} {
		if _, ok := k.Get(name); ok {
			return false
		}
	}
	return true
}
