package oid4vci

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
)

// RequestKeys finds the issuer's private request encryption key of a kid (shared/requestkeys.Ring); an unknown
// or expired kid is an error wrapping ErrUnknownRequestKey.
type RequestKeys interface {
	PrivateKey(ctx context.Context, kid string) (*ecdsa.PrivateKey, error)
}

// ErrUnknownRequestKey is what RequestKeys wraps for a kid it does not hold.
var ErrUnknownRequestKey = errors.New("unknown request encryption key")

// DecryptRequest opens an encrypted credential or deferred credential request (application/jwt, OpenID4VCI 1.0
// section 10): a compact JWE with alg ECDH-ES, enc A128GCM or A256GCM, zip DEF or none, and the kid of one of the
// issuer's keys from credential_request_encryption.jwks; its plaintext is the request's JSON object (returned for
// ParseCredentialRequest). The header is checked before any key is used; every fault is
// invalid_encryption_parameters naming it. A failure of the key lookup other than an unknown kid is returned as
// is (a server error).
func DecryptRequest(ctx context.Context, body []byte, keys RequestKeys) ([]byte, error) {
	if len(body) > MaxCredentialRequestBytes {
		return nil, encryptionError("the encrypted request is larger than %d bytes", MaxCredentialRequestBytes)
	}
	compact := bytes.TrimSpace(body)
	if bytes.Count(compact, []byte(".")) != 4 || bytes.HasPrefix(compact, []byte("{")) {
		return nil, encryptionError("an application/jwt request must be a compact JWE (five base64url parts) encrypted to a key of credential_request_encryption.jwks")
	}
	msg, err := jwe.Parse(compact)
	if err != nil {
		return nil, encryptionError("the encrypted request is not a valid compact JWE")
	}
	h := msg.ProtectedHeaders()
	switch {
	case h.Algorithm() != jwa.ECDH_ES:
		return nil, encryptionError("the encrypted request's alg is not supported: use %s", EncryptionAlgECDHES)
	case !slices.Contains(EncryptionEncs(), string(h.ContentEncryption())):
		return nil, encryptionError("the encrypted request's enc is not supported: use A128GCM or A256GCM (credential_request_encryption.enc_values_supported)")
	case h.Compression() != jwa.NoCompress && h.Compression() != jwa.Deflate:
		return nil, encryptionError("the encrypted request's zip is not supported: use %s or none", ZipDeflate)
	case h.KeyID() == "":
		return nil, encryptionError("the encrypted request has no kid: name the key of credential_request_encryption.jwks it is encrypted to")
	}
	if _, ok := h.Get("crit"); ok {
		return nil, encryptionError("the encrypted request's crit header is not supported")
	}
	priv, err := keys.PrivateKey(ctx, h.KeyID())
	if errors.Is(err, ErrUnknownRequestKey) {
		return nil, encryptionError("the encrypted request's kid names no current key of this issuer: fetch the issuer metadata again and encrypt to a key of credential_request_encryption.jwks")
	}
	if err != nil {
		return nil, err
	}
	plain, err := jwe.Decrypt(compact, jwe.WithKey(jwa.ECDH_ES, priv),
		jwe.WithMaxDecompressBufferSize(MaxCredentialRequestBytes))
	switch {
	case err != nil && h.Compression() == jwa.Deflate:
		// jwx says no more than that it failed: a wrong key and a plaintext that inflates beyond the bound (a
		// decompression bomb) look alike, so the description names both.
		return nil, encryptionError("the encrypted request does not decrypt with the key its kid names, or its "+
			"plaintext is larger than %d bytes once decompressed", MaxCredentialRequestBytes)
	case err != nil:
		return nil, encryptionError("the encrypted request does not decrypt with the key its kid names")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(plain), []byte("{")) {
		return nil, encryptionError("the encrypted request's plaintext must be the request's JSON object (a nested JWT is not supported)")
	}
	return plain, nil
}
