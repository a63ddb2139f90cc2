package oid4vci

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// JWE parameters of credential request and response encryption (OpenID4VCI 1.0 section 10, HAIP 1.0): key
// agreement ECDH-ES on P-256, content encryption A128GCM or A256GCM, optional DEFLATE compression.
const (
	// EncryptionAlgECDHES is the only key management algorithm: ECDH-ES (direct key agreement) on P-256.
	EncryptionAlgECDHES = "ECDH-ES"
	// EncA128GCM and EncA256GCM are the content encryption algorithms.
	EncA128GCM = "A128GCM"
	EncA256GCM = "A256GCM"
	// ZipDeflate is the JWE compression algorithm (RFC 7516 section 4.1.3: raw DEFLATE).
	ZipDeflate = "DEF"
	// MediaTypeJWT is the media type of an encrypted request or response.
	MediaTypeJWT = "application/jwt"
)

// maxEncryptionKeyIDLen bounds the kid of a wallet's encryption key (copied into every response header).
const maxEncryptionKeyIDLen = 256

// EncryptionAlgs, EncryptionEncs and EncryptionZips are what the issuer announces and accepts.
func EncryptionAlgs() []string { return []string{EncryptionAlgECDHES} }

// EncryptionEncs are the supported content encryption algorithms.
func EncryptionEncs() []string { return []string{EncA128GCM, EncA256GCM} }

// EncryptionZips are the supported compression algorithms.
func EncryptionZips() []string { return []string{ZipDeflate} }

// ResponseEncryption is a wallet's validated credential_response_encryption: its public P-256 key and the alg,
// enc and zip to encrypt the credential (or deferred credential) response with. Two shapes reach the issuer:
// drafts 13 to 15 send {jwk, alg, enc}; OpenID4VCI 1.0 sends {jwk, enc, zip?} with alg inside the jwk (section
// 10: the JWE alg equals the jwk's alg). Both are accepted; an alg given in both places must agree.
type ResponseEncryption struct {
	// Alg is ECDH-ES, Enc A128GCM or A256GCM, Zip DEF or "" (no compression).
	Alg, Enc, Zip string
	// AlgBeside records the draft 13-15 shape (alg beside jwk and enc); false for the 1.0 shape.
	AlgBeside bool
	// KeyID is the jwk's kid ("" when it has none), repeated as the kid of the response's JWE header.
	KeyID string

	pub *ecdsa.PublicKey
	jwk map[string]any
}

// Record is what the exchange record keeps of the request in credentialResponseEncryption: alg, enc, zip (when
// set) and the wallet's public JWK (its key members and kid only; it never holds a private key).
func (r *ResponseEncryption) Record() map[string]any {
	if r == nil {
		return nil
	}
	out := map[string]any{"alg": r.Alg, "enc": r.Enc, "jwk": maps(r.jwk)}
	if r.Zip != "" {
		out["zip"] = r.Zip
	}
	return out
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Encrypt encrypts a response body as a compact JWE to the wallet's key: alg ECDH-ES (a fresh ephemeral key per
// response, epk in the protected header), enc as asked, zip DEF when asked, kid when the wallet's jwk had one.
func (r *ResponseEncryption) Encrypt(plaintext []byte) ([]byte, error) {
	if r == nil || r.pub == nil {
		return nil, errors.New("encrypt response: no wallet key")
	}
	hdr := jwe.NewHeaders()
	if r.KeyID != "" {
		if err := hdr.Set(jwe.KeyIDKey, r.KeyID); err != nil {
			return nil, fmt.Errorf("encrypt response: %w", err)
		}
	}
	opts := []jwe.EncryptOption{
		jwe.WithKey(jwa.ECDH_ES, r.pub),
		jwe.WithContentEncryption(jwa.ContentEncryptionAlgorithm(r.Enc)),
		jwe.WithProtectedHeaders(hdr),
		jwe.WithCompact(),
	}
	if r.Zip == ZipDeflate {
		opts = append(opts, jwe.WithCompress(jwa.Deflate))
	}
	out, err := jwe.Encrypt(plaintext, opts...)
	if err != nil {
		return nil, fmt.Errorf("encrypt response: %w", err)
	}
	return out, nil
}

// encryptionError is invalid_encryption_parameters with a description naming the parameter and the fix.
func encryptionError(format string, args ...any) *Error {
	return Errorf(ErrInvalidEncryptionParameters, format, args...)
}

// parseResponseEncryption reads credential_response_encryption of a credential or deferred credential request;
// nil when it is absent or null. Every fault is invalid_encryption_parameters saying which parameter and why.
func parseResponseEncryption(obj jsonObject) (*ResponseEncryption, error) {
	const name = "credential_response_encryption"
	if !obj.present(name) {
		return nil, nil
	}
	o, _, err := obj.object(name)
	if err != nil {
		return nil, encryptionError("%s must be a JSON object with jwk and enc (and zip or, in the draft 13 shape, alg)", name)
	}
	enc, ok, err := o.str("enc")
	switch {
	case err != nil || !ok || enc == "":
		return nil, encryptionError("%s.enc is required: one of %s", name, strings.Join(EncryptionEncs(), ", "))
	case !slices.Contains(EncryptionEncs(), enc):
		return nil, encryptionError("%s.enc is not supported: use one of %s (credential_response_encryption.enc_values_supported)", name, strings.Join(EncryptionEncs(), ", "))
	}
	zip, hasZip, err := o.str("zip")
	if err != nil || (hasZip && zip != ZipDeflate) {
		return nil, encryptionError("%s.zip is not supported: use %s or leave zip out for no compression", name, ZipDeflate)
	}
	alg, algBeside, err := o.str("alg")
	if err != nil || (algBeside && alg == "") {
		return nil, encryptionError("%s.alg must be a non-empty string: %s", name, EncryptionAlgECDHES)
	}
	if !o.present("jwk") {
		return nil, encryptionError("%s.jwk is required: the wallet's public EC P-256 key to encrypt the response to", name)
	}
	raw, _, err := o.object("jwk")
	if err != nil {
		return nil, encryptionError("%s.jwk must be a JSON object: one public JWK", name)
	}
	r := &ResponseEncryption{Enc: enc, Zip: zip, AlgBeside: algBeside}
	if err := r.readKey(raw, o["jwk"]); err != nil {
		return nil, err
	}
	keyAlg, _, err := raw.str("alg")
	if err != nil {
		return nil, encryptionError("%s.jwk.alg must be a string: %s", name, EncryptionAlgECDHES)
	}
	switch {
	case algBeside && keyAlg != "" && keyAlg != alg:
		return nil, encryptionError("%s.alg and %s.jwk.alg differ; send one algorithm (%s)", name, name, EncryptionAlgECDHES)
	case algBeside:
	case keyAlg != "":
		alg = keyAlg
	default:
		return nil, encryptionError("the encryption algorithm is missing: put alg %s in %s.jwk (OpenID4VCI 1.0) or in %s.alg (draft 13)", EncryptionAlgECDHES, name, name)
	}
	if alg != EncryptionAlgECDHES {
		return nil, encryptionError("the encryption algorithm is not supported: use %s (credential_response_encryption.alg_values_supported)", EncryptionAlgECDHES)
	}
	r.Alg = alg
	return r, nil
}

// privateJWKMembers are the JWK members that carry private key material (RFC 7518 section 6).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// readKey validates the wallet's JWK: a public EC key on P-256 (the point on the curve), not marked for
// signatures only, with a bounded kid; it keeps the key and the members recorded in the history record.
func (r *ResponseEncryption) readKey(obj jsonObject, raw []byte) error {
	const name = "credential_response_encryption.jwk"
	for _, m := range privateJWKMembers {
		if obj.present(m) {
			return encryptionError("%s carries private key material; send only the public key", name)
		}
	}
	key, err := jwk.ParseKey(raw)
	if err != nil {
		return encryptionError("%s is not a valid JWK", name)
	}
	ecKey, ok := key.(jwk.ECDSAPublicKey)
	if !ok || ecKey.Crv() != jwa.P256 {
		return encryptionError("%s must be an EC key on P-256 (kty EC, crv P-256): the issuer encrypts with ECDH-ES on P-256", name)
	}
	var pub ecdsa.PublicKey
	if err := ecKey.Raw(&pub); err != nil || pub.Curve != elliptic.P256() {
		return encryptionError("%s is not a valid P-256 public key", name)
	}
	if _, err := pub.ECDH(); err != nil {
		return encryptionError("%s is not a point on P-256", name)
	}
	if use, ok, err := obj.str("use"); err != nil || (ok && use != "enc") {
		return encryptionError("%s.use must be enc (or absent): the key is for encryption", name)
	}
	kid, _, err := obj.str("kid")
	if err != nil || len(kid) > maxEncryptionKeyIDLen {
		return encryptionError("%s.kid must be a string of at most %d characters", name, maxEncryptionKeyIDLen)
	}
	canonical, err := jwk.FromRaw(&pub)
	if err != nil {
		return encryptionError("%s is not a valid P-256 public key", name)
	}
	var members map[string]any
	b, err := json.Marshal(canonical)
	if err == nil {
		err = json.Unmarshal(b, &members)
	}
	if err != nil {
		return fmt.Errorf("record encryption key: %w", err)
	}
	if kid != "" {
		members["kid"] = kid
	}
	r.pub, r.jwk, r.KeyID = &pub, members, kid
	return nil
}

// ResponseEncryptionMetadata is credential_response_encryption of the issuer metadata (1.0 section 12.2.4).
type ResponseEncryptionMetadata struct {
	AlgValuesSupported []string `json:"alg_values_supported"`
	EncValuesSupported []string `json:"enc_values_supported"`
	ZipValuesSupported []string `json:"zip_values_supported,omitempty"`
	EncryptionRequired bool     `json:"encryption_required"`
}

// NewResponseEncryptionMetadata announces what parseResponseEncryption accepts, required or not.
func NewResponseEncryptionMetadata(required bool) *ResponseEncryptionMetadata {
	return &ResponseEncryptionMetadata{AlgValuesSupported: EncryptionAlgs(), EncValuesSupported: EncryptionEncs(),
		ZipValuesSupported: EncryptionZips(), EncryptionRequired: required}
}

// RequestEncryptionMetadata is credential_request_encryption of the issuer metadata (1.0 section 12.2.4): the
// issuer's public keys for ECDH-ES (each with kid and alg), the enc and zip values it decrypts.
type RequestEncryptionMetadata struct {
	JWKS               jwk.Set  `json:"jwks"`
	EncValuesSupported []string `json:"enc_values_supported"`
	ZipValuesSupported []string `json:"zip_values_supported,omitempty"`
	EncryptionRequired bool     `json:"encryption_required"`
}
