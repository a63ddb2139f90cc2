package wallettrust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/attesttest"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
)

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func jwksOf(t *testing.T, members ...map[string]any) []byte {
	t.Helper()
	return mustJSON(t, map[string]any{"keys": members})
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	provider := attesttest.NewProvider(t, "Provider")
	pemPath, jwksPath := provider.WriteTrustFiles(t, dir)
	key := attesttest.NewKey(t)
	pub := key.PublicMap()
	withD := key.PublicMap()
	withD["d"] = "AAAA"
	enc := key.PublicMap()
	enc["use"] = "enc"
	enc["kid"] = "e"
	k1, k2 := key.PublicMap(), attesttest.NewKey(t).PublicMap()
	k1["kid"], k2["kid"] = "same", "same"
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallJWK, _ := jwk.FromRaw(small.Public())
	smallBytes, _ := json.Marshal(smallJWK)
	var smallMap map[string]any
	_ = json.Unmarshal(smallBytes, &smallMap)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyDER, _ := x509.MarshalECPrivateKey(ecKey)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})

	good := []struct {
		name  string
		paths []string
		roots int
		keys  int
	}{
		{"PEM", []string{pemPath}, 1, 0},
		{"JWKS", []string{jwksPath}, 0, 1},
		{"both", []string{pemPath, jwksPath}, 1, 1},
		{"two roots in one file", []string{write(t, dir, "two.pem", append(provider.RootPEM(), attesttest.NewProvider(t, "B").RootPEM()...))}, 2, 0},
		{"one key without kid", []string{write(t, dir, "nokid.json", jwksOf(t, pub))}, 0, 1},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Load(tc.paths)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if a.nRoots != tc.roots || len(a.keys) != tc.keys {
				t.Errorf("roots %d keys %d, want %d %d", a.nRoots, len(a.keys), tc.roots, tc.keys)
			}
			if a.Empty() || !strings.Contains(a.Summary(), "root certificate") {
				t.Errorf("Summary %q", a.Summary())
			}
		})
	}
	bad := []struct {
		name     string
		data     []byte
		contains string
	}{
		{"empty", []byte("  \n"), "is empty"},
		{"neither PEM nor JWKS", []byte("hello"), "neither PEM"},
		{"private key PEM", privPEM, "only CERTIFICATE blocks"},
		{"text after the certificates", append(provider.RootPEM(), []byte("trailing")...), "not a PEM block"},
		{"certificate that does not parse", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}), "does not parse"},
		{"PEM without a certificate", []byte("-----BEGIN nothing"), "holds no PEM certificate"},
		{"JWKS not JSON", []byte("{keys"), "not a valid JWKS"},
		{"JWKS with a repeated member", []byte(`{"keys":[],"keys":[]}`), "repeats a member name"},
		{"JWKS without keys", []byte(`{"keys":[]}`), "without keys"},
		{"JWKS with a private key", jwksOf(t, withD), "private key material"},
		{"JWKS with an encryption key", jwksOf(t, enc), "use sig"},
		{"JWKS keys without kid", jwksOf(t, pub, attesttest.NewKey(t).PublicMap()), "needs one"},
		{"JWKS repeated kid", jwksOf(t, k1, k2), "repeats kid"},
		{"JWKS small RSA key", jwksOf(t, smallMap), "at least 2048"},
		{"JWKS empty issuer", []byte(`{"issuer":" ","keys":[` + string(mustJSON(t, pub)) + `]}`), "empty \"issuer\""},
		{"too large", append([]byte("{"), make([]byte, MaxFileBytes+1)...), "larger than"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, dir, "bad", tc.data)
			_, err := Load([]string{p})
			if err == nil || !strings.Contains(err.Error(), tc.contains) || !strings.Contains(err.Error(), p) {
				t.Errorf("Load = %v, want an error naming the file and containing %q", err, tc.contains)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := Load([]string{filepath.Join(dir, "nope.pem")}); err == nil || !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("Load = %v", err)
		}
	})
	t.Run("expired certificate warns", func(t *testing.T) {
		old := attesttest.NewProviderValid(t, "Old", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
		a, err := Load([]string{write(t, dir, "old.pem", old.RootPEM())})
		if err != nil {
			t.Fatal(err)
		}
		if w := a.Warnings(); len(w) != 1 || !strings.Contains(w[0], "valid only from") {
			t.Errorf("Warnings = %v", w)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	provider := attesttest.NewProvider(t, "Provider")
	pemPath, jwksPath := provider.WriteTrustFiles(t, dir)
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == EnvTrustAnchors {
				return v
			}
			return ""
		}
	}
	a, err := FromEnv(env(""))
	if err != nil || !a.Empty() || a.Summary() != "no wallet provider" {
		t.Errorf("empty: %v %v", a, err)
	}
	a, err = FromEnv(env(" " + pemPath + " , " + jwksPath + ",,"))
	if err != nil || a.nRoots != 1 || len(a.keys) != 1 {
		t.Errorf("two files: %+v %v", a, err)
	}
	if _, err := FromEnv(env(pemPath + "," + filepath.Join(dir, "missing.json"))); err == nil || !strings.Contains(err.Error(), EnvTrustAnchors) {
		t.Errorf("missing file: %v", err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Now()
	provider := attesttest.NewProvider(t, "Provider")
	a := &Anchors{}
	for name, data := range map[string][]byte{"root.pem": provider.RootPEM(), "keys.json": provider.JWKS()} {
		if err := a.Add(name, data); err != nil {
			t.Fatal(err)
		}
	}
	parse := func(tok string) *jwtverify.Token {
		t.Helper()
		pt, err := jwtverify.Parse(tok, jwtverify.Rules{Types: []string{"test+jwt"}})
		if err != nil {
			t.Fatal(err)
		}
		return pt
	}
	claims := map[string]any{"iss": provider.Issuer}
	byX5C := provider.SignJWT(t, attesttest.ByX5C, "test+jwt", nil, claims)
	byKid := provider.SignJWT(t, attesttest.ByJWKS, "test+jwt", nil, claims)
	noKid := provider.SignJWT(t, attesttest.ByJWKS, "test+jwt", map[string]any{"kid": ""}, claims)
	leafOnly := provider.SignJWT(t, attesttest.ByX5C, "test+jwt", map[string]any{"x5c": provider.X5C()[:1]}, claims)
	x5cSignedByJWKSKey := provider.SignJWT(t, attesttest.ByJWKS, "test+jwt", map[string]any{"x5c": provider.X5C()}, claims)
	badX5C := provider.SignJWT(t, attesttest.ByX5C, "test+jwt", map[string]any{"x5c": []string{"bm90IGEgY2VydA=="}}, claims)

	p, err := a.Verify(parse(byX5C), provider.Issuer, now)
	if err != nil || p.Via != "x5c" || p.Name != "Provider Root CA" {
		t.Errorf("x5c: %+v %v", p, err)
	}
	p, err = a.Verify(parse(byKid), provider.Issuer, now)
	if err != nil || p.Via != "jwks" || p.Issuer != provider.Issuer {
		t.Errorf("kid: %+v %v", p, err)
	}
	// An empty kid names no key; a header without kid tries every key of the right type.
	if _, err := a.Verify(parse(noKid), provider.Issuer, now); err == nil {
		t.Error("empty kid accepted")
	}
	for name, tc := range map[string]struct {
		tok, iss string
		at       time.Time
		contains string
	}{
		"chain without its intermediate": {leafOnly, provider.Issuer, now, "does not lead to a trusted root"},
		"x5c that did not sign":          {x5cSignedByJWKSKey, provider.Issuer, now, "signature does not verify"},
		"x5c that is not a certificate":  {badX5C, provider.Issuer, now, "not a DER X.509 certificate"},
		"chain checked at a later time":  {byX5C, provider.Issuer, now.Add(20 * 365 * 24 * time.Hour), "expired"},
		"JWKS key used for another iss":  {byKid, "https://other.example", now, "iss is not the issuer"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := a.Verify(parse(tc.tok), tc.iss, tc.at); err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Verify = %v, want %q", err, tc.contains)
			}
		})
	}
	t.Run("without kid", func(t *testing.T) {
		tok := provider.SignJWT(t, attesttest.ByJWKS, "test+jwt", map[string]any{"kid": nil}, claims)
		if p, err := a.Verify(parse(tok), provider.Issuer, now); err != nil || p.Via != "jwks" {
			t.Errorf("Verify = %+v, %v", p, err)
		}
		other := attesttest.NewProvider(t, "Other").SignJWT(t, attesttest.ByJWKS, "test+jwt", map[string]any{"kid": nil}, claims)
		if _, err := a.Verify(parse(other), provider.Issuer, now); err == nil || !strings.Contains(err.Error(), "neither an x5c chain") {
			t.Errorf("untrusted key without kid: %v", err)
		}
	})
	t.Run("nobody trusted", func(t *testing.T) {
		if _, err := (&Anchors{}).Verify(parse(byX5C), provider.Issuer, now); err == nil || !strings.Contains(err.Error(), EnvTrustAnchors) {
			t.Errorf("Verify = %v", err)
		}
		jwksOnly := &Anchors{}
		if err := jwksOnly.Add("k.json", provider.JWKS()); err != nil {
			t.Fatal(err)
		}
		if _, err := jwksOnly.Verify(parse(byX5C), provider.Issuer, now); err == nil || !strings.Contains(err.Error(), "no root certificate") {
			t.Errorf("x5c without roots: %v", err)
		}
	})
}
