// Package wallettrust holds the parties the issuer trusts to sign what others send it: by default the wallet
// providers that vouch for wallets (WALLET_TRUST_ANCHORS), and, in the same form, the credential issuers whose
// credentials holders may present (ISSUER_TRUST_ANCHORS, FromEnvFor). For wallet providers: their root certificates,
// to which the x5c chain of a client attestation or key attestation must lead, and their published keys (JWKS).
// The configuration is a list of files (WALLET_TRUST_ANCHORS: comma-separated paths), each either
//
//   - PEM: one or more CERTIFICATE blocks and nothing else; every certificate is a trust anchor (normally a
//     provider's root CA; a provider's signing certificate itself may be pinned the same way), or
//   - a JWKS (RFC 7517 section 5): {"keys": [public JWKs]}, optionally with "issuer": the iss that attestations
//     signed by these keys must carry. A file with more than one key needs a kid on each; attestations name the
//     key by kid (or, without kid, any key of the right type is tried).
//
// Files are read and checked once per cold start: a file that cannot be read or parsed stops the function with a
// message naming the file and the problem. Certificate revocation (CRLs, OCSP) and attestation status lists are not
// checked.
package wallettrust

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// EnvTrustAnchors is the environment variable listing the trust files of wallet providers.
const EnvTrustAnchors = "WALLET_TRUST_ANCHORS"

// EnvIssuerTrustAnchors is the environment variable listing the trust files of credential issuers (API.md:
// the same form as WALLET_TRUST_ANCHORS).
const EnvIssuerTrustAnchors = "ISSUER_TRUST_ANCHORS"

// Party names who is trusted, for messages: the variable that lists the files and what the parties are.
type Party struct {
	Env  string
	Noun string
}

// WalletProviders and CredentialIssuers are the two kinds of trusted parties.
var (
	WalletProviders   = Party{Env: EnvTrustAnchors, Noun: "wallet provider"}
	CredentialIssuers = Party{Env: EnvIssuerTrustAnchors, Noun: "credential issuer"}
)

// MaxFileBytes bounds one trust file.
const MaxFileBytes = 1 << 20

// maxKeysTried bounds the JWKS keys tried for an attestation without kid.
const maxKeysTried = 16

// Anchors are the trusted parties (wallet providers unless loaded with FromEnvFor). The zero value trusts nobody.
type Anchors struct {
	party    Party
	roots    *x509.CertPool
	nRoots   int
	keys     []trustedKey
	warnings []string
}

type trustedKey struct {
	kid    string
	issuer string
	source string
	key    *jwtverify.PublicKey
}

// Provider is who vouched for an attestation.
type Provider struct {
	// Name is the root certificate's subject (x5c) or the JWKS issuer or file and kid.
	Name string
	// Issuer is the iss the JWKS file requires, if any.
	Issuer string
	// Via is "x5c" or "jwks".
	Via string
	// Key is the public key that verified the signature (the x5c leaf's, or the JWKS key).
	Key crypto.PublicKey
	// Chain is the verified x5c chain, signer first (nil for a JWKS key).
	Chain []*x509.Certificate
}

// New returns empty anchors of party (Add fills them).
func New(party Party) *Anchors { return &Anchors{party: party} }

// FromEnv loads the files named by WALLET_TRUST_ANCHORS (empty: nobody is trusted).
func FromEnv(getenv func(string) string) (*Anchors, error) {
	return FromEnvFor(getenv, WalletProviders)
}

// FromEnvFor loads the files named by the party's variable (empty: nobody is trusted).
func FromEnvFor(getenv func(string) string, party Party) (*Anchors, error) {
	v := strings.TrimSpace(getenv(party.Env))
	if v == "" {
		return &Anchors{party: party}, nil
	}
	var paths []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	a, err := LoadFor(paths, party)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", party.Env, err)
	}
	return a, nil
}

// Load reads and checks every file of wallet providers; the error names each bad file.
func Load(paths []string) (*Anchors, error) { return LoadFor(paths, WalletProviders) }

// LoadFor reads and checks every file of party; the error names each bad file.
func LoadFor(paths []string, party Party) (*Anchors, error) {
	a := &Anchors{party: party}
	var errs []error
	for _, p := range paths {
		data, err := readFile(p)
		if err == nil {
			err = a.Add(filepath.Base(p), data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("is larger than %d bytes", MaxFileBytes)
	}
	return data, nil
}

// Add adds the anchors of one file's content (PEM certificates or a JWKS); name is used in messages.
func (a *Anchors) Add(name string, data []byte) error {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return errors.New("is empty: put PEM root certificates or a JWKS in it")
	case trimmed[0] == '{':
		return a.addJWKS(name, trimmed)
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return a.addPEM(name, trimmed)
	}
	return errors.New("is neither PEM (-----BEGIN CERTIFICATE-----) nor a JWKS ({\"keys\": [...]})")
}

func (a *Anchors) addPEM(name string, data []byte) error {
	rest := data
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a PEM block of type %q: only CERTIFICATE blocks belong in a trust file (never a private key)", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("certificate %d does not parse: %w", n+1, err)
		}
		if a.roots == nil {
			a.roots = x509.NewCertPool()
		}
		a.roots.AddCert(c)
		a.nRoots++
		n++
		now := time.Now()
		if now.After(c.NotAfter) || now.Before(c.NotBefore) {
			a.warnings = append(a.warnings, fmt.Sprintf("%s: certificate %q is valid only from %s to %s",
				name, c.Subject.String(), c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339)))
		}
	}
	if n == 0 {
		return errors.New("holds no PEM certificate")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return errors.New("has text that is not a PEM block after the certificates")
	}
	return nil
}

func (a *Anchors) addJWKS(name string, data []byte) error {
	var set struct {
		Issuer *string          `json:"issuer"`
		Keys   []jsontext.Value `json:"keys"`
	}
	if err := strictjson.Unmarshal(data, &set); err != nil {
		return fmt.Errorf("is not a valid JWKS: %w", err)
	}
	if len(set.Keys) == 0 {
		return errors.New("is a JWKS without keys")
	}
	issuer := ""
	if set.Issuer != nil {
		if issuer = strings.TrimSpace(*set.Issuer); issuer == "" {
			return errors.New(`has an empty "issuer": remove it or set the iss the provider's attestations carry`)
		}
	}
	seen := map[string]bool{}
	for i, raw := range set.Keys {
		var meta struct {
			Kid *string `json:"kid"`
			Use *string `json:"use"`
		}
		if err := strictjson.Unmarshal(raw, &meta); err != nil {
			return fmt.Errorf("key %d: %w", i+1, err)
		}
		if meta.Use != nil && *meta.Use != "sig" {
			return fmt.Errorf("key %d has use %q: only signing keys (use sig) belong in a trust file", i+1, *meta.Use)
		}
		kid := ""
		if meta.Kid != nil {
			kid = *meta.Kid
		}
		if kid == "" && len(set.Keys) > 1 {
			return fmt.Errorf("key %d has no kid: every key of a JWKS with several keys needs one", i+1)
		}
		if seen[kid] {
			return fmt.Errorf("key %d repeats kid %q", i+1, kid)
		}
		seen[kid] = true
		pub, err := jwtverify.ParsePublicJWK(raw, "", fmt.Sprintf("key %d", i+1))
		if err != nil {
			return err
		}
		a.keys = append(a.keys, trustedKey{kid: kid, issuer: issuer, source: name, key: pub})
	}
	return nil
}

// Empty reports whether nobody is trusted.
func (a *Anchors) Empty() bool { return a == nil || (a.nRoots == 0 && len(a.keys) == 0) }

// Summary says what is trusted, for the cold start log line (no key material).
func (a *Anchors) Summary() string {
	if a.Empty() {
		return "no " + a.who().Noun
	}
	return fmt.Sprintf("%d root certificate(s), %d JWKS key(s)", a.nRoots, len(a.keys))
}

// Warnings are findings that do not stop the function (certificates outside their validity).
func (a *Anchors) Warnings() []string {
	if a == nil {
		return nil
	}
	return a.warnings
}

// Verify finds the trusted provider that signed tok and checks the signature: an x5c chain to a trusted root, valid
// at now, whose first certificate's key verifies it; else the JWKS key its kid names (or, without kid, a JWKS key
// of the right type that verifies it). iss is the token's iss claim, compared with the JWKS file's issuer when it
// names one. Failures are *jwtverify.Error.
func (a *Anchors) Verify(tok *jwtverify.Token, iss string, now time.Time) (*Provider, error) {
	if a.Empty() {
		return nil, jwtverify.Errorf("%s cannot be checked: this issuer trusts no %s (%s is empty)", tok.What(), a.who().Noun, a.who().Env)
	}
	chain, hasX5C, err := tok.X5C()
	if err != nil {
		return nil, err
	}
	if hasX5C {
		return a.verifyChain(tok, chain, now)
	}
	kid, hasKid, err := tok.String("kid")
	if err != nil {
		return nil, err
	}
	tried := 0
	for _, k := range a.keys {
		if hasKid && k.kid != kid {
			continue
		}
		if !hasKid && (jwtverify.KeyFitsAlg(k.key.Raw, tok.Alg) != nil || tried >= maxKeysTried) {
			continue
		}
		tried++
		if err := tok.Verify(k.key.Raw); err != nil {
			if hasKid {
				return nil, err
			}
			continue
		}
		if k.issuer != "" && iss != k.issuer {
			return nil, jwtverify.Errorf("%s iss is not the issuer the trusted %s's keys are configured for", tok.What(), a.who().Noun)
		}
		name := k.issuer
		if name == "" {
			name = k.source + "#" + k.kid
		}
		return &Provider{Name: name, Issuer: k.issuer, Via: "jwks", Key: k.key.Raw}, nil
	}
	if hasKid {
		return nil, jwtverify.Errorf("%s is not signed by a trusted %s: no trusted key has its kid", tok.What(), a.who().Noun)
	}
	return nil, jwtverify.Errorf("%s is not signed by a trusted %s: it has neither an x5c chain to a trusted root nor a signature by a trusted key", tok.What(), a.who().Noun)
}

// who is the party of a (wallet providers for the zero value and Load).
func (a *Anchors) who() Party {
	if a == nil || a.party.Env == "" {
		return WalletProviders
	}
	return a.party
}

func (a *Anchors) verifyChain(tok *jwtverify.Token, chain []*x509.Certificate, now time.Time) (*Provider, error) {
	if a.roots == nil {
		return nil, jwtverify.Errorf("%s is not signed by a trusted %s: no root certificate is trusted for x5c chains", tok.What(), a.who().Noun)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{Roots: a.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return nil, jwtverify.Errorf("%s x5c chain holds a certificate that has expired or is not valid yet", tok.What())
		}
		return nil, jwtverify.Errorf("%s is not signed by a trusted %s: its x5c chain does not lead to a trusted root certificate", tok.What(), a.who().Noun)
	}
	if ku := chain[0].KeyUsage; ku != 0 && ku&x509.KeyUsageDigitalSignature == 0 {
		return nil, jwtverify.Errorf("%s x5c signing certificate is not for digital signatures (key usage)", tok.What())
	}
	if err := tok.Verify(chain[0].PublicKey); err != nil {
		return nil, err
	}
	root := chains[0][len(chains[0])-1]
	name := root.Subject.CommonName
	if name == "" {
		name = root.Subject.String()
	}
	return &Provider{Name: name, Via: "x5c", Key: chain[0].PublicKey, Chain: chains[0]}, nil
}
