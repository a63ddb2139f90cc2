// Package jwtverify checks the compact JWTs that wallets send to the issuer besides key proofs: DPoP proofs, OAuth
// client attestations and their proofs of possession, key attestations. Each of them is explicitly typed, signed
// with an asymmetric algorithm from an allow-list, and carries JSON that must be I-JSON (no repeated member names,
// so that two parsers cannot read different values). Parsing and signature verification go through jwx
// (github.com/lestrrat-go/jwx/v2); header and claims through shared/strictjson.
//
// Errors are *Error values whose Reason may be shown to the wallet: they say what is wrong and never quote the
// token, its claims or its keys.
package jwtverify

import (
	"crypto"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// DefaultMaxLength bounds a JWT when Rules.MaxLength is zero: an attestation with a three-certificate x5c chain is
// about 5 KiB.
const DefaultMaxLength = 16 << 10

// Error is a JWT that fails a check. Reason says what failed and how to fix it, for the wallet's developer.
type Error struct {
	Reason string
}

// Error returns Reason.
func (e *Error) Error() string { return e.Reason }

// Errorf builds an *Error.
func Errorf(format string, args ...any) *Error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// asymmetricAlgs are the registered asymmetric JWS algorithms the issuer can verify (ES256K needs a jwx build tag
// and is left out).
var asymmetricAlgs = []string{"ES256", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// DefaultAlgs are the algorithms accepted when Rules.Algs is empty: ES256 (what HAIP requires), the larger NIST
// curves and Ed25519.
func DefaultAlgs() []string { return []string{"ES256", "ES384", "ES512", "EdDSA"} }

// Asymmetric reports whether alg is a registered asymmetric JWS algorithm the issuer can verify.
func Asymmetric(alg string) bool { return slices.Contains(asymmetricAlgs, alg) }

// AlgName echoes alg into a description only when it is a registered name, never arbitrary wallet text.
func AlgName(alg string) string {
	if Asymmetric(alg) || alg == "none" || strings.HasPrefix(alg, "HS") && len(alg) == 5 {
		return alg
	}
	return "(unrecognised)"
}

// Rules are what Parse requires of a JWT.
type Rules struct {
	// What names the JWT in error reasons ("the DPoP proof").
	What string
	// Types are the accepted typ values. They are compared case-insensitively, with or without the
	// "application/" prefix (RFC 7515 section 4.1.9).
	Types []string
	// Algs are the accepted algorithms; DefaultAlgs when empty. none and MAC algorithms are refused whatever the
	// list says.
	Algs []string
	// MaxLength bounds the compact JWT; DefaultMaxLength when zero.
	MaxLength int
	// TypOptional accepts a JWT without typ (OpenID Connect ID tokens need none); a typ that is present must still
	// be one of Types.
	TypOptional bool
}

// Token is a parsed compact JWS whose typ and alg passed the rules. Its signature is not verified until Verify.
type Token struct {
	// Raw is the JWT as received.
	Raw string
	// Alg is the header's alg.
	Alg string
	// Typ is the header's typ as sent.
	Typ string

	what      string
	rawHeader []byte
	header    map[string]jsontext.Value
	payload   []byte
}

// Parse checks the form of a compact JWS (three base64url parts, a JSON object header and payload without repeated
// members), its typ and its alg, and refuses the crit and b64 header parameters (no extension is understood).
func Parse(token string, r Rules) (*Token, error) {
	what := r.What
	if what == "" {
		what = "the JWT"
	}
	limit := r.MaxLength
	if limit <= 0 {
		limit = DefaultMaxLength
	}
	if token == "" {
		return nil, Errorf("%s is empty", what)
	}
	if len(token) > limit {
		return nil, Errorf("%s is longer than %d bytes", what, limit)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, Errorf("%s must be a JWS in compact serialization: header.payload.signature", what)
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, Errorf("%s header is not base64url without padding", what)
	}
	var header map[string]jsontext.Value
	if err := strictjson.Unmarshal(rawHeader, &header); err != nil || header == nil {
		return nil, Errorf("%s header is not a JSON object%s", what, jsonReason(err))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, Errorf("%s payload is not base64url without padding", what)
	}
	if err := strictjson.Check(payload); err != nil || len(payload) == 0 || payload[0] != '{' {
		return nil, Errorf("%s payload is not a JSON object%s", what, jsonReason(err))
	}
	t := &Token{Raw: token, what: what, rawHeader: rawHeader, header: header, payload: payload}
	if t.Typ, err = t.checkTyp(r.Types, r.TypOptional); err != nil {
		return nil, err
	}
	if t.Alg, err = t.checkAlg(r.Algs); err != nil {
		return nil, err
	}
	for _, m := range []string{"crit", "b64"} {
		if t.Has(m) {
			return nil, Errorf("%s header must not carry %s: no JWS extension is supported", what, m)
		}
	}
	return t, nil
}

func jsonReason(err error) string {
	if se, ok := err.(*strictjson.Error); ok {
		return " (" + se.Error() + ")"
	}
	return ""
}

func (t *Token) checkTyp(types []string, optional bool) (string, error) {
	typ, ok, err := t.String("typ")
	if err == nil && !ok && optional {
		return "", nil
	}
	if err != nil || !ok {
		return "", Errorf("%s header must carry typ %s", t.what, types[0])
	}
	for _, want := range types {
		if strings.EqualFold(typ, want) || strings.EqualFold(typ, "application/"+want) {
			return typ, nil
		}
	}
	return "", Errorf("%s typ must be %s", t.what, types[0])
}

func (t *Token) checkAlg(allowed []string) (string, error) {
	if len(allowed) == 0 {
		allowed = DefaultAlgs()
	}
	list := strings.Join(allowed, ", ")
	alg, ok, err := t.String("alg")
	switch {
	case err != nil || !ok || alg == "":
		return "", Errorf("%s header must carry alg, one of %s", t.what, list)
	case strings.EqualFold(alg, "none"):
		return "", Errorf("%s must be signed: alg none is not accepted; use one of %s", t.what, list)
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return "", Errorf("%s must be signed with an asymmetric key: MAC algorithms are not accepted; use one of %s", t.what, list)
	case !Asymmetric(alg) || !slices.Contains(allowed, alg):
		return "", Errorf("%s alg %s is not supported; use one of %s", t.what, AlgName(alg), list)
	}
	return alg, nil
}

// Has reports whether the header has the named member.
func (t *Token) Has(name string) bool {
	_, ok := t.header[name]
	return ok
}

// HeaderValue is the raw JSON of a header member.
func (t *Token) HeaderValue(name string) (jsontext.Value, bool) {
	v, ok := t.header[name]
	return v, ok
}

// String reads a string header member; ok is false when it is absent, err set when it is not a string.
func (t *Token) String(name string) (string, bool, error) {
	v, ok := t.header[name]
	if !ok {
		return "", false, nil
	}
	var s string
	if err := strictjson.Unmarshal(v, &s); err != nil || v.Kind() != '"' {
		return "", true, Errorf("%s header member %s must be a string", t.what, name)
	}
	return s, true, nil
}

// Header decodes the whole header into v (for storing a decoded attestation).
func (t *Token) Header(v any) error {
	if err := strictjson.Unmarshal(t.rawHeader, v); err != nil {
		return Errorf("%s header cannot be read: %s", t.what, err)
	}
	return nil
}

// Claims decodes the payload into v; a member of the wrong type is an *Error naming it.
func (t *Token) Claims(v any) error {
	if err := strictjson.Unmarshal(t.payload, v); err != nil {
		return Errorf("%s claims cannot be read: %s", t.what, err)
	}
	return nil
}

// Payload is the decoded payload (a JSON object).
func (t *Token) Payload() []byte { return t.payload }

// Verify checks the signature with pub, which must fit the token's alg.
func (t *Token) Verify(pub crypto.PublicKey) error {
	if err := KeyFitsAlg(pub, t.Alg); err != nil {
		return Errorf("%s: %s", t.what, err.(*Error).Reason)
	}
	if _, err := jws.Verify([]byte(t.Raw), jws.WithKey(jwa.SignatureAlgorithm(t.Alg), pub), jws.WithCompact()); err != nil {
		return Errorf("%s signature does not verify", t.what)
	}
	return nil
}

// What is how error reasons name the token.
func (t *Token) What() string { return t.what }
