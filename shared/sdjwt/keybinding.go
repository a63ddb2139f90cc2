package sdjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// KeyBindingTyp is the typ header of a key binding JWT.
const KeyBindingTyp = "kb+jwt"

// kbAlgs are the KB-JWT algorithms accepted from holders.
var kbAlgs = map[string]jwa.SignatureAlgorithm{
	"ES256": jwa.ES256, "ES384": jwa.ES384, "ES512": jwa.ES512, "EdDSA": jwa.EdDSA,
}

func verifyKeyBinding(p *Parsed, claims map[string]any, cfg *verifyConfig, now time.Time) (*KeyBinding, error) {
	header, payload, err := decodeJWT(p.KeyBindingJWT)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyBinding, err)
	}
	if typ, _ := header["typ"].(string); typ != KeyBindingTyp {
		return nil, fmt.Errorf("%w: typ must be %s", ErrKeyBinding, KeyBindingTyp)
	}
	algName, _ := header["alg"].(string)
	alg, ok := kbAlgs[algName]
	if !ok {
		return nil, fmt.Errorf("%w: unsupported alg", ErrKeyBinding)
	}
	holder, err := holderKey(claims)
	if err != nil {
		return nil, err
	}
	if _, err := jws.Verify([]byte(p.KeyBindingJWT), jws.WithKey(alg, holder)); err != nil {
		return nil, fmt.Errorf("%w: signature does not verify with cnf.jwk", ErrKeyBinding)
	}
	iat, ok, err := numericDate(payload, "iat")
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: iat missing or invalid", ErrKeyBinding)
	}
	if now.Add(cfg.leeway).Before(iat) {
		return nil, fmt.Errorf("%w: iat in the future", ErrKeyBinding)
	}
	if now.Sub(iat) > cfg.kbMaxAge+cfg.leeway {
		return nil, fmt.Errorf("%w: iat older than %s", ErrKeyBinding, cfg.kbMaxAge)
	}
	kb := &KeyBinding{IssuedAt: iat, Claims: payload}
	kb.Audience, _ = payload["aud"].(string)
	kb.Nonce, _ = payload["nonce"].(string)
	if kb.Audience == "" || kb.Nonce == "" {
		return nil, fmt.Errorf("%w: aud and nonce must be non-empty strings", ErrKeyBinding)
	}
	if sdHash, _ := payload["sd_hash"].(string); sdHash != Digest(p.presentation) {
		return nil, fmt.Errorf("%w: sd_hash does not match the presentation", ErrKeyBinding)
	}
	if cfg.requireKB {
		if kb.Audience != cfg.kbAud {
			return nil, fmt.Errorf("%w: aud does not match", ErrKeyBinding)
		}
		if kb.Nonce != cfg.kbNonce {
			return nil, fmt.Errorf("%w: nonce does not match", ErrKeyBinding)
		}
	}
	return kb, nil
}

// holderKey returns the public key in cnf.jwk, rejecting private keys.
func holderKey(claims map[string]any) (jwk.Key, error) {
	cnf, ok := claims["cnf"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: credential has no cnf", ErrKeyBinding)
	}
	raw, ok := cnf["jwk"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: cnf has no jwk", ErrKeyBinding)
	}
	if _, private := raw["d"]; private {
		return nil, fmt.Errorf("%w: cnf.jwk is a private key", ErrKeyBinding)
	}
	buf, err := marshal(raw, false)
	if err != nil {
		return nil, fmt.Errorf("%w: cnf.jwk: %w", ErrKeyBinding, err)
	}
	key, err := jwk.ParseKey(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: cnf.jwk is not a JWK", ErrKeyBinding)
	}
	return key, nil
}

// KeyBindingInput describes the KB-JWT a holder adds to a presentation.
type KeyBindingInput struct {
	// Key is the holder's private key, the one in cnf.jwk; ES256 needs a P-256 key.
	Key crypto.Signer
	// Audience is the verifier (aud).
	Audience string
	// Nonce is the verifier's nonce.
	Nonce string
	// IssuedAt is the KB-JWT's iat.
	IssuedAt time.Time
	// Extra are more claims of the KB-JWT (e.g. OpenID4VP's transaction_data_hashes); they cannot replace iat,
	// aud, nonce or sd_hash.
	Extra map[string]any
}

// Present builds a presentation of an issued SD-JWT: the disclosures for which include returns
// true, plus every disclosure that contains one of them (a nested disclosure is useless without
// its parent), and a KB-JWT when kb is not nil. It is the holder's side, used by tests and tools.
func Present(sdjwt string, include func(Disclosure) bool, kb *KeyBindingInput) (string, error) {
	p, err := Parse(sdjwt)
	if err != nil {
		return "", fmt.Errorf("present: %w", err)
	}
	if p.KeyBindingJWT != "" {
		return "", fmt.Errorf("present: %w: input already has a key binding jwt", ErrMalformed)
	}
	parent := disclosureParents(p)
	keep := make([]bool, len(p.Disclosures))
	for i, d := range p.Disclosures {
		if include == nil || !include(d) {
			continue
		}
		for j := i; j >= 0 && !keep[j]; j = parent[j] {
			keep[j] = true
		}
	}
	var b strings.Builder
	b.WriteString(p.JWT)
	b.WriteByte('~')
	for i, d := range p.Disclosures {
		if keep[i] {
			b.WriteString(d.Encoded)
			b.WriteByte('~')
		}
	}
	if kb == nil {
		return b.String(), nil
	}
	jwt, err := signKeyBinding(b.String(), kb)
	if err != nil {
		return "", fmt.Errorf("present: %w", err)
	}
	b.WriteString(jwt)
	return b.String(), nil
}

// disclosureParents maps each disclosure index to the index of the disclosure whose value holds
// its digest, or -1 when the digest is in the payload (or nowhere).
func disclosureParents(p *Parsed) []int {
	byDigest := make(map[string]int, len(p.Disclosures))
	for i, d := range p.Disclosures {
		byDigest[d.Digest] = i
	}
	parent := make([]int, len(p.Disclosures))
	for i := range parent {
		parent[i] = -1
	}
	for i, v := range p.values {
		walkDigests(v, 0, func(dg string) {
			if j, ok := byDigest[dg]; ok && j != i {
				parent[j] = i
			}
		})
	}
	// Cycles are impossible for honest input (a digest cannot contain itself); break any anyway.
	for i := range parent {
		steps := 0
		for j := parent[i]; j >= 0; j = parent[j] {
			if steps++; steps > len(parent) {
				parent[i] = -1
				break
			}
		}
	}
	return parent
}

// walkDigests calls fn for every digest in _sd arrays and "..." elements of v, without entering
// other disclosures.
func walkDigests(v any, depth int, fn func(string)) {
	if depth > maxJSONDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if sd, ok := x[sdKey].([]any); ok {
			for _, d := range sd {
				if s, ok := d.(string); ok {
					fn(s)
				}
			}
		}
		if d, ok := x[ellipsis].(string); ok && len(x) == 1 {
			fn(d)
		}
		for k, el := range x {
			if k != sdKey {
				walkDigests(el, depth+1, fn)
			}
		}
	case []any:
		for _, el := range x {
			walkDigests(el, depth+1, fn)
		}
	}
}

// signKeyBinding signs a KB-JWT over presentation (which ends with '~').
func signKeyBinding(presentation string, kb *KeyBindingInput) (string, error) {
	if kb.Key == nil {
		return "", fmt.Errorf("%w: no holder key", ErrKeyBinding)
	}
	pub, ok := kb.Key.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return "", fmt.Errorf("%w: holder key must be ECDSA P-256", ErrKeyBinding)
	}
	claims := map[string]any{}
	for k, v := range kb.Extra {
		claims[k] = v
	}
	claims["iat"], claims["aud"], claims["nonce"], claims["sd_hash"] = kb.IssuedAt.Unix(), kb.Audience, kb.Nonce, Digest(presentation)
	payload, err := marshal(claims, false)
	if err != nil {
		return "", fmt.Errorf("key binding: payload: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, KeyBindingTyp); err != nil {
		return "", fmt.Errorf("key binding: set typ: %w", err)
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.ES256, kb.Key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("key binding: sign: %w", err)
	}
	return string(out), nil
}
