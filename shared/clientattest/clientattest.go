// Package clientattest verifies OAuth 2.0 attestation-based client authentication
// (draft-ietf-oauth-attestation-based-client-auth-07, the version HAIP 1.0 names; later drafts' PoPs without iss
// are accepted too): the OAuth-Client-Attestation header, a JWT in which a trusted wallet provider vouches for the
// client instance key (cnf.jwk) of client_id (sub), and the OAuth-Client-Attestation-PoP header, a fresh JWT
// signed with that instance key for this authorization server. OpenID4VCI 1.0 section 13 calls the first a Wallet
// Attestation. No I/O beyond the replay memory the caller passes.
package clientattest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/strictjson"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// Protocol names.
const (
	// HeaderAttestation carries the client attestation.
	HeaderAttestation = "OAuth-Client-Attestation"
	// HeaderPoP carries its proof of possession.
	HeaderPoP = "OAuth-Client-Attestation-PoP"
	// AttestationType is the typ of the attestation.
	AttestationType = "oauth-client-attestation+jwt"
	// PoPType is the typ of the PoP.
	PoPType = "oauth-client-attestation-pop+jwt"
	// AuthMethod is the token_endpoint_auth_method of the AS metadata.
	AuthMethod = "attest_jwt_client_auth"
	// ErrInvalidClient is the OAuth error code of a failed client authentication.
	ErrInvalidClient = "invalid_client"
)

// MaxLength bounds each of the two JWTs.
const MaxLength = 16 << 10

// Kind says which check failed, for the record and for tests; the wallet sees Error.Description.
type Kind string

// Kinds of failure.
const (
	Missing     Kind = "missing"
	Malformed   Kind = "malformed"
	Untrusted   Kind = "untrusted"
	Expired     Kind = "expired"
	KeyMismatch Kind = "pop_key_mismatch"
	Audience    Kind = "audience"
	Stale       Kind = "stale"
	ClientID    Kind = "client_id"
	Replayed    Kind = "replayed"
	// Lifetime: the attestation is valid for longer than Options.MaxLifetime.
	Lifetime Kind = "lifetime"
)

// DefaultMaxLifetime is the longest attestation lifetime (exp minus iat, or minus now without iat) accepted when
// Options.MaxLifetime is zero: 30 days. The draft lets an authorization server refuse an exp unreasonably far in the
// future, and wallet profiles ask for short-lived attestations (the provider revokes a wallet instance by no
// longer issuing it one, and this issuer reads no attestation status), so one valid for years is refused.
const DefaultMaxLifetime = 30 * 24 * time.Hour

// Error is a failed client attestation: the OAuth error is invalid_client with Description.
type Error struct {
	Kind        Kind
	Description string
}

// Error returns the description.
func (e *Error) Error() string { return "client attestation: " + e.Description }

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Description: fmt.Sprintf(format, args...)}
}

// Options are what the attestation is checked against.
type Options struct {
	// Trust are the trusted wallet providers.
	Trust *wallettrust.Anchors
	// Audience is the authorization server's issuer identifier: the PoP's aud must name it.
	Audience string
	// Time is now and the PoP's iat window.
	Time jwtverify.Window
	// Algs are the algorithms accepted for the provider's signature; every registered asymmetric one when empty.
	Algs []string
	// PoPAlgs are the algorithms accepted for the PoP; jwtverify.DefaultAlgs when empty.
	PoPAlgs []string
	// ClientID is the request's client_id parameter, if it has one: it must equal the attestation's sub.
	ClientID string
	// Replay, when set, refuses a PoP whose jti it has seen for the same instance key.
	Replay jwtverify.ReplayCache
	// MaxLifetime is the longest lifetime of an attestation accepted; zero: DefaultMaxLifetime.
	MaxLifetime time.Duration
}

// DefaultAttestationAlgs are the algorithms accepted for the provider's signature when Options.Algs is empty.
func DefaultAttestationAlgs() []string {
	return []string{"ES256", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}
}

// Result is a verified client attestation.
type Result struct {
	// ClientID is the attestation's sub.
	ClientID string
	// Provider is who vouched for the client.
	Provider *wallettrust.Provider
	// InstanceKey is the attestation's cnf.jwk.
	InstanceKey *jwtverify.PublicKey
	// ExpiresAt is the attestation's exp.
	ExpiresAt time.Time
}

// attestationClaims are the members Verify reads; others are kept only in Decoded.
type attestationClaims struct {
	Iss *string  `json:"iss"`
	Sub *string  `json:"sub"`
	Exp *float64 `json:"exp"`
	Iat *float64 `json:"iat"`
	Nbf *float64 `json:"nbf"`
	Cnf *struct {
		JWK jsontext.Value `json:"jwk"`
	} `json:"cnf"`
}

type popClaims struct {
	Iss *string        `json:"iss"`
	Aud jsontext.Value `json:"aud"`
	Jti *string        `json:"jti"`
	Iat *float64       `json:"iat"`
	Exp *float64       `json:"exp"`
	Nbf *float64       `json:"nbf"`
}

// Verify checks a client attestation and its PoP as the draft's "Verification and Processing" section lists. Both
// header values are required (Missing when neither or one is sent). Failures are *Error; other errors (a failing
// replay memory) are internal.
func Verify(ctx context.Context, attestation, pop string, o Options) (*Result, error) {
	if o.Time.Now.IsZero() || o.Audience == "" {
		return nil, errors.New("clientattest: options need Time.Now and Audience")
	}
	switch {
	case attestation == "" && pop == "":
		return nil, fail(Missing, "client authentication is required: send the %s and %s headers (%s)", HeaderAttestation, HeaderPoP, AuthMethod)
	case attestation == "":
		return nil, fail(Missing, "the %s header is missing: send it with the %s header", HeaderAttestation, HeaderPoP)
	case pop == "":
		return nil, fail(Missing, "the %s header is missing: send a fresh PoP signed with the attestation's cnf key", HeaderPoP)
	}
	for _, v := range []string{attestation, pop} {
		if strings.ContainsAny(v, ", ") {
			return nil, fail(Malformed, "each attestation header must be sent once, holding one JWT")
		}
	}
	algs := o.Algs
	if len(algs) == 0 {
		algs = DefaultAttestationAlgs()
	}
	att, err := jwtverify.Parse(attestation, jwtverify.Rules{What: "the client attestation", Types: []string{AttestationType},
		Algs: algs, MaxLength: MaxLength})
	if err != nil {
		return nil, fail(Malformed, "%s", err)
	}
	var ac attestationClaims
	if err := att.Claims(&ac); err != nil {
		return nil, fail(Malformed, "%s", err)
	}
	iss := ""
	if ac.Iss != nil {
		iss = *ac.Iss
	}
	provider, err := o.Trust.Verify(att, iss, o.Time.Now)
	if err != nil {
		return nil, fail(Untrusted, "%s", err)
	}
	if ac.Sub == nil || *ac.Sub == "" {
		return nil, fail(Malformed, "the client attestation must carry sub, the client_id")
	}
	exp, err := o.Time.Expiry(ac.Exp, ac.Nbf, true, "the client attestation")
	if err != nil {
		return nil, fail(Expired, "%s: get a fresh one from the wallet provider", err)
	}
	iat, err := (jwtverify.Window{Now: o.Time.Now, MaxAge: -1, Skew: o.Time.Skew}).IssuedAt(ac.Iat, false, "the client attestation")
	if err != nil {
		return nil, fail(Malformed, "%s", err)
	}
	if err := checkLifetime(iat, exp, o); err != nil {
		return nil, err
	}
	if ac.Cnf == nil || len(ac.Cnf.JWK) == 0 {
		return nil, fail(Malformed, "the client attestation must carry cnf.jwk, the client instance key")
	}
	instance, err := jwtverify.ParsePublicJWK(ac.Cnf.JWK, "", "the client attestation cnf.jwk")
	if err != nil {
		return nil, fail(Malformed, "%s", err)
	}
	if err := checkPoP(ctx, pop, *ac.Sub, instance, o); err != nil {
		return nil, err
	}
	if o.ClientID != "" && o.ClientID != *ac.Sub {
		return nil, fail(ClientID, "client_id is not the sub of the client attestation")
	}
	return &Result{ClientID: *ac.Sub, Provider: provider, InstanceKey: instance, ExpiresAt: exp}, nil
}

// checkLifetime refuses an attestation valid for longer than o.MaxLifetime: from iat to exp, or from now to exp
// without iat.
func checkLifetime(iat, exp time.Time, o Options) *Error {
	limit := o.MaxLifetime
	if limit <= 0 {
		limit = DefaultMaxLifetime
	}
	from, span := iat, "from iat to exp"
	if iat.IsZero() {
		from, span = o.Time.Now, "from now to exp"
	}
	if lifetime := exp.Sub(from); lifetime > limit+o.Time.SkewOrDefault() {
		return fail(Lifetime, "the client attestation is valid for %d hours (%s); this issuer accepts at most %d "+
			"hours: get a shorter-lived one from the wallet provider", int64(lifetime.Hours()), span, int64(limit.Hours()))
	}
	return nil
}

func checkPoP(ctx context.Context, pop, sub string, instance *jwtverify.PublicKey, o Options) error {
	tok, err := jwtverify.Parse(pop, jwtverify.Rules{What: "the client attestation PoP", Types: []string{PoPType},
		Algs: o.PoPAlgs, MaxLength: MaxLength})
	if err != nil {
		return fail(Malformed, "%s", err)
	}
	if err := tok.Verify(instance.Raw); err != nil {
		return fail(KeyMismatch, "the client attestation PoP does not verify with the attestation's cnf.jwk: sign it with the client instance key")
	}
	var pc popClaims
	if err := tok.Claims(&pc); err != nil {
		return fail(Malformed, "%s", err)
	}
	if !audienceNames(pc.Aud, o.Audience) {
		return fail(Audience, "the client attestation PoP aud must be this authorization server's issuer identifier %s", o.Audience)
	}
	if pc.Jti == nil || *pc.Jti == "" || len(*pc.Jti) > 256 {
		return fail(Malformed, "the client attestation PoP must carry jti, a unique identifier of at most 256 characters")
	}
	iat, err := o.Time.IssuedAt(pc.Iat, true, "the client attestation PoP")
	if err != nil {
		return fail(Stale, "%s", err)
	}
	if _, err := o.Time.Expiry(pc.Exp, pc.Nbf, false, "the client attestation PoP"); err != nil {
		return fail(Stale, "%s", err)
	}
	if pc.Iss != nil && *pc.Iss != sub {
		return fail(ClientID, "the client attestation PoP iss must be the attestation's sub (the client_id)")
	}
	if o.Replay != nil {
		until := iat.Add(max(o.Time.MaxAgeOrDefault(), 0) + o.Time.SkewOrDefault())
		fresh, err := o.Replay.Remember(ctx, "client-attestation-pop\x00"+instance.Thumbprint+"\x00"+*pc.Jti, until)
		if err != nil {
			return fmt.Errorf("clientattest: replay memory: %w", err)
		}
		if !fresh {
			return fail(Replayed, "the client attestation PoP was already used: create a fresh PoP with a new jti for every request")
		}
	}
	return nil
}

// audienceNames reports whether aud (a string or an array of strings) names want.
func audienceNames(aud jsontext.Value, want string) bool {
	if len(aud) == 0 {
		return false
	}
	var one string
	if strictjson.Unmarshal(aud, &one) == nil && aud.Kind() == '"' {
		return one == want
	}
	var many []string
	return strictjson.Unmarshal(aud, &many) == nil && slices.Contains(many, want)
}

// Decoded is an attestation as the exchange record shows it: its header and claims, decoded without verification
// (nil when it is not a well-formed JWT).
func Decoded(attestation string) map[string]any {
	tok, err := jwtverify.Parse(attestation, jwtverify.Rules{What: "the client attestation", Types: []string{AttestationType},
		Algs: DefaultAttestationAlgs(), MaxLength: MaxLength})
	if err != nil {
		return nil
	}
	var header, claims map[string]any
	if tok.Header(&header) != nil || tok.Claims(&claims) != nil {
		return nil
	}
	return map[string]any{"header": header, "payload": claims}
}
