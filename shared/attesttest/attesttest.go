// Package attesttest plays the wallet side of HAIP for tests: a wallet provider with its own root CA (and an
// intermediate, so chains are really walked) and a JWKS-published key, the client attestations, proofs of
// possession and key attestations it signs, and wallet keys with the DPoP proofs they sign. Every token is signed
// with jws.Sign; nothing here is used outside tests and test tools.
package attesttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Key is a wallet's (or a provider's) P-256 key pair.
type Key struct {
	Private *ecdsa.PrivateKey
	// Public is the public JWK.
	Public jwk.Key
}

// NewKey generates a P-256 key.
func NewKey(tb testing.TB) *Key {
	tb.Helper()
	k, err := newKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func newKey() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("public jwk: %w", err)
	}
	return &Key{Private: priv, Public: pub}, nil
}

// PublicMap is the public JWK as a JSON object.
func (k *Key) PublicMap() map[string]any {
	b, _ := json.Marshal(k.Public)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// Thumbprint is the base64url RFC 7638 SHA-256 thumbprint of the public key (DPoP's jkt).
func (k *Key) Thumbprint() string {
	tp, _ := k.Public.Thumbprint(crypto.SHA256)
	return base64.RawURLEncoding.EncodeToString(tp)
}

// Sign signs claims with key as a compact JWS under alg (ES256 when empty), with header members added to the
// protected header (typ, jwk, x5c, kid, key_attestation, anything a test needs, also malformed values).
func Sign(tb testing.TB, key crypto.Signer, alg string, header, claims map[string]any) string {
	tb.Helper()
	s, err := sign(key, alg, header, claims)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func sign(key crypto.Signer, alg string, header, claims map[string]any) (string, error) {
	if alg == "" {
		alg = "ES256"
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	hdr := jws.NewHeaders()
	for k, v := range header {
		if m, ok := v.(map[string]any); ok && k == jws.JWKKey {
			// jwx takes the jwk header only as a jwk.Key.
			b, _ := json.Marshal(m)
			key, err := jwk.ParseKey(b)
			if err != nil {
				return "", fmt.Errorf("header jwk: %w", err)
			}
			v = key
		}
		if list, ok := v.([]string); ok && k == jws.X509CertChainKey {
			// ... and x5c only as a cert.Chain.
			var chain cert.Chain
			for _, c := range list {
				_ = chain.AddString(c)
			}
			v = &chain
		}
		if err := hdr.Set(k, v); err != nil {
			return "", fmt.Errorf("header %s: %w", k, err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return string(out), nil
}

// BreakSignature returns jwt with its signature altered, everything else unchanged.
func BreakSignature(jwt string) string {
	i := strings.LastIndexByte(jwt, '.')
	sig, err := base64.RawURLEncoding.DecodeString(jwt[i+1:])
	if err != nil || len(sig) == 0 {
		return jwt + "x"
	}
	sig[len(sig)/2] ^= 0x01
	return jwt[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// Provider is a wallet provider: a root CA, an intermediate CA, a signing certificate under them (attestations it
// signs carry x5c = [signing certificate, intermediate]), and a second signing key published as a JWKS.
type Provider struct {
	// Name is the provider's name (the root's common name).
	Name string
	// Issuer is the iss of what it signs.
	Issuer string
	// Root is the trust anchor.
	Root *x509.Certificate
	// Intermediate is the CA between Root and Leaf.
	Intermediate *x509.Certificate
	// Leaf is the certificate of the x5c signing key.
	Leaf *x509.Certificate
	// JWKSKeyID is the kid of the JWKS key.
	JWKSKeyID string

	leafKey *ecdsa.PrivateKey
	jwksKey *Key
}

// NewProvider makes a provider whose certificates are valid from an hour ago for ten years.
func NewProvider(tb testing.TB, name string) *Provider {
	tb.Helper()
	return NewProviderValid(tb, name, time.Now().Add(-time.Hour), time.Now().Add(10*365*24*time.Hour))
}

// NewProviderValid makes a provider whose certificates are valid from notBefore to notAfter (an expired provider).
func NewProviderValid(tb testing.TB, name string, notBefore, notAfter time.Time) *Provider {
	tb.Helper()
	p, err := newProvider(name, notBefore, notAfter)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func newProvider(name string, notBefore, notAfter time.Time) (*Provider, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := func(cn string, ca bool) *x509.Certificate {
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
		c := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{name}},
			NotBefore: notBefore, NotAfter: notAfter, BasicConstraintsValid: true, IsCA: ca}
		if ca {
			c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		} else {
			c.KeyUsage = x509.KeyUsageDigitalSignature
		}
		return c
	}
	rootT := tmpl(name+" Root CA", true)
	root, err := createCert(rootT, rootT, rootKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	inter, err := createCert(tmpl(name+" Issuing CA", true), root, interKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	leaf, err := createCert(tmpl(name+" Attestation Signer", false), inter, leafKey.Public(), interKey)
	if err != nil {
		return nil, err
	}
	jwksKey, err := newKey()
	if err != nil {
		return nil, err
	}
	kid := jwksKey.Thumbprint()
	_ = jwksKey.Public.Set(jwk.KeyIDKey, kid)
	slug := strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	return &Provider{Name: name, Issuer: "https://" + slug + ".wallet-provider.test", Root: root,
		Intermediate: inter, Leaf: leaf, JWKSKeyID: kid, leafKey: leafKey, jwksKey: jwksKey}, nil
}

func createCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// RootPEM is the root certificate as a PEM file holds it.
func (p *Provider) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw})
}

// JWKS is the provider's JWKS trust file: {"issuer": ..., "keys": [its public key with kid]}.
func (p *Provider) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"issuer": p.Issuer, "keys": []jwk.Key{p.jwksKey.Public}})
	return b
}

// WriteTrustFiles writes RootPEM and JWKS into dir and returns their paths.
func (p *Provider) WriteTrustFiles(tb testing.TB, dir string) (pemPath, jwksPath string) {
	tb.Helper()
	slug := strings.ToLower(strings.ReplaceAll(p.Name, " ", "-"))
	pemPath = filepath.Join(dir, slug+"-root.pem")
	jwksPath = filepath.Join(dir, slug+"-jwks.json")
	if err := os.WriteFile(pemPath, p.RootPEM(), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(jwksPath, p.JWKS(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return pemPath, jwksPath
}

// X5C is the x5c header value of what the provider signs with its certificate.
func (p *Provider) X5C() []string {
	return []string{base64.StdEncoding.EncodeToString(p.Leaf.Raw), base64.StdEncoding.EncodeToString(p.Intermediate.Raw)}
}

// SignWith says which of the provider's keys signs, and how the signer is named in the header.
type SignWith int

const (
	// ByX5C signs with the certificate key and puts the chain in x5c.
	ByX5C SignWith = iota
	// ByJWKS signs with the JWKS key and puts its kid in the header.
	ByJWKS
)

// SignJWT signs claims as the provider, with typ and any extra header members (a nil value removes a member, e.g.
// "kid" or "x5c").
func (p *Provider) SignJWT(tb testing.TB, with SignWith, typ string, header, claims map[string]any) string {
	tb.Helper()
	h := map[string]any{"typ": typ}
	key := p.leafKey
	if with == ByJWKS {
		h["kid"] = p.JWKSKeyID
		key = p.jwksKey.Private
	} else {
		h["x5c"] = p.X5C()
	}
	merge(h, header)
	return Sign(tb, key, "ES256", h, claims)
}

// ClientAttestation are the claims of an OAuth client attestation (a wallet attestation).
type ClientAttestation struct {
	// Sub is the client_id.
	Sub string
	// Instance is the wallet instance key (cnf.jwk).
	Instance *Key
	// IssuedAt and Expires default to now and now + 1 hour.
	IssuedAt, Expires time.Time
	// Extra claims are added (and override the ones above; a nil value removes a claim).
	Extra map[string]any
	// With is the signing key (ByX5C by default).
	With SignWith
}

// ClientAttestationJWT signs a client attestation (typ oauth-client-attestation+jwt).
func (p *Provider) ClientAttestationJWT(tb testing.TB, a ClientAttestation) string {
	a.IssuedAt, a.Expires = lifetime(a.IssuedAt, a.Expires)
	claims := map[string]any{"iss": p.Issuer, "sub": a.Sub, "iat": a.IssuedAt.Unix(), "exp": a.Expires.Unix(),
		"cnf": map[string]any{"jwk": a.Instance.PublicMap()}, "wallet_name": p.Name + " Wallet"}
	merge(claims, a.Extra)
	return p.SignJWT(tb, a.With, "oauth-client-attestation+jwt", nil, claims)
}

// PoP are the claims of a client attestation proof of possession.
type PoP struct {
	// Audience is the authorization server's issuer identifier.
	Audience string
	// ClientID, when set, is put in iss (draft 07; later drafts have no iss).
	ClientID string
	// IssuedAt defaults to now.
	IssuedAt time.Time
	// Extra claims are added (a nil value removes a claim).
	Extra map[string]any
}

// PoPJWT signs a client attestation PoP (typ oauth-client-attestation-pop+jwt) with the instance key.
func PoPJWT(tb testing.TB, instance *Key, p PoP) string {
	if p.IssuedAt.IsZero() {
		p.IssuedAt = time.Now()
	}
	claims := map[string]any{"aud": p.Audience, "jti": randomID(), "iat": p.IssuedAt.Unix()}
	if p.ClientID != "" {
		claims["iss"] = p.ClientID
	}
	merge(claims, p.Extra)
	return Sign(tb, instance.Private, "ES256", map[string]any{"typ": "oauth-client-attestation-pop+jwt"}, claims)
}

// KeyAttestation are the claims of a key attestation (OpenID4VCI 1.0 appendix D.1).
type KeyAttestation struct {
	// Keys are the attested keys.
	Keys []*Key
	// KeyStorage and UserAuthentication are the asserted attack potential resistance values.
	KeyStorage, UserAuthentication []string
	// Nonce is the c_nonce, if any.
	Nonce string
	// IssuedAt and Expires default to now and now + 1 hour.
	IssuedAt, Expires time.Time
	// Extra claims are added (a nil value removes a claim).
	Extra map[string]any
	// With is the signing key (ByX5C by default).
	With SignWith
}

// KeyAttestationJWT signs a key attestation (typ key-attestation+jwt).
func (p *Provider) KeyAttestationJWT(tb testing.TB, a KeyAttestation) string {
	a.IssuedAt, a.Expires = lifetime(a.IssuedAt, a.Expires)
	keys := make([]any, 0, len(a.Keys))
	for _, k := range a.Keys {
		keys = append(keys, k.PublicMap())
	}
	claims := map[string]any{"iss": p.Issuer, "iat": a.IssuedAt.Unix(), "exp": a.Expires.Unix(), "attested_keys": keys}
	if len(a.KeyStorage) > 0 {
		claims["key_storage"] = a.KeyStorage
	}
	if len(a.UserAuthentication) > 0 {
		claims["user_authentication"] = a.UserAuthentication
	}
	if a.Nonce != "" {
		claims["nonce"] = a.Nonce
	}
	merge(claims, a.Extra)
	return p.SignJWT(tb, a.With, "key-attestation+jwt", nil, claims)
}

// DPoP are the claims of a DPoP proof.
type DPoP struct {
	// Method and URL are htm and htu.
	Method, URL string
	// AccessToken, when set, is hashed into ath.
	AccessToken string
	// Nonce is the server nonce, if any.
	Nonce string
	// IssuedAt defaults to now; JTI to a random value.
	IssuedAt time.Time
	JTI      string
	// Header members are added (a nil value removes one, e.g. "jwk").
	Header map[string]any
	// Extra claims are added (a nil value removes a claim).
	Extra map[string]any
}

// DPoPProof signs a DPoP proof with k, its public key in the jwk header.
func (k *Key) DPoPProof(tb testing.TB, d DPoP) string {
	if d.IssuedAt.IsZero() {
		d.IssuedAt = time.Now()
	}
	if d.JTI == "" {
		d.JTI = randomID()
	}
	claims := map[string]any{"jti": d.JTI, "htm": d.Method, "htu": d.URL, "iat": d.IssuedAt.Unix()}
	if d.AccessToken != "" {
		sum := sha256.Sum256([]byte(d.AccessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if d.Nonce != "" {
		claims["nonce"] = d.Nonce
	}
	merge(claims, d.Extra)
	header := map[string]any{"typ": "dpop+jwt", "jwk": k.PublicMap()}
	merge(header, d.Header)
	return Sign(tb, k.Private, "ES256", header, claims)
}

// lifetime defaults an attestation's iat to now and its exp to an hour later.
func lifetime(iat, exp time.Time) (time.Time, time.Time) {
	now := time.Now()
	if iat.IsZero() {
		iat = now
	}
	if exp.IsZero() {
		exp = now.Add(time.Hour)
	}
	return iat, exp
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
