package jwtverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// Limits of keys and certificate chains.
const (
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// MaxChainLength bounds an x5c chain.
	MaxChainLength = 5
)

// privateMembers are the JWK members of private and symmetric keys (RFC 7518 section 6).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// PublicKey is a wallet's public key: as jwx holds it, as the crypto package does, and its RFC 7638 thumbprint.
type PublicKey struct {
	// JWK is the key as jwx holds it.
	JWK jwk.Key
	// Raw is the *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey.
	Raw crypto.PublicKey
	// Thumbprint is the base64url RFC 7638 SHA-256 thumbprint (DPoP's jkt).
	Thumbprint string
}

// Members are the key's public members only (kty, crv, x, y / n, e), as a credential's cnf.jwk carries them.
func (k *PublicKey) Members() map[string]any {
	keep := map[string][]string{"EC": {"kty", "crv", "x", "y"}, "OKP": {"kty", "crv", "x"}, "RSA": {"kty", "n", "e"}}
	buf, err := json.Marshal(k.JWK)
	if err != nil {
		return nil
	}
	var all map[string]any
	if json.Unmarshal(buf, &all) != nil {
		return nil
	}
	kty, _ := all["kty"].(string)
	out := map[string]any{}
	for _, m := range keep[kty] {
		if v, ok := all[m]; ok {
			out[m] = v
		}
	}
	return out
}

// ParsePublicJWK reads a public JWK (a JSON object) that a wallet sent. Private or symmetric key material is
// refused, EC points must lie on their curve, RSA keys need MinRSABits. what names the key in reasons ("the jwk
// header"). When alg is not empty the key must fit it.
func ParsePublicJWK(raw []byte, alg, what string) (*PublicKey, error) {
	var members map[string]jsontext.Value
	if err := strictjson.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, Errorf("%s must be a JSON object holding a public JWK", what)
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return nil, Errorf("%s contains private key material (%s); send only the public key", what, m)
		}
	}
	key, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, Errorf("%s is not a valid public JWK", what)
	}
	var pub crypto.PublicKey
	if err := key.Raw(&pub); err != nil {
		return nil, Errorf("%s is not a usable public key", what)
	}
	out, err := publicKey(key, pub, what)
	if err != nil {
		return nil, err
	}
	if alg != "" {
		if err := KeyFitsAlg(out.Raw, alg); err != nil {
			return nil, Errorf("%s: %s", what, err.(*Error).Reason)
		}
	}
	return out, nil
}

// PublicKeyOf wraps a crypto public key (a certificate's) as a PublicKey.
func PublicKeyOf(pub crypto.PublicKey, what string) (*PublicKey, error) {
	key, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, Errorf("%s holds an unsupported key type", what)
	}
	return publicKey(key, pub, what)
}

func publicKey(key jwk.Key, pub crypto.PublicKey, what string) (*PublicKey, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		// ECDH rejects points off the curve (and the point at infinity).
		if _, err := k.ECDH(); err != nil {
			return nil, Errorf("%s is not a valid public key: the point is not on its curve", what)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, Errorf("%s is not a valid Ed25519 public key", what)
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return nil, Errorf("%s is an RSA key of %d bits; at least %d are required", what, k.N.BitLen(), MinRSABits)
		}
	default:
		return nil, Errorf("%s must be an EC, OKP (Ed25519) or RSA public key", what)
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, Errorf("%s is not a usable public key", what)
	}
	return &PublicKey{JWK: key, Raw: pub, Thumbprint: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// KeyFitsAlg checks that pub is a key alg signs with: the curve of an ES algorithm, Ed25519 for EdDSA, RSA for RS
// and PS.
func KeyFitsAlg(pub crypto.PublicKey, alg string) error {
	curves := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if c, ok := curves[alg]; !ok || k.Curve != c {
			return Errorf("alg %s does not fit the EC key on curve %s", AlgName(alg), k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return Errorf("alg %s does not fit an Ed25519 key; use EdDSA", AlgName(alg))
		}
	case *rsa.PublicKey:
		if len(alg) != 5 || (alg[:2] != "RS" && alg[:2] != "PS") {
			return Errorf("alg %s does not fit an RSA key", AlgName(alg))
		}
	default:
		return Errorf("the key type is not supported")
	}
	return nil
}

// HeaderJWK reads the public JWK of a header member (DPoP's jwk), fitting the token's alg.
func (t *Token) HeaderJWK(name string) (*PublicKey, error) {
	raw, ok := t.header[name]
	if !ok {
		return nil, Errorf("%s header must carry the public key as %s", t.what, name)
	}
	return ParsePublicJWK(raw, t.Alg, t.what+" "+name+" header")
}

// X5C reads the x5c header: at most MaxChainLength base64 (not base64url) DER certificates, the signer's first.
// ok is false when the header has no x5c.
func (t *Token) X5C() (certs []*x509.Certificate, ok bool, err error) {
	raw, present := t.header["x5c"]
	if !present {
		return nil, false, nil
	}
	var enc []string
	if err := strictjson.Unmarshal(raw, &enc); err != nil || len(enc) == 0 {
		return nil, true, Errorf("%s x5c header must be a non-empty array of base64 DER certificates", t.what)
	}
	if len(enc) > MaxChainLength {
		return nil, true, Errorf("%s x5c header holds %d certificates; at most %d are accepted", t.what, len(enc), MaxChainLength)
	}
	for i, e := range enc {
		der, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			return nil, true, Errorf("%s x5c certificate %d is not base64 (RFC 7515 section 4.1.6: base64, not base64url)", t.what, i+1)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, true, Errorf("%s x5c certificate %d is not a DER X.509 certificate", t.what, i+1)
		}
		certs = append(certs, c)
	}
	return certs, true, nil
}
