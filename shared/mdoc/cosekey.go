package mdoc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/veraison/go-cose"
)

// DeviceKey is the COSE_Key (RFC 9052 section 7, ISO 18013-5 DeviceKey) of a holder's public JWK, encoded:
// kty EC2, crv, x, y and alg. Only EC keys on P-256, P-384 and P-521 are taken: the curves 18013-5 and the
// wallets' proofs use; a private key is refused rather than stripped.
func DeviceKey(key jwk.Key) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: device key: none given (the wallet's proof key)", ErrInvalidDocument)
	}
	ec, ok := key.(jwk.ECDSAPublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: device key: a public EC key is required, got %s", ErrInvalidDocument, key.KeyType())
	}
	var pub ecdsa.PublicKey
	if err := ec.Raw(&pub); err != nil {
		return nil, fmt.Errorf("%w: device key: %w", ErrInvalidDocument, err)
	}
	switch pub.Curve {
	case elliptic.P256(), elliptic.P384(), elliptic.P521():
	default:
		return nil, fmt.Errorf("%w: device key: curve not supported", ErrInvalidDocument)
	}
	if _, err := pub.ECDH(); err != nil { // refuses a point off its curve
		return nil, fmt.Errorf("%w: device key: %w", ErrInvalidDocument, err)
	}
	ck, err := cose.NewKeyFromPublic(&pub)
	if err != nil {
		return nil, fmt.Errorf("%w: device key: %w", ErrInvalidDocument, err)
	}
	out, err := ck.MarshalCBOR()
	if err != nil {
		return nil, fmt.Errorf("%w: device key: %w", ErrInvalidDocument, err)
	}
	return out, nil
}
