package sdjwt

import (
	"encoding/json"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// holderJWK returns the JSON of the public part of key, the cnf.jwk member, as jwx writes it (members sorted).
func holderJWK(key jwk.Key) (json.RawMessage, error) {
	pub, err := key.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: holder key: %w", ErrInvalidClaims, err)
	}
	raw, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: holder key: %w", ErrInvalidClaims, err)
	}
	return raw, nil
}
