package oid4vci

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

const testIssuer = "https://issuer.example.com"

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// testKey is a holder key with its public JWK members.
type testKey struct {
	alg    string
	signer crypto.Signer
	jwk    map[string]any
}

func newECKey(t testing.TB, curve elliptic.Curve, alg string) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: alg, signer: priv, jwk: publicJWK(t, priv.Public())}
}

func newEdKey(t testing.TB) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: "EdDSA", signer: priv, jwk: publicJWK(t, priv.Public())}
}

func publicJWK(t testing.TB, pub crypto.PublicKey) map[string]any {
	t.Helper()
	k, err := jwk.FromRaw(pub)
	if err != nil {
		t.Fatal(err)
	}
	m, err := keyMap(k)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func privateJWK(t testing.TB, key testKey) map[string]any {
	t.Helper()
	k, err := jwk.FromRaw(key.signer)
	if err != nil {
		t.Fatal(err)
	}
	m, err := keyMap(k)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// signJWT builds a compact JWS from raw header and payload JSON, signed by key with alg.
func signJWT(t testing.TB, key testKey, alg string, header, payload []byte) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	signer, err := jws.NewSigner(jwa.SignatureAlgorithm(alg))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign([]byte(input), key.signer)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// proofParts are the header and claims of a proof JWT under test.
type proofParts struct {
	header map[string]any
	claims map[string]any
}

func goodProofParts(key testKey, nonce string) proofParts {
	return proofParts{
		header: map[string]any{"typ": ProofJWTType, "alg": key.alg, "jwk": key.jwk},
		claims: map[string]any{"aud": testIssuer, "iat": testNow.Unix() - 10, "nonce": nonce},
	}
}

func makeProof(t testing.TB, key testKey, p proofParts) string {
	t.Helper()
	alg, _ := p.header["alg"].(string)
	if alg == "" || alg == "none" || alg[0] == 'H' {
		alg = key.alg
	}
	return signJWT(t, key, alg, mustJSON(t, p.header), mustJSON(t, p.claims))
}

// protocolError asserts err is an *Error with the code and a description in the allowed character set.
func protocolError(t testing.TB, err error, code string) *Error {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not an *Error with code %s", err, err, code)
	}
	if pe.Code != code {
		t.Fatalf("code = %s (%s), want %s", pe.Code, pe.Description, code)
	}
	if pe.Description == "" || !validDescriptionText(pe.Description) {
		t.Fatalf("description %q is empty or outside the allowed ASCII set", pe.Description)
	}
	return pe
}
