package apigw

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// APIKeys holds the SHA-256 hashes of the admin API keys a deployment accepts; the keys themselves are never kept.
type APIKeys struct {
	hashes [][sha256.Size]byte
}

// NewAPIKeys parses hex SHA-256 hashes (as in ADMIN_API_KEY_HASHES).
func NewAPIKeys(hexHashes ...string) (*APIKeys, error) {
	k := &APIKeys{}
	for i, h := range hexHashes {
		h = strings.TrimSpace(h)
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("admin API key hash #%d is not 64 hex characters of SHA-256", i+1)
		}
		k.hashes = append(k.hashes, [sha256.Size]byte(b))
	}
	return k, nil
}

// HashAPIKey returns the hex SHA-256 of key, the form deployments configure.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Allowed reports whether an Authorization header value carries an accepted key, comparing in constant time
// against every configured hash.
func (k *APIKeys) Allowed(authorization string) bool {
	if k == nil || len(k.hashes) == 0 {
		return false
	}
	scheme, key, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "ApiKey") {
		return false
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	match := 0
	for _, h := range k.hashes {
		match |= subtle.ConstantTimeCompare(sum[:], h[:])
	}
	return match == 1
}
