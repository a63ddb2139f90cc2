package exchange

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Stateless c_nonces (docs/security.md, "Nonce endpoint writes"): a c_nonce is AES-256-GCM over its expiry and 16
// random bytes, under a key every function of the deployment shares (NONCE_KEY), so minting one writes nothing and
// any container can check one it did not mint. Single use is enforced where a nonce is consumed: the credential
// write puts a NONCE#<sha256> marker with attribute_not_exists (a second use finds it), living until the nonce
// expires.

// CNonceKeyBytes is the size of a c_nonce key (AES-256).
const CNonceKeyBytes = 32

const (
	cnonceVersion = 1
	cnonceBody    = 8 + 16 // expiry (unix seconds), random
)

// cnonceAD binds the ciphertext to its purpose, so a value sealed for anything else never opens as a c_nonce.
var cnonceAD = []byte("sdjwt-issuer/c_nonce/v1")

// ErrCNonceInvalid is a c_nonce this deployment did not mint (or a malformed one); ErrCNonceExpired one past its
// expiry.
var (
	ErrCNonceInvalid = errors.New("c_nonce was not issued by this issuer")
	ErrCNonceExpired = errors.New("c_nonce has expired")
)

// CNonces mints and opens stateless c_nonces.
type CNonces struct {
	aead cipher.AEAD
	rand io.Reader
}

// NewCNonces returns c_nonces under key (CNonceKeyBytes bytes), drawing randomness from random (crypto/rand
// when nil).
func NewCNonces(key []byte, random io.Reader) (*CNonces, error) {
	if len(key) != CNonceKeyBytes {
		return nil, fmt.Errorf("c_nonce key: %d bytes, want %d", len(key), CNonceKeyBytes)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("c_nonce key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("c_nonce key: %w", err)
	}
	if random == nil {
		random = rand.Reader
	}
	return &CNonces{aead: aead, rand: random}, nil
}

// Mint returns a fresh c_nonce that expires at expiresAt.
func (c *CNonces) Mint(expiresAt time.Time) (string, error) {
	buf := make([]byte, 1+c.aead.NonceSize(), 1+c.aead.NonceSize()+cnonceBody+c.aead.Overhead())
	buf[0] = cnonceVersion
	var body [cnonceBody]byte
	binary.BigEndian.PutUint64(body[:8], uint64(expiresAt.Unix()))
	if _, err := io.ReadFull(c.rand, buf[1:]); err != nil {
		return "", fmt.Errorf("mint c_nonce: %w", err)
	}
	if _, err := io.ReadFull(c.rand, body[8:]); err != nil {
		return "", fmt.Errorf("mint c_nonce: %w", err)
	}
	out := c.aead.Seal(buf, buf[1:], body[:], cnonceAD)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open checks that nonce was minted under this key and has not expired at now, and returns its expiry.
func (c *CNonces) Open(nonce string, now time.Time) (time.Time, error) {
	want := 1 + c.aead.NonceSize() + cnonceBody + c.aead.Overhead()
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != want {
		return time.Time{}, ErrCNonceInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != want || raw[0] != cnonceVersion {
		return time.Time{}, ErrCNonceInvalid
	}
	iv := raw[1 : 1+c.aead.NonceSize()]
	body, err := c.aead.Open(nil, iv, raw[1+c.aead.NonceSize():], cnonceAD)
	if err != nil || len(body) != cnonceBody {
		return time.Time{}, ErrCNonceInvalid
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(body[:8])), 0)
	if !now.Before(exp) {
		return time.Time{}, ErrCNonceExpired
	}
	return exp, nil
}

// MinCNonceSecretLen is the shortest NONCE_KEY accepted: 32 characters (the stack generates 64 alphanumeric).
const MinCNonceSecretLen = 32

// CNonceKeyFrom derives the c_nonce key from a NONCE_KEY secret: SHA-256 of it, so that any secret of at least
// MinCNonceSecretLen characters (Secrets Manager's generated string, `openssl rand -base64 32`) serves.
func CNonceKeyFrom(secret string) ([]byte, error) {
	if len(secret) < MinCNonceSecretLen {
		return nil, fmt.Errorf("has %d characters, want at least %d random ones (e.g. the output of `openssl rand -base64 32`)",
			len(secret), MinCNonceSecretLen)
	}
	sum := sha256.Sum256([]byte(secret))
	return sum[:], nil
}

// CNonceMarker is the pointer key of a used c_nonce: NONCE#<hex SHA-256>.
func CNonceMarker(nonce string) string { return PointerKey(PointerNonce, nonce) }
