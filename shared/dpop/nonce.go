package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Server nonces (RFC 9449 section 8) without server state: a nonce is the time it was issued and an HMAC of that
// time under a key every container of the deployment shares, so any container accepts what another issued, no
// nonce is written anywhere, and a nonce is good for NonceLifetime. What a nonce buys - a proof cannot be made
// ahead of time for later use - holds as long as the key is secret; within its lifetime one nonce serves every
// proof of every wallet, and replay within that window is what the jti memory is for.

// DefaultNonceLifetime is how long a nonce is accepted when NewNonces gets zero.
const DefaultNonceLifetime = 5 * time.Minute

// MinNonceKeyBytes is the shortest nonce key accepted.
const MinNonceKeyBytes = 32

// nonceClockSkew tolerates issuers (other containers) whose clocks run ahead of this one.
const nonceClockSkew = 30 * time.Second

const (
	nonceVersion = 1
	nonceMACSize = 16
	nonceSize    = 1 + 8 + nonceMACSize
)

// nonceLabel separates the nonce MAC from anything else the key might be used for.
var nonceLabel = []byte("sdjwt-issuer dpop-nonce")

// Errors of Nonces.Check; both make the request fail with use_dpop_nonce and a fresh DPoP-Nonce.
var (
	// ErrNonceInvalid is a nonce this deployment did not issue (or issued under a retired key).
	ErrNonceInvalid = errors.New("the DPoP nonce was not issued by this server")
	// ErrNonceExpired is a nonce older than its lifetime.
	ErrNonceExpired = errors.New("the DPoP nonce has expired")
)

// Nonces issues and checks server nonces.
type Nonces struct {
	keys     [][]byte
	lifetime time.Duration
}

// NewNonces returns nonces good for lifetime (DefaultNonceLifetime when zero) under keys: the first key issues,
// every key is accepted (rotation: put the new key first, keep the old one for one lifetime).
func NewNonces(lifetime time.Duration, keys ...[]byte) (*Nonces, error) {
	if len(keys) == 0 {
		return nil, errors.New("dpop nonces: no key")
	}
	for i, k := range keys {
		if len(k) < MinNonceKeyBytes {
			return nil, fmt.Errorf("dpop nonces: key %d has %d bytes, at least %d are needed", i+1, len(k), MinNonceKeyBytes)
		}
	}
	if lifetime <= 0 {
		lifetime = DefaultNonceLifetime
	}
	return &Nonces{keys: keys, lifetime: lifetime}, nil
}

// KeyFrom derives a nonce key from a deployment secret that has other uses (the c_nonce key, NONCE_KEY): the
// HMAC-SHA256 of a label of its own under the secret, so the nonce MAC never runs under the very bytes another
// primitive uses, and neither key says anything of the other. One secret for both keeps the operator's work (and
// the stack's generated secrets) at one.
func KeyFrom(secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("sdjwt-issuer DPoP server nonce key"))
	return h.Sum(nil)
}

// Lifetime is how long a nonce is accepted.
func (n *Nonces) Lifetime() time.Duration { return n.lifetime }

// Issue returns a nonce issued at now.
func (n *Nonces) Issue(now time.Time) string {
	var buf [nonceSize]byte
	buf[0] = nonceVersion
	binary.BigEndian.PutUint64(buf[1:9], uint64(now.Unix()))
	copy(buf[9:], mac(n.keys[0], buf[:9]))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

// Check accepts a nonce issued by a key of n within its lifetime before now.
func (n *Nonces) Check(nonce string, now time.Time) error {
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceSize {
		return ErrNonceInvalid
	}
	buf, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(buf) != nonceSize || buf[0] != nonceVersion {
		return ErrNonceInvalid
	}
	ok := false
	for _, k := range n.keys {
		if hmac.Equal(buf[9:], mac(k, buf[:9])) {
			ok = true
		}
	}
	if !ok {
		return ErrNonceInvalid
	}
	ts := binary.BigEndian.Uint64(buf[1:9])
	if ts > 1<<40 {
		return ErrNonceInvalid
	}
	issued := time.Unix(int64(ts), 0)
	if issued.After(now.Add(nonceClockSkew)) {
		return ErrNonceInvalid
	}
	if !now.Before(issued.Add(n.lifetime)) {
		return ErrNonceExpired
	}
	return nil
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(nonceLabel)
	h.Write(msg)
	return h.Sum(nil)[:nonceMACSize]
}
