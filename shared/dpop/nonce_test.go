package dpop

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestNonces(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	n, err := NewNonces(5*time.Minute, testNonceKey)
	if err != nil {
		t.Fatal(err)
	}
	fresh := n.Issue(now)
	rotated, err := NewNonces(5*time.Minute, []byte("the new key, thirty-two bytes...."), testNonceKey)
	if err != nil {
		t.Fatal(err)
	}
	retired, err := NewNonces(5*time.Minute, []byte("the new key, thirty-two bytes...."))
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(fresh)
	flipped[len(flipped)-1] ^= 1
	cases := []struct {
		name  string
		n     *Nonces
		nonce string
		at    time.Time
		want  error
	}{
		{"fresh", n, fresh, now, nil},
		{"near its end", n, fresh, now.Add(5*time.Minute - time.Second), nil},
		{"expired", n, fresh, now.Add(5 * time.Minute), ErrNonceExpired},
		{"from a clock slightly ahead", n, n.Issue(now.Add(20 * time.Second)), now, nil},
		{"from the far future", n, n.Issue(now.Add(time.Hour)), now, ErrNonceInvalid},
		{"altered", n, string(flipped), now, ErrNonceInvalid},
		{"empty", n, "", now, ErrNonceInvalid},
		{"not base64url", n, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", now, ErrNonceInvalid},
		{"too long", n, fresh + "AAAA", now, ErrNonceInvalid},
		{"old key still accepted after rotation", rotated, fresh, now, nil},
		{"retired key", retired, fresh, now, ErrNonceInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.n.Check(tc.nonce, tc.at); !errors.Is(err, tc.want) {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
	if rotated.Issue(now) == fresh {
		t.Error("a rotated key issues the same nonces as the old one")
	}
}

func TestNewNoncesRefusesShortKeys(t *testing.T) {
	if _, err := NewNonces(0); err == nil {
		t.Error("no key accepted")
	}
	if _, err := NewNonces(0, []byte("short")); err == nil {
		t.Error("short key accepted")
	}
	n, err := NewNonces(0, testNonceKey)
	if err != nil || n.Lifetime() != DefaultNonceLifetime {
		t.Errorf("default lifetime %v, %v", n.Lifetime(), err)
	}
}

// TestKeyFrom: the derived key is 32 bytes, fixed for a secret, other for another secret, never the secret itself,
// and good for NewNonces.
func TestKeyFrom(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ka := KeyFrom(a)
	if len(ka) != 32 || !bytes.Equal(ka, KeyFrom(a)) || bytes.Equal(ka, KeyFrom(b)) || bytes.Equal(ka, a) {
		t.Fatalf("KeyFrom: %x (of %x), %x (of %x)", ka, a, KeyFrom(b), b)
	}
	if _, err := NewNonces(0, ka); err != nil {
		t.Fatal(err)
	}
}
