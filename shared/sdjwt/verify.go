package sdjwt

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Verified is a verified SD-JWT VC.
type Verified struct {
	// Header is the issuer-signed JWT's JOSE header.
	Header map[string]any
	// Claims are the reconstructed claims: disclosed values in place, _sd, "..." and _sd_alg
	// removed, undisclosed array elements dropped. Numbers are json.Number.
	Claims map[string]any
	// Disclosures are the presented disclosures.
	Disclosures []Disclosure
	// KeyBinding is the verified key binding, nil when the presentation has none.
	KeyBinding *KeyBinding
}

// KeyBinding holds the verified claims of a KB-JWT.
type KeyBinding struct {
	// IssuedAt is the KB-JWT's iat.
	IssuedAt time.Time
	// Audience is the KB-JWT's aud.
	Audience string
	// Nonce is the KB-JWT's nonce.
	Nonce string
	// Claims is the KB-JWT's whole payload (e.g. OpenID4VP's transaction_data_hashes), numbers as json.Number.
	Claims map[string]any
}

// VerifyOption configures Verify.
type VerifyOption func(*verifyConfig)

type verifyConfig struct {
	key       jwk.Key
	keySet    jwk.Set
	now       func() time.Time
	leeway    time.Duration
	types     []string
	requireKB bool
	kbAud     string
	kbNonce   string
	kbMaxAge  time.Duration
	limits    Limits
}

// WithIssuerKey verifies the issuer signature with key.
func WithIssuerKey(key jwk.Key) VerifyOption { return func(c *verifyConfig) { c.key = key } }

// WithIssuerKeySet verifies the issuer signature with the key of set whose kid matches the header
// (or the only key of a one-key set when the header has no kid).
func WithIssuerKeySet(set jwk.Set) VerifyOption { return func(c *verifyConfig) { c.keySet = set } }

// WithClock sets the clock for exp, nbf and iat checks (time.Now by default).
func WithClock(now func() time.Time) VerifyOption { return func(c *verifyConfig) { c.now = now } }

// WithLeeway sets the allowed clock skew (DefaultLeeway by default).
func WithLeeway(d time.Duration) VerifyOption { return func(c *verifyConfig) { c.leeway = d } }

// WithTypes sets the accepted typ header values (dc+sd-jwt and vc+sd-jwt by default). The SD-JWT
// VC claim rules (iss and vct present, reserved claims never disclosed) apply to those two types.
func WithTypes(types ...string) VerifyOption { return func(c *verifyConfig) { c.types = types } }

// WithKeyBinding requires a KB-JWT with this aud and nonce.
func WithKeyBinding(audience, nonce string) VerifyOption {
	return func(c *verifyConfig) { c.requireKB, c.kbAud, c.kbNonce = true, audience, nonce }
}

// WithKeyBindingMaxAge bounds how old a KB-JWT's iat may be (DefaultKeyBindingMaxAge by default).
func WithKeyBindingMaxAge(d time.Duration) VerifyOption {
	return func(c *verifyConfig) { c.kbMaxAge = d }
}

// WithLimits replaces DefaultLimits.
func WithLimits(l Limits) VerifyOption { return func(c *verifyConfig) { c.limits = l } }

// Verification defaults.
const (
	DefaultLeeway           = 60 * time.Second
	DefaultKeyBindingMaxAge = 5 * time.Minute
)

// Verify parses and verifies a compact SD-JWT or SD-JWT+KB: issuer signature (ES256), typ,
// every digest, the disclosure structure, exp/nbf/iat, and the KB-JWT when present or required.
// For the SD-JWT VC types, iss and vct must be present and never disclosed; iat is optional.
func Verify(s string, opts ...VerifyOption) (*Verified, error) {
	cfg := verifyConfig{
		now:      time.Now,
		leeway:   DefaultLeeway,
		types:    []string{string(FormatDCSDJWT), string(FormatVCSDJWT)},
		kbMaxAge: DefaultKeyBindingMaxAge,
		limits:   DefaultLimits,
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := parseWithLimits(s, cfg.limits)
	if err != nil {
		return nil, fmt.Errorf("verify sd-jwt: %w", err)
	}
	vcProfile, err := checkHeader(p.Header, cfg.types)
	if err != nil {
		return nil, fmt.Errorf("verify sd-jwt: %w", err)
	}
	key, err := cfg.issuerKey(p.Header)
	if err != nil {
		return nil, fmt.Errorf("verify sd-jwt: %w", err)
	}
	if _, err := jws.Verify([]byte(p.JWT), jws.WithKey(jwa.ES256, key)); err != nil {
		return nil, fmt.Errorf("verify sd-jwt: %w: issuer signature", ErrSignature)
	}
	claims, err := reconstruct(p, vcProfile)
	if err != nil {
		return nil, fmt.Errorf("verify sd-jwt: %w", err)
	}
	now := cfg.now()
	if err := checkTimes(claims, now, cfg.leeway); err != nil {
		return nil, fmt.Errorf("verify sd-jwt: %w", err)
	}
	if vcProfile {
		for _, name := range []string{"iss", "vct"} {
			if s, ok := claims[name].(string); !ok || s == "" {
				return nil, fmt.Errorf("verify sd-jwt: %w: %s", ErrMissingClaim, name)
			}
		}
	}
	v := &Verified{Header: p.Header, Claims: claims, Disclosures: p.Disclosures}
	if p.KeyBindingJWT == "" {
		if cfg.requireKB {
			return nil, fmt.Errorf("verify sd-jwt: %w: key binding jwt missing", ErrKeyBinding)
		}
		return v, nil
	}
	if v.KeyBinding, err = verifyKeyBinding(p, claims, &cfg, now); err != nil {
		return nil, fmt.Errorf("verify sd-jwt: %w", err)
	}
	return v, nil
}

// neverDisclosedVC reports whether SD-JWT VC forbids selectively disclosing a top-level claim: iss, nbf, exp, cnf,
// vct, vct#integrity and status. iat and sub MAY be disclosed (draft-ietf-oauth-sd-jwt-vc section 3.2.2.2), so a
// verifier accepts them in disclosures even though this issuer always writes iat in the clear.
func neverDisclosedVC(name string) bool {
	switch name {
	case "iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status":
		return true
	}
	return false
}

// checkHeader checks alg and typ and reports whether the SD-JWT VC rules apply.
func checkHeader(h map[string]any, types []string) (bool, error) {
	if alg, _ := h["alg"].(string); alg != jwa.ES256.String() {
		return false, fmt.Errorf("%w: alg must be ES256", ErrUnexpectedType)
	}
	if _, ok := h["crit"]; ok {
		return false, fmt.Errorf("%w: unsupported crit header", ErrUnexpectedType)
	}
	typ, _ := h["typ"].(string)
	for _, t := range types {
		if typ == t {
			return typ == string(FormatDCSDJWT) || typ == string(FormatVCSDJWT), nil
		}
	}
	return false, fmt.Errorf("%w: typ %q", ErrUnexpectedType, typ)
}

func (c *verifyConfig) issuerKey(h map[string]any) (jwk.Key, error) {
	var key jwk.Key
	switch {
	case c.key != nil:
		key = c.key
	case c.keySet != nil:
		kid, _ := h["kid"].(string)
		if kid != "" {
			k, ok := c.keySet.LookupKeyID(kid)
			if !ok {
				return nil, fmt.Errorf("%w: no issuer key with the header's kid", ErrSignature)
			}
			key = k
		} else if c.keySet.Len() == 1 {
			key, _ = c.keySet.Key(0)
		} else {
			return nil, fmt.Errorf("%w: header has no kid and the key set has %d keys", ErrSignature, c.keySet.Len())
		}
	default:
		return nil, fmt.Errorf("%w: no issuer key configured", ErrSignature)
	}
	pub, err := key.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: issuer key: %w", ErrSignature, err)
	}
	return pub, nil
}

// reconstruct recomputes the claims from the payload and the disclosures (RFC 9901 section 7.1).
func reconstruct(p *Parsed, vcProfile bool) (map[string]any, error) {
	if alg, ok := p.Payload[sdAlgKey]; ok {
		if s, _ := alg.(string); s != SDAlg {
			return nil, fmt.Errorf("%w: _sd_alg must be %q", ErrSDMisuse, SDAlg)
		}
	}
	r := &reconstructor{
		byDigest:  make(map[string]int, len(p.Disclosures)),
		used:      make([]bool, len(p.Disclosures)),
		seen:      make(map[string]struct{}, len(p.Disclosures)*2),
		p:         p,
		vcProfile: vcProfile,
	}
	for i, d := range p.Disclosures {
		r.byDigest[d.Digest] = i
	}
	claims, err := r.object(p.Payload, 0, true)
	if err != nil {
		return nil, err
	}
	for i, used := range r.used {
		if !used {
			return nil, fmt.Errorf("disclosure %d: %w", i, ErrUnreferencedDisclosure)
		}
	}
	return claims, nil
}

type reconstructor struct {
	byDigest  map[string]int
	used      []bool
	seen      map[string]struct{}
	p         *Parsed
	vcProfile bool
}

// claim resolves a digest: it reports the disclosure index, or -1 for a decoy or an undisclosed
// claim. Every digest may appear once across the payload and all disclosures.
func (r *reconstructor) claim(digest any) (int, error) {
	s, ok := digest.(string)
	if !ok {
		return 0, fmt.Errorf("%w: digest is not a string", ErrSDMisuse)
	}
	if _, dup := r.seen[s]; dup {
		return 0, ErrDuplicateDigest
	}
	r.seen[s] = struct{}{}
	i, ok := r.byDigest[s]
	if !ok {
		return -1, nil
	}
	r.used[i] = true
	return i, nil
}

func (r *reconstructor) value(v any, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("%w: claims nested deeper than %d", ErrTooLarge, maxJSONDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		return r.object(x, depth, false)
	case []any:
		return r.array(x, depth)
	default:
		return v, nil
	}
}

func (r *reconstructor) object(m map[string]any, depth int, top bool) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case sdKey:
			continue
		case ellipsis:
			return nil, fmt.Errorf("%w: \"...\" used as an object member", ErrSDMisuse)
		case sdAlgKey:
			if top {
				continue
			}
			return nil, fmt.Errorf("%w: _sd_alg below the top level", ErrSDMisuse)
		}
		pv, err := r.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = pv
	}
	raw, ok := m[sdKey]
	if !ok {
		return out, nil
	}
	digests, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: _sd is not an array", ErrSDMisuse)
	}
	for _, dg := range digests {
		i, err := r.claim(dg)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			continue
		}
		d := r.p.Disclosures[i]
		if d.ArrayElement {
			return nil, fmt.Errorf("disclosure %d: %w: array element disclosure referenced from _sd", i, ErrSDMisuse)
		}
		if _, exists := out[d.Name]; exists {
			return nil, fmt.Errorf("disclosure %d: %w: %q", i, ErrClaimCollision, d.Name)
		}
		if _, exists := m[d.Name]; exists {
			return nil, fmt.Errorf("disclosure %d: %w: %q", i, ErrClaimCollision, d.Name)
		}
		if top && r.vcProfile && neverDisclosedVC(d.Name) {
			return nil, fmt.Errorf("disclosure %d: %w: %q", i, ErrReservedClaim, d.Name)
		}
		pv, err := r.value(r.p.values[i], depth+1)
		if err != nil {
			return nil, err
		}
		out[d.Name] = pv
	}
	return out, nil
}

func (r *reconstructor) array(a []any, depth int) ([]any, error) {
	out := make([]any, 0, len(a))
	for _, el := range a {
		if m, ok := el.(map[string]any); ok {
			if dg, ok := m[ellipsis]; ok {
				if len(m) != 1 {
					return nil, fmt.Errorf("%w: array element with \"...\" has other members", ErrSDMisuse)
				}
				i, err := r.claim(dg)
				if err != nil {
					return nil, err
				}
				if i < 0 {
					continue
				}
				if !r.p.Disclosures[i].ArrayElement {
					return nil, fmt.Errorf("disclosure %d: %w: object property disclosure referenced from an array", i, ErrSDMisuse)
				}
				pv, err := r.value(r.p.values[i], depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, pv)
				continue
			}
		}
		pv, err := r.value(el, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, pv)
	}
	return out, nil
}

// numericDate reads a NumericDate claim; ok is false when absent.
func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, false, fmt.Errorf("%w: %s is not a number", ErrMissingClaim, name)
		}
	case float64:
		f = x
	default:
		return time.Time{}, false, fmt.Errorf("%w: %s is not a number", ErrMissingClaim, name)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return time.Time{}, false, fmt.Errorf("%w: %s is out of range", ErrMissingClaim, name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

func checkTimes(claims map[string]any, now time.Time, leeway time.Duration) error {
	exp, ok, err := numericDate(claims, "exp")
	if err != nil {
		return err
	}
	if ok && !now.Before(exp.Add(leeway)) {
		return ErrExpired
	}
	nbf, ok, err := numericDate(claims, "nbf")
	if err != nil {
		return err
	}
	if ok && now.Add(leeway).Before(nbf) {
		return ErrNotYetValid
	}
	iat, ok, err := numericDate(claims, "iat")
	if err != nil {
		return err
	}
	if ok && now.Add(leeway).Before(iat) {
		return fmt.Errorf("%w: iat in the future", ErrNotYetValid)
	}
	return nil
}
