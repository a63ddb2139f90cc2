package sdjwt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
)

// Signer is the issuer's signing key as sdjwt needs it: a keys.Signer (the KMS key or a local P-256 key), through
// which keys.SignJWS signs the issuer-signed JWT with jws.Sign.
type Signer = keys.Signer

// Format is the SD-JWT VC media type carried in the JWS typ header.
type Format string

const (
	// FormatDCSDJWT is the current SD-JWT VC type (OID4VCI 1.0).
	FormatDCSDJWT Format = "dc+sd-jwt"
	// FormatVCSDJWT is the type of SD-JWT VC drafts before 06, as OID4VCI draft 13 wallets expect.
	FormatVCSDJWT Format = "vc+sd-jwt"
)

// StatusReference points at the credential's entry in a Token Status List.
type StatusReference struct {
	// Index is the credential's index in the list (idx).
	Index int64
	// URI is the status list token's URI (uri).
	URI string
}

// VC is an SD-JWT VC to issue.
type VC struct {
	// Issuer is the iss claim, the credential issuer identifier.
	Issuer string
	// Type is the vct claim.
	Type string
	// TypeIntegrity is the vct#integrity claim (an SRI string over the type metadata document); empty omits it.
	TypeIntegrity string
	// IssuedAt is iat; required.
	IssuedAt time.Time
	// NotBefore is nbf; zero omits it.
	NotBefore time.Time
	// Expiry is exp; zero omits it.
	Expiry time.Time
	// HolderKey is the holder's public key placed in cnf.jwk; nil omits cnf.
	HolderKey jwk.Key
	// Status is the status list reference; nil omits status.
	Status *StatusReference
	// Claims are the credential subject's claims, as decoded from JSON.
	Claims map[string]any
	// Policy says which claims are selectively disclosable; nil issues every claim in the clear.
	Policy *Policy
}

// Issued is an issued SD-JWT VC.
type Issued struct {
	// SDJWT is the compact serialization JWT~D1~...~Dn~.
	SDJWT string
	// JWT is the issuer-signed JWT alone.
	JWT string
	// Disclosures are the credential's disclosures in the order of SDJWT.
	Disclosures []Disclosure
}

// SaltSource supplies disclosure salts, for reproducible test vectors. The issuer asks for salts
// in the order it creates disclosures: depth first, object members in sorted name order, array
// elements in index order, a disclosable value's own nested disclosures before the value itself.
type SaltSource interface {
	// NextSalt returns the next salt as it appears in the disclosure (base64url of 16+ random bytes).
	NextSalt() (string, error)
}

// Option configures IssueVC.
type Option func(*issueConfig)

type issueConfig struct {
	format     Format
	rand       io.Reader
	salts      SaltSource
	decoysMin  int
	decoysMax  int
	spacedJSON bool
}

// Default number of decoy digests per _sd array: drawn uniformly from [DefaultMinDecoys,
// DefaultMaxDecoys] with crypto/rand, so the array length does not reveal the claim count.
const (
	DefaultMinDecoys = 1
	DefaultMaxDecoys = 3
	maxDecoys        = 64
)

// WithFormat sets the typ header (FormatDCSDJWT by default).
func WithFormat(f Format) Option { return func(c *issueConfig) { c.format = f } }

// WithRand replaces crypto/rand as the source of salts and decoys (tests and vectors only).
func WithRand(r io.Reader) Option { return func(c *issueConfig) { c.rand = r } }

// WithSaltSource takes salts from s instead of the random source (test vectors only).
func WithSaltSource(s SaltSource) Option { return func(c *issueConfig) { c.salts = s } }

// WithDecoys adds exactly n decoy digests to every _sd array (0 disables decoys).
func WithDecoys(n int) Option {
	return func(c *issueConfig) { c.decoysMin, c.decoysMax = n, n }
}

// WithDecoyRange adds between lo and hi decoy digests (uniformly random) to every _sd array.
func WithDecoyRange(lo, hi int) Option {
	return func(c *issueConfig) { c.decoysMin, c.decoysMax = lo, hi }
}

// WithSpacedJSON encodes disclosures with ", " and ": " separators, as the RFC 9901 examples do,
// so that their disclosures can be reproduced byte for byte.
func WithSpacedJSON() Option { return func(c *issueConfig) { c.spacedJSON = true } }

// IssueVC builds, signs and serialises an SD-JWT VC. The issuer-signed JWT is signed through keys.SignJWS (jws.Sign
// with the signer's crypto.Signer, one Sign call), the path of every issuer signature.
func IssueVC(ctx context.Context, s Signer, vc VC, opts ...Option) (*Issued, error) {
	cfg := issueConfig{format: FormatDCSDJWT, rand: rand.Reader, decoysMin: DefaultMinDecoys, decoysMax: DefaultMaxDecoys}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.format != FormatDCSDJWT && cfg.format != FormatVCSDJWT {
		return nil, fmt.Errorf("issue credential: %w: unsupported format %q", ErrInvalidClaims, cfg.format)
	}
	if cfg.decoysMin < 0 || cfg.decoysMax < cfg.decoysMin || cfg.decoysMax > maxDecoys {
		return nil, fmt.Errorf("issue credential: %w: decoy range [%d, %d]", ErrInvalidClaims, cfg.decoysMin, cfg.decoysMax)
	}
	if s == nil {
		return nil, fmt.Errorf("issue credential: %w: no signer", ErrSignature)
	}
	b := &builder{cfg: &cfg}
	payload, err := b.payload(vc)
	if err != nil {
		return nil, fmt.Errorf("issue credential: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, string(cfg.format)); err != nil {
		return nil, fmt.Errorf("issue credential: set typ: %w", err)
	}
	jwt, err := keys.SignJWS(ctx, s, payload, hdr)
	if err != nil {
		return nil, fmt.Errorf("issue credential: %w: %w", ErrSignature, err)
	}
	size := len(jwt) + 1
	for _, d := range b.discs {
		size += len(d.Encoded) + 1
	}
	var out strings.Builder
	out.Grow(size)
	out.Write(jwt)
	out.WriteByte('~')
	for _, d := range b.discs {
		out.WriteString(d.Encoded)
		out.WriteByte('~')
	}
	sd := out.String()
	return &Issued{SDJWT: sd, JWT: sd[:len(jwt)], Disclosures: b.discs}, nil
}

// builder turns a claim tree into the JWT payload, replacing the positions the policy marks with digests and
// collecting their disclosures. Disclosures are created depth first, object members in sorted name order, array
// elements in index order, a disclosable value's own nested disclosures before the value itself (the order of
// SaltSource).
type builder struct {
	cfg   *issueConfig
	discs []Disclosure
}

// payload validates vc and returns the JWT payload JSON.
func (b *builder) payload(vc VC) ([]byte, error) {
	switch {
	case vc.Issuer == "":
		return nil, fmt.Errorf("%w: iss is empty", ErrInvalidClaims)
	case vc.Type == "":
		return nil, fmt.Errorf("%w: vct is empty", ErrInvalidClaims)
	case vc.IssuedAt.IsZero():
		return nil, fmt.Errorf("%w: iat is not set", ErrInvalidClaims)
	case !vc.Expiry.IsZero() && !vc.Expiry.After(vc.IssuedAt):
		return nil, fmt.Errorf("%w: exp is not after iat", ErrInvalidClaims)
	case vc.Status != nil && (vc.Status.Index < 0 || vc.Status.URI == ""):
		return nil, fmt.Errorf("%w: status reference needs a non-negative index and a uri", ErrInvalidClaims)
	}
	for name := range vc.Claims {
		if IsReservedClaim(name) {
			return nil, fmt.Errorf("%w: claim %q is set by the issuer and cannot be a subject claim", ErrInvalidClaims, name)
		}
	}
	claims, err := b.object(vc.Claims, vc.Policy.rootNode(), 0)
	if err != nil {
		return nil, err
	}
	// The subject claims share the object with the registered claims, which IsReservedClaim keeps apart.
	claims["iss"] = vc.Issuer
	claims["vct"] = vc.Type
	if vc.TypeIntegrity != "" {
		claims["vct#integrity"] = vc.TypeIntegrity
	}
	claims["iat"] = vc.IssuedAt.Unix()
	if !vc.NotBefore.IsZero() {
		claims["nbf"] = vc.NotBefore.Unix()
	}
	if !vc.Expiry.IsZero() {
		claims["exp"] = vc.Expiry.Unix()
	}
	if vc.HolderKey != nil {
		pub, err := holderJWK(vc.HolderKey)
		if err != nil {
			return nil, err
		}
		claims["cnf"] = map[string]any{"jwk": pub}
	}
	if vc.Status != nil {
		claims["status"] = map[string]any{"status_list": map[string]any{"idx": vc.Status.Index, "uri": vc.Status.URI}}
	}
	claims[sdAlgKey] = SDAlg
	payload, err := marshal(claims, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidClaims, err)
	}
	return payload, nil
}

// object returns obj with the members the policy marks replaced by their digests in _sd (with decoys, sorted, so
// that neither their number nor their order reveals the claims).
func (b *builder) object(obj map[string]any, n *node, depth int) (map[string]any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
	}
	out := make(map[string]any, len(obj)+1)
	var digests []string
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		v, child := obj[name], n.member(name)
		if IsStructuralName(name) {
			return nil, atClaim(fmt.Errorf("%w: %s is an SD-JWT structural name, never a claim", ErrInvalidClaims, name), Name(name))
		}
		if child != nil && child.sd {
			d, err := b.disclose(name, false, v, child, depth)
			if err != nil {
				return nil, atClaim(err, Name(name))
			}
			digests = append(digests, d)
			continue
		}
		tv, err := b.value(v, child, depth+1)
		if err != nil {
			return nil, atClaim(err, Name(name))
		}
		out[name] = tv
	}
	if len(digests) == 0 {
		return out, nil
	}
	if _, ok := out[sdKey]; ok {
		return nil, atClaim(fmt.Errorf("%w: a claim named %s cannot sit beside selectively disclosable claims", ErrInvalidClaims, sdKey), Name(sdKey))
	}
	digests, err := b.addDecoys(digests)
	if err != nil {
		return nil, err
	}
	slices.Sort(digests)
	out[sdKey] = digests
	return out, nil
}

// value returns v with the policy n applied to its members or elements.
func (b *builder) value(v any, n *node, depth int) (any, error) {
	if !n.hasRules() {
		return v, checkDepth(v, depth)
	}
	if err := n.misfit(v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case map[string]any:
		return b.object(x, n, depth)
	case []any:
		if depth > maxJSONDepth {
			return nil, fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
		}
		out := make([]any, len(x))
		for i, el := range x {
			en := n.element(i)
			if en != nil && en.sd {
				d, err := b.disclose("", true, el, en, depth)
				if err != nil {
					return nil, atClaim(err, Index(i))
				}
				out[i] = map[string]any{ellipsis: d}
				continue
			}
			tv, err := b.value(el, en, depth+1)
			if err != nil {
				return nil, atClaim(err, Index(i))
			}
			out[i] = tv
		}
		return out, nil
	default: // n.misfit refused every other kind
		return nil, fmt.Errorf("%w: claim of kind %s", ErrInvalidClaims, kindOf(v))
	}
}

// checkDepth refuses claim values nested deeper than maxJSONDepth, which no verifier of this package would accept.
func checkDepth(v any, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		for name, el := range x {
			if IsStructuralName(name) {
				return atClaim(fmt.Errorf("%w: %s is an SD-JWT structural name, never a claim", ErrInvalidClaims, name), Name(name))
			}
			if err := checkDepth(el, depth+1); err != nil {
				return atClaim(err, Name(name))
			}
		}
	case []any:
		for i, el := range x {
			if err := checkDepth(el, depth+1); err != nil {
				return atClaim(err, Index(i))
			}
		}
	}
	return nil
}

// disclose creates the disclosure of v (its nested disclosures first) and returns its digest.
func (b *builder) disclose(name string, element bool, v any, n *node, depth int) (string, error) {
	tv, err := b.value(v, n, depth+1)
	if err != nil {
		return "", err
	}
	value, err := marshal(tv, false)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidClaims, err)
	}
	salt, err := b.salt()
	if err != nil {
		return "", err
	}
	arr := []any{salt, name, json.RawMessage(value)}
	if element {
		arr = []any{salt, json.RawMessage(value)}
	}
	raw, err := marshal(arr, b.cfg.spacedJSON)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidClaims, err)
	}
	enc := b64.EncodeToString(raw)
	d := Disclosure{Encoded: enc, Digest: Digest(enc), Salt: salt, Name: name, ArrayElement: element, Value: value}
	b.discs = append(b.discs, d)
	return d.Digest, nil
}

// salt returns the next disclosure salt: from the SaltSource when one is set, else 128 random bits, base64url.
func (b *builder) salt() (string, error) {
	if b.cfg.salts != nil {
		s, err := b.cfg.salts.NextSalt()
		if err != nil {
			return "", fmt.Errorf("salt source: %w", err)
		}
		return s, nil
	}
	var raw [saltBytes]byte
	if _, err := io.ReadFull(b.cfg.rand, raw[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return b64.EncodeToString(raw[:]), nil
}

// addDecoys appends the decoy digests of one _sd array: their number drawn uniformly from the configured range,
// each the digest of a fresh random salt, indistinguishable from the digest of a disclosure.
func (b *builder) addDecoys(digests []string) ([]string, error) {
	if b.cfg.decoysMax == 0 {
		return digests, nil
	}
	var pick [1]byte
	if _, err := io.ReadFull(b.cfg.rand, pick[:]); err != nil {
		return nil, fmt.Errorf("read random: %w", err)
	}
	n := b.cfg.decoysMin + int(pick[0])%(b.cfg.decoysMax-b.cfg.decoysMin+1)
	for range n {
		var raw [saltBytes]byte
		if _, err := io.ReadFull(b.cfg.rand, raw[:]); err != nil {
			return nil, fmt.Errorf("read random: %w", err)
		}
		digests = append(digests, Digest(b64.EncodeToString(raw[:])))
	}
	return digests, nil
}
