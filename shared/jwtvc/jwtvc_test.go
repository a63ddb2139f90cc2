package jwtvc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// kmsLikeSigner signs as the KMS adapter does: only a SHA-256 digest named by its options; it counts calls.
type kmsLikeSigner struct {
	key   *ecdsa.PrivateKey
	kid   string
	calls int
}

func (s *kmsLikeSigner) KeyID() string                              { return s.kid }
func (s *kmsLikeSigner) CryptoSigner(context.Context) crypto.Signer { return s }
func (s *kmsLikeSigner) Public() crypto.PublicKey                   { return &s.key.PublicKey }
func (s *kmsLikeSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 || len(digest) != 32 {
		return nil, errors.New("want a SHA-256 digest")
	}
	s.calls++
	return s.key.Sign(r, digest, opts)
}

func newSigner(t testing.TB) (*kmsLikeSigner, jwk.Set) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := jwk.FromRaw(&key.PublicKey)
	_ = pub.Set(jwk.KeyIDKey, "issuer-key-1")
	_ = pub.Set(jwk.AlgorithmKey, jwa.ES256)
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	return &kmsLikeSigner{key: key, kid: "issuer-key-1"}, set
}

func holderKey(t testing.TB) jwk.Key {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := jwk.FromRaw(&key.PublicKey)
	_ = pub.Set(jwk.KeyIDKey, "wallet-extra-member")
	return pub
}

func credential(t testing.TB) Credential {
	now := time.Now().Add(-time.Minute)
	return Credential{
		Issuer:    "https://issuer.example",
		Types:     []string{"VerifiableCredential", "EmployeeID"},
		IssuedAt:  now,
		Expiry:    now.Add(24 * time.Hour),
		HolderKey: holderKey(t),
		Status:    &StatusReference{Index: 7, URI: "https://issuer.example/status-lists/1"},
		Subject: map[string]any{
			"given_name": "Erika",
			"address":    map[string]any{"locality": "Berlin"},
			"roles":      []any{"a", "b"},
		},
	}
}

func decodePart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIssueVerify(t *testing.T) {
	s, keys := newSigner(t)
	c := credential(t)
	token, err := Issue(context.Background(), s, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.calls != 1 {
		t.Errorf("signatures = %d, want 1", s.calls)
	}
	v, err := Verify(token, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if v.Subject["given_name"] != "Erika" || v.Types[1] != "EmployeeID" {
		t.Errorf("subject %v types %v", v.Subject, v.Types)
	}
	if !jwk.Equal(v.HolderKey, c.HolderKey) {
		t.Error("cnf.jwk is not the holder key")
	}
	if v.Status == nil || *v.Status != *c.Status {
		t.Errorf("status %+v", v.Status)
	}
}

// TestLayout reads the JWT as a VCDM 1.1 processor and an OID4VCI wallet would, without this package.
func TestLayout(t *testing.T) {
	s, _ := newSigner(t)
	c := credential(t)
	token, err := Issue(context.Background(), s, c)
	if err != nil {
		t.Fatal(err)
	}
	hdr, p := decodePart(t, token, 0), decodePart(t, token, 1)
	if hdr["alg"] != "ES256" || hdr["kid"] != "issuer-key-1" || hdr["typ"] != "JWT" || len(hdr) != 3 {
		t.Errorf("header = %v", hdr)
	}
	vc := p["vc"].(map[string]any)
	ctx := vc["@context"].([]any)
	if len(ctx) != 1 || ctx[0] != "https://www.w3.org/2018/credentials/v1" {
		t.Errorf("@context = %v, want VCDM 1.1", ctx)
	}
	if p["iss"] != c.Issuer || vc["issuer"] != c.Issuer {
		t.Errorf("iss %v vc.issuer %v", p["iss"], vc["issuer"])
	}
	if id, _ := p["jti"].(string); !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) || vc["id"] != id {
		t.Errorf("jti %v vc.id %v, want one urn:uuid v4", p["jti"], vc["id"])
	}
	issued := c.IssuedAt.UTC().Truncate(time.Second)
	if p["nbf"] != float64(issued.Unix()) || p["iat"] != float64(issued.Unix()) || vc["issuanceDate"] != issued.Format(time.RFC3339) {
		t.Errorf("nbf %v iat %v issuanceDate %v", p["nbf"], p["iat"], vc["issuanceDate"])
	}
	exp := c.Expiry.UTC().Truncate(time.Second)
	if p["exp"] != float64(exp.Unix()) || vc["expirationDate"] != exp.Format(time.RFC3339) {
		t.Errorf("exp %v expirationDate %v", p["exp"], vc["expirationDate"])
	}
	// Holder binding: cnf.jwk holds only the key's own members; sub and credentialSubject.id are its did:jwk.
	cnf := p["cnf"].(map[string]any)["jwk"].(map[string]any)
	if _, extra := cnf["kid"]; extra || len(cnf) != 4 {
		t.Errorf("cnf.jwk = %v, want kty, crv, x, y only", cnf)
	}
	subject := vc["credentialSubject"].(map[string]any)
	did, _ := p["sub"].(string)
	if subject["id"] != did || !strings.HasPrefix(did, "did:jwk:") {
		t.Fatalf("sub %v credentialSubject.id %v", p["sub"], subject["id"])
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(did, "did:jwk:"))
	resolved, err := jwk.ParseKey(raw)
	if err != nil || !jwk.Equal(resolved, c.HolderKey) {
		t.Errorf("did:jwk does not resolve to the holder key: %v", err)
	}
	// Status: the IETF claim, and credentialStatus naming the same entry.
	status := p["status"].(map[string]any)["status_list"].(map[string]any)
	if status["idx"] != float64(7) || status["uri"] != c.Status.URI {
		t.Errorf("status = %v", status)
	}
	cs := vc["credentialStatus"].(map[string]any)
	if cs["id"] != c.Status.URI+"#7" || cs["type"] != "TokenStatusList" || cs["status_list"].(map[string]any)["idx"] != float64(7) {
		t.Errorf("credentialStatus = %v", cs)
	}
}

func TestUnboundWithoutStatus(t *testing.T) {
	s, keys := newSigner(t)
	c := credential(t)
	c.HolderKey, c.Status, c.Expiry = nil, nil, time.Time{}
	token, err := Issue(context.Background(), s, c)
	if err != nil {
		t.Fatal(err)
	}
	p := decodePart(t, token, 1)
	for _, k := range []string{"sub", "cnf", "status", "exp"} {
		if _, ok := p[k]; ok {
			t.Errorf("%s present", k)
		}
	}
	vc := p["vc"].(map[string]any)
	for _, k := range []string{"credentialStatus", "expirationDate"} {
		if _, ok := vc[k]; ok {
			t.Errorf("vc.%s present", k)
		}
	}
	if _, err := Verify(token, keys, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestIssueRefuses(t *testing.T) {
	s, _ := newSigner(t)
	cases := map[string]func(*Credential){
		"no issuer":        func(c *Credential) { c.Issuer = "" },
		"no vc type":       func(c *Credential) { c.Types = []string{"EmployeeID"} },
		"empty type":       func(c *Credential) { c.Types = []string{"VerifiableCredential", ""} },
		"repeated type":    func(c *Credential) { c.Types = []string{"VerifiableCredential", "VerifiableCredential"} },
		"no issuance time": func(c *Credential) { c.IssuedAt = time.Time{} },
		"expiry before":    func(c *Credential) { c.Expiry = c.IssuedAt.Add(-time.Hour) },
		"subject id":       func(c *Credential) { c.Subject["id"] = "did:example:x" },
		"negative status":  func(c *Credential) { c.Status.Index = -1 },
		"nan claim":        func(c *Credential) { c.Subject["n"] = math.NaN() },
		"status no uri":    func(c *Credential) { c.Status.URI = "" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := credential(t)
			mutate(&c)
			_, err := Issue(context.Background(), s, c)
			if !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("err = %v, want ErrInvalidCredential", err)
			}
			if strings.Contains(err.Error(), "Erika") {
				t.Errorf("error %q carries a claim value", err)
			}
		})
	}
	if s.calls != 0 {
		t.Errorf("refused credentials cost %d signatures", s.calls)
	}
}

func TestVerifyRefuses(t *testing.T) {
	s, keys := newSigner(t)
	c := credential(t)
	token, err := Issue(context.Background(), s, c)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKeys := newSigner(t)
	if _, err := Verify(token, otherKeys, time.Now()); !errors.Is(err, ErrSignature) {
		t.Errorf("other issuer: err = %v", err)
	}
	if _, err := Verify(token, keys, c.Expiry.Add(time.Hour)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired: err = %v", err)
	}
	if _, err := Verify(token, keys, c.IssuedAt.Add(-time.Hour)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("not yet valid: err = %v", err)
	}
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"x"}`))
	if _, err := Verify(strings.Join(parts, "."), keys, time.Now()); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered: err = %v", err)
	}
}
