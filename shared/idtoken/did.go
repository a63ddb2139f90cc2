package idtoken

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/mr-tron/base58"

	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
)

// DID methods whose keys the DID itself carries: nothing is fetched to resolve them.
const (
	// MethodKey is did:key (W3C CCG did:key 0.7): a multibase (base58btc) multicodec public key.
	MethodKey = "did:key"
	// MethodJWK is did:jwk: a base64url public JWK.
	MethodJWK = "did:jwk"
)

// maxDIDLength bounds a DID before it is decoded: a did:jwk of a P-521 key is under 300 characters, a did:key of
// a JCS JWK under 200.
const maxDIDLength = 1024

// Multicodec codes of the public keys a did:key may hold (multiformats table; EBSI's natural persons use
// jwk_jcs-pub).
const (
	codecEd25519   = 0xed
	codecP256      = 0x1200
	codecP384      = 0x1201
	codecP521      = 0x1202
	codecJWKJCSPub = 0xeb51
)

// ResolveDID returns the public key of a did:key or did:jwk, and the DID without any fragment. what names the
// DID in reasons. Any other method is refused: the issuer resolves no DID over the network.
func ResolveDID(didURL, what string) (did string, key *jwtverify.PublicKey, err error) {
	if len(didURL) > maxDIDLength {
		return "", nil, jwtverify.Errorf("%s is longer than %d characters", what, maxDIDLength)
	}
	did, fragment, _ := strings.Cut(didURL, "#")
	switch {
	case strings.HasPrefix(did, MethodKey+":"):
		id := strings.TrimPrefix(did, MethodKey+":")
		if fragment != "" && fragment != id {
			return "", nil, jwtverify.Errorf("%s names a verification method that a did:key does not have: the "+
				"fragment must repeat the DID's multibase value", what)
		}
		key, err := didKey(id, what)
		return did, key, err
	case strings.HasPrefix(did, MethodJWK+":"):
		if fragment != "" && fragment != "0" {
			return "", nil, jwtverify.Errorf("%s names a verification method other than #0, the only one of a did:jwk", what)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(did, MethodJWK+":"))
		if err != nil || len(raw) == 0 {
			return "", nil, jwtverify.Errorf("%s is not a did:jwk: the method-specific id must be a base64url JWK", what)
		}
		key, err := jwtverify.ParsePublicJWK(raw, "", what+" (did:jwk)")
		return did, key, err
	default:
		return "", nil, jwtverify.Errorf("%s must be a did:key or did:jwk (the issuer resolves no other DID method)", what)
	}
}

// didKey decodes the method-specific id of a did:key: "z" (base58btc), then a multicodec varint and the key.
func didKey(id, what string) (*jwtverify.PublicKey, error) {
	bad := jwtverify.Errorf("%s is not a did:key: the id must be a base58btc multibase value (z...) of a "+
		"P-256, P-384, P-521, Ed25519 or jwk_jcs-pub multicodec key", what)
	if !strings.HasPrefix(id, "z") || len(id) < 2 {
		return nil, bad
	}
	raw, err := base58.Decode(id[1:])
	if err != nil {
		return nil, bad
	}
	code, n := binary.Uvarint(raw)
	if n <= 0 {
		return nil, bad
	}
	body := raw[n:]
	switch code {
	case codecP256, codecP384, codecP521:
		curve := map[uint64]elliptic.Curve{codecP256: elliptic.P256(), codecP384: elliptic.P384(), codecP521: elliptic.P521()}[code]
		invalid := jwtverify.Errorf("%s holds no valid compressed point of curve %s", what, curve.Params().Name)
		x, y := elliptic.UnmarshalCompressed(curve, body)
		if x == nil {
			return nil, invalid
		}
		size := (curve.Params().BitSize + 7) / 8
		point := append([]byte{4}, append(x.FillBytes(make([]byte, size)), y.FillBytes(make([]byte, size))...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, invalid
		}
		return jwtverify.PublicKeyOf(pub, what)
	case codecEd25519:
		if len(body) != ed25519.PublicKeySize {
			return nil, jwtverify.Errorf("%s holds an Ed25519 key of the wrong length", what)
		}
		return jwtverify.PublicKeyOf(ed25519.PublicKey(append([]byte(nil), body...)), what)
	case codecJWKJCSPub:
		return jwtverify.ParsePublicJWK(body, "", what+" (jwk_jcs-pub)")
	default:
		return nil, bad
	}
}
