package oid4vci

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
)

// requestKeys are the issuer's request encryption keys by kid, as shared/requestkeys.Ring finds them.
type requestKeys map[string]*ecdsa.PrivateKey

func (k requestKeys) PrivateKey(_ context.Context, kid string) (*ecdsa.PrivateKey, error) {
	if p, ok := k[kid]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("kid %q: %w", kid, ErrUnknownRequestKey)
}

// encryptRequest is a wallet's encrypted request: plaintext as a compact JWE to pub with the header members given
// (alg ECDH-ES and enc A128GCM unless set; zip DEF compresses).
func encryptRequest(t testing.TB, plaintext []byte, pub *ecdsa.PublicKey, header map[string]any) []byte {
	t.Helper()
	alg, enc := jwa.ECDH_ES, jwa.A128GCM
	hdr := jwe.NewHeaders()
	var opts []jwe.EncryptOption
	for k, v := range header {
		switch k {
		case "alg":
			alg = jwa.KeyEncryptionAlgorithm(v.(string))
		case "enc":
			enc = jwa.ContentEncryptionAlgorithm(v.(string))
		case "zip":
			opts = append(opts, jwe.WithCompress(jwa.Deflate))
		default:
			if err := hdr.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	opts = append(opts, jwe.WithKey(alg, pub), jwe.WithContentEncryption(enc), jwe.WithProtectedHeaders(hdr), jwe.WithCompact())
	out, err := jwe.Encrypt(plaintext, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecryptRequest: what an encrypted credential request may be, and every way it is refused with
// invalid_encryption_parameters. A compressed plaintext is inflated only up to MaxCredentialRequestBytes: a
// decompression bomb (a few KiB that inflate to megabytes) is refused saying so, not taken for a key mismatch
// (docs/security.md, "Decompression bomb").
func TestDecryptRequest(t *testing.T) {
	issuer, _ := encryptionKey(t)
	stranger, _ := encryptionKey(t)
	keys := requestKeys{"req-1-a": issuer}
	body := requestWithEncryption(t, nil)
	bomb := append([]byte(`{"padding":"`), bytes.Repeat([]byte{' '}, 4*MaxCredentialRequestBytes)...)
	bomb = append(bomb, `"}`...)
	cases := []struct {
		name     string
		jwe      []byte
		want     []byte
		contains string
	}{
		{name: "plain", jwe: encryptRequest(t, body, &issuer.PublicKey, map[string]any{"kid": "req-1-a"}), want: body},
		{name: "A256GCM and zip", jwe: encryptRequest(t, body, &issuer.PublicKey, map[string]any{"kid": "req-1-a", "enc": "A256GCM", "zip": "DEF"}), want: body},
		{name: "decompression bomb", jwe: encryptRequest(t, bomb, &issuer.PublicKey, map[string]any{"kid": "req-1-a", "zip": "DEF"}),
			contains: fmt.Sprintf("larger than %d bytes once decompressed", MaxCredentialRequestBytes)},
		{name: "key wrapping alg", jwe: encryptRequest(t, body, &issuer.PublicKey, map[string]any{"kid": "req-1-a", "alg": "ECDH-ES+A128KW"}), contains: "alg is not supported"},
		{name: "CBC enc", jwe: encryptRequest(t, body, &issuer.PublicKey, map[string]any{"kid": "req-1-a", "enc": "A128CBC-HS256"}), contains: "enc is not supported"},
		{name: "no kid", jwe: encryptRequest(t, body, &issuer.PublicKey, nil), contains: "has no kid"},
		{name: "foreign kid", jwe: encryptRequest(t, body, &issuer.PublicKey, map[string]any{"kid": "someone-elses"}), contains: "names no current key"},
		{name: "right kid, other key", jwe: encryptRequest(t, body, &stranger.PublicKey, map[string]any{"kid": "req-1-a"}), contains: "does not decrypt"},
		{name: "crit", jwe: encryptRequest(t, body, &issuer.PublicKey, map[string]any{"kid": "req-1-a", "crit": []string{"exp"}}), contains: "crit"},
		{name: "nested JWT", jwe: encryptRequest(t, []byte("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"), &issuer.PublicKey, map[string]any{"kid": "req-1-a"}), contains: "nested JWT"},
		{name: "not a JWE", jwe: []byte(`{"credential_configuration_id":"x"}`), contains: "compact JWE"},
		{name: "too large", jwe: bytes.Repeat([]byte("a"), MaxCredentialRequestBytes+1), contains: "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecryptRequest(context.Background(), tc.jwe, keys)
			if tc.contains == "" {
				if err != nil || !bytes.Equal(got, tc.want) {
					t.Fatalf("DecryptRequest = %s, %v", got, err)
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) || oe.Code != ErrInvalidEncryptionParameters || !strings.Contains(oe.Description, tc.contains) {
				t.Fatalf("DecryptRequest: %v, want invalid_encryption_parameters containing %q", err, tc.contains)
			}
		})
	}
}
