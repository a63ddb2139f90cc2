// Package keyattest verifies key attestations (OpenID4VCI 1.0 appendix D.1): a JWT of typ key-attestation+jwt in
// which a trusted wallet provider (or the wallet's key storage component, certified by one) asserts that the keys of
// attested_keys live in a key storage component of a given attack potential resistance (key_storage) and are
// unlocked by a user authentication of a given resistance (user_authentication). It arrives in the key_attestation
// header of a jwt proof, or alone as the attestation proof type. No I/O.
package keyattest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// Protocol names.
const (
	// JWTType is the typ of a key attestation.
	JWTType = "key-attestation+jwt"
	// legacyJWTType is the typ of drafts up to 15, still sent by some wallets.
	legacyJWTType = "keyattestation+jwt"
	// ProofType is the proof type that carries a key attestation alone.
	ProofType = "attestation"
	// HeaderParameter is the jwt proof header carrying a key attestation.
	HeaderParameter = "key_attestation"
)

// Attack potential resistance values of OpenID4VCI 1.0 appendix D.2.
const (
	ISO18045High          = "iso_18045_high"
	ISO18045Moderate      = "iso_18045_moderate"
	ISO18045EnhancedBasic = "iso_18045_enhanced-basic"
	ISO18045Basic         = "iso_18045_basic"
)

// MaxLength bounds a key attestation.
const MaxLength = 16 << 10

// DefaultMaxKeys bounds attested_keys when Options.MaxKeys is zero.
const DefaultMaxKeys = 10

// Error is a key attestation that fails a check (the credential endpoint's invalid_proof).
type Error struct {
	Description string
}

// Error returns the description.
func (e *Error) Error() string { return e.Description }

func fail(format string, args ...any) *Error {
	return &Error{Description: fmt.Sprintf(format, args...)}
}

// Requirements are a credential configuration's key_attestations_required: the accepted values of each component
// (an empty list puts no constraint on that component). The attestation must assert at least one accepted value of
// each constrained component.
type Requirements struct {
	KeyStorage         []string `json:"key_storage,omitempty"`
	UserAuthentication []string `json:"user_authentication,omitempty"`
}

// Options are what an attestation is checked against.
type Options struct {
	// Trust are the trusted wallet providers.
	Trust *wallettrust.Anchors
	// Time is now (exp, nbf, iat not in the future); MaxAge, when positive, also bounds iat.
	Time jwtverify.Window
	// Algs are the accepted algorithms (proof_signing_alg_values_supported); jwtverify.DefaultAlgs when empty.
	Algs []string
	// RequireExp makes exp mandatory (a key attestation in a jwt proof header).
	RequireExp bool
	// Required, when set, are the requirements to meet.
	Required *Requirements
	// MaxKeys bounds attested_keys; DefaultMaxKeys when zero.
	MaxKeys int
}

// Attestation is a verified key attestation.
type Attestation struct {
	// Raw is the JWT as received.
	Raw string
	// Keys are the attested keys, without repeats.
	Keys []*jwtverify.PublicKey
	// KeyStorage and UserAuthentication are the asserted resistance values.
	KeyStorage, UserAuthentication []string
	// Certification is the certification URL, if any.
	Certification string
	// Nonce is the c_nonce it carries, if any; the caller checks it.
	Nonce string
	// Provider is who signed it.
	Provider *wallettrust.Provider
	// IssuedAt and ExpiresAt are iat and exp (zero when absent).
	IssuedAt, ExpiresAt time.Time
}

type claims struct {
	Iss                *string          `json:"iss"`
	Iat                *float64         `json:"iat"`
	Exp                *float64         `json:"exp"`
	Nbf                *float64         `json:"nbf"`
	AttestedKeys       []jsontext.Value `json:"attested_keys"`
	KeyStorage         []string         `json:"key_storage"`
	UserAuthentication []string         `json:"user_authentication"`
	Certification      *string          `json:"certification"`
	Nonce              *string          `json:"nonce"`
}

// Verify checks a key attestation: typ, alg, a signature by a trusted wallet provider, iat (required), exp
// (required with RequireExp) and nbf, a non-empty attested_keys of public keys, key_storage and
// user_authentication as non-empty string arrays when present, and the requirements. Failures are *Error.
func Verify(token string, o Options) (*Attestation, error) {
	if o.Time.Now.IsZero() {
		return nil, errors.New("keyattest: options need Time.Now")
	}
	tok, err := jwtverify.Parse(token, jwtverify.Rules{What: "the key attestation", Types: []string{JWTType, legacyJWTType},
		Algs: o.Algs, MaxLength: MaxLength})
	if err != nil {
		return nil, fail("%s", err)
	}
	var c claims
	if err := tok.Claims(&c); err != nil {
		return nil, fail("%s", err)
	}
	iss := ""
	if c.Iss != nil {
		iss = *c.Iss
	}
	provider, err := o.Trust.Verify(tok, iss, o.Time.Now)
	if err != nil {
		return nil, fail("%s", err)
	}
	a := &Attestation{Raw: token, Provider: provider, KeyStorage: c.KeyStorage, UserAuthentication: c.UserAuthentication}
	window := o.Time
	if window.MaxAge == 0 {
		window.MaxAge = -1 // a nonce proves freshness; iat alone is only checked against the future
	}
	if a.IssuedAt, err = window.IssuedAt(c.Iat, true, "the key attestation"); err != nil {
		return nil, fail("%s", err)
	}
	if a.ExpiresAt, err = o.Time.Expiry(c.Exp, c.Nbf, o.RequireExp, "the key attestation"); err != nil {
		return nil, fail("%s", err)
	}
	maxKeys := o.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	switch {
	case len(c.AttestedKeys) == 0:
		return nil, fail("the key attestation must carry attested_keys, a non-empty array of public JWKs")
	case len(c.AttestedKeys) > maxKeys:
		return nil, fail("the key attestation attests %d keys; at most %d are accepted", len(c.AttestedKeys), maxKeys)
	}
	seen := map[string]bool{}
	for i, raw := range c.AttestedKeys {
		k, err := jwtverify.ParsePublicJWK(raw, "", fmt.Sprintf("the key attestation attested_keys[%d]", i))
		if err != nil {
			return nil, fail("%s", err)
		}
		if !seen[k.Thumbprint] {
			seen[k.Thumbprint] = true
			a.Keys = append(a.Keys, k)
		}
	}
	for name, list := range map[string][]string{"key_storage": c.KeyStorage, "user_authentication": c.UserAuthentication} {
		if list != nil && len(list) == 0 {
			return nil, fail("the key attestation %s must be a non-empty array when present", name)
		}
	}
	if c.Certification != nil {
		a.Certification = *c.Certification
	}
	if c.Nonce != nil {
		a.Nonce = *c.Nonce
	}
	if o.Required != nil {
		if err := meets("key_storage", c.KeyStorage, o.Required.KeyStorage); err != nil {
			return nil, err
		}
		if err := meets("user_authentication", c.UserAuthentication, o.Required.UserAuthentication); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func meets(name string, asserted, accepted []string) error {
	if len(accepted) == 0 {
		return nil
	}
	for _, v := range asserted {
		if slices.Contains(accepted, v) {
			return nil
		}
	}
	return fail("the key attestation %s must assert one of %v (key_attestations_required in the issuer metadata)", name, accepted)
}

// Attests reports whether k is one of the attested keys.
func (a *Attestation) Attests(k *jwtverify.PublicKey) bool {
	return slices.ContainsFunc(a.Keys, func(x *jwtverify.PublicKey) bool { return x.Thumbprint == k.Thumbprint })
}
