package exchange

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Pointer kinds: the prefix of a pointer item's key, `<kind>#<hex SHA-256 of the secret>`. Pointer items are
// written for c_nonces, transaction ids and (as its single-use guard only) the pre-authorized code. Offer ids,
// access tokens and notification ids have none any more: they name their exchange and are checked against
// hashes in its record. Their kinds stay reserved so that no other secret reuses them.
const (
	PointerOffer        = "OFFER"
	PointerCode         = "CODE"
	PointerAccessToken  = "TOKEN"
	PointerNonce        = "NONCE"
	PointerTransaction  = "TXN"
	PointerNotification = "NOTIF"
)

// secretBytes is the entropy of every generated secret and id (256 bits).
const secretBytes = 32

// codeLabel separates the pre-authorized code derivation from any other use of an offer id.
const codeLabel = "sdjwt-issuer/v1/pre-authorized_code"

// NewSecret returns a fresh unguessable secret: 32 random bytes, base64url without padding.
func NewSecret(r io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewID returns a random (version 4) UUID, used for exchange and definition ids.
func NewID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// exchangeSecretSeparator joins the exchange id and the random part of a secret that names its exchange. Exchange
// ids are UUIDs and random parts base64url, neither contains it.
const exchangeSecretSeparator = "."

// NewExchangeSecret returns a secret that names its exchange: `<exchangeId>.<256 random bits, base64url>`. The
// use case that receives it reads the exchange record directly (SecretExchangeID) and compares the secret with
// the hash kept in the record (SecretMatches); the id alone grants nothing.
func NewExchangeSecret(r io.Reader, exchangeID string) (string, error) {
	if exchangeID == "" || strings.Contains(exchangeID, exchangeSecretSeparator) {
		return "", fmt.Errorf("generate exchange secret: unusable exchange id")
	}
	secret, err := NewSecret(r)
	if err != nil {
		return "", err
	}
	return exchangeID + exchangeSecretSeparator + secret, nil
}

// SecretExchangeID returns the exchange id a secret of NewExchangeSecret names; false for any other shape.
func SecretExchangeID(secret string) (string, bool) {
	id, rest, ok := strings.Cut(secret, exchangeSecretSeparator)
	if !ok || id == "" || rest == "" || len(id) > maxExchangeIDLen || strings.Contains(rest, exchangeSecretSeparator) {
		return "", false
	}
	return id, true
}

// maxExchangeIDLen bounds the exchange id part of a secret (a UUID is 36 characters).
const maxExchangeIDLen = 64

// SecretMatches reports in constant time whether secret's HashSecret is hash; an empty hash (a secret not
// issued yet, or spent) matches nothing.
func SecretMatches(secret, hash string) bool {
	if hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}

// HashSecret is the hex SHA-256 of a secret: the only form in which codes, tokens, nonces, transaction ids,
// notification ids and offer ids are stored.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// PointerKey is the key of the pointer item of a secret of the given kind.
func PointerKey(kind, secret string) string { return kind + "#" + HashSecret(secret) }

// PreAuthorizedCode derives the pre-authorized code of an offer from its offer id: the exchange id the offer id
// names, ".", and HMAC-SHA-256 keyed with the offer id over a fixed label, base64url. The code is never stored
// (only its hash, in the record); the offer endpoint re-derives it from the offer id in the URL, and the token
// endpoint reads the exchange it names. An offer id naming no exchange (none is minted) yields the bare MAC.
func PreAuthorizedCode(offerID string) string {
	m := hmac.New(sha256.New, []byte(offerID))
	m.Write([]byte(codeLabel))
	mac := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if id, ok := SecretExchangeID(offerID); ok {
		return id + exchangeSecretSeparator + mac
	}
	return mac
}

// NewTxCode hashes a userPin with a fresh 16-byte salt and records what the offer tells the wallet about it
// (input_mode numeric when all digits, else text; length).
func NewTxCode(r io.Reader, pin string) (*TxCode, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(r, salt); err != nil {
		return nil, fmt.Errorf("generate tx_code salt: %w", err)
	}
	mode := "numeric"
	for _, c := range pin {
		if c < '0' || c > '9' {
			mode = "text"
			break
		}
	}
	return &TxCode{Salt: salt, Hash: txCodeHash(salt, pin), InputMode: mode, Length: len([]rune(pin))}, nil
}

// Verify reports in constant time whether pin is the tx_code.
func (t *TxCode) Verify(pin string) bool {
	if t == nil {
		return false
	}
	return subtle.ConstantTimeCompare(txCodeHash(t.Salt, pin), t.Hash) == 1
}

func txCodeHash(salt []byte, pin string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pin))
	return h.Sum(nil)
}
