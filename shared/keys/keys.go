// Package keys holds the issuer's signing keys and the one path every issuer signature takes.
//
// The keys: KMSSigner, an AWS KMS key (ECC_NIST_P256, SIGN_VERIFY, ECDSA_SHA_256) whose public key is fetched once
// with GetPublicKey, and LocalSigner, an in-memory P-256 key for tests, benchmarks and the dev server. Each is a
// Signer: its `kid` (the RFC 7638 thumbprint of its public JWK) and a crypto.Signer bound to a context, whose Sign
// turns a SHA-256 digest into an ASN.1 DER ECDSA signature (one KMS Sign call for the KMS key).
//
// The path: SignJWS hands that crypto.Signer to jwx's jws.Sign (alg ES256), which hashes the signing input, calls
// Sign once and writes the compact JWS. SD-JWT VCs (shared/sdjwt) and status list tokens (shared/statuslist) are
// signed this way, the local key exactly like the KMS key; so must anything else the issuer signs as a JWS. A
// COSE_Sign1 (mdoc) takes the same crypto.Signer through go-cose. No issuer JWS is assembled by hand.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Errors a signer wraps, to be told apart with errors.Is.
var (
	// ErrUnavailable: the signature could not be obtained now (KMS unreachable, throttled, failing, or the
	// context ended); retrying later may succeed. Callers answer 503 / retry.
	ErrUnavailable = errors.New("signing key unavailable")
	// ErrKeyUnusable: the key cannot sign for us (wrong spec or usage, disabled, missing, access denied, or its
	// signatures do not match the public key fetched at start). A configuration fault: retrying will not help.
	ErrKeyUnusable = errors.New("signing key unusable")
	// ErrInvalidInput: the caller asked for something the key does not do (not a SHA-256 digest).
	ErrInvalidInput = errors.New("invalid signing input")
)

// JWKSource is anything with a public JWK: both signers.
type JWKSource interface {
	// PublicJWK returns a copy of the public key as a JWK with its thumbprint kid.
	PublicJWK() jwk.Key
}

// PublicJWKS is the JWK set of the given keys' public JWKs (the issuer's jwks), without duplicate kids.
func PublicJWKS(keys ...JWKSource) jwk.Set {
	set := jwk.NewSet()
	seen := map[string]bool{}
	for _, k := range keys {
		pub := k.PublicJWK()
		if pub == nil || seen[pub.KeyID()] {
			continue
		}
		seen[pub.KeyID()] = true
		// AddKey fails only for a key already in the set, which the kid check rules out.
		_ = set.AddKey(pub)
	}
	return set
}

// publicJWK is the public JWK of pub with kid (the RFC 7638 SHA-256 thumbprint, base64url), alg ES256, use sig.
func publicJWK(pub *ecdsa.PublicKey) (jwk.Key, string, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, "", fmt.Errorf("public key is not on P-256: %w", ErrKeyUnusable)
	}
	key, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, "", fmt.Errorf("public JWK: %w", err)
	}
	kid, err := Thumbprint(key)
	if err != nil {
		return nil, "", err
	}
	for name, value := range map[string]any{
		jwk.KeyIDKey:     kid,
		jwk.AlgorithmKey: jwa.ES256,
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := key.Set(name, value); err != nil {
			return nil, "", fmt.Errorf("public JWK: set %s: %w", name, err)
		}
	}
	return key, kid, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of key, base64url without padding.
func Thumbprint(key jwk.Key) (string, error) {
	sum, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("JWK thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// cloneJWK gives callers their own copy: a jwk.Key is mutable and the signer's is shared by every request.
func cloneJWK(key jwk.Key) jwk.Key {
	c, err := key.Clone()
	if err != nil {
		// Clone copies fields this package set itself; it cannot fail for them. Return nothing rather than share.
		return nil
	}
	return c
}
