package statuslist

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

const (
	// TokenType is the `typ` header of a status list token.
	TokenType = "statuslist+jwt"
	// MediaType is the Content-Type a status list token is served with.
	MediaType = "application/statuslist+jwt"
)

// Signer is the issuer's signing key as the status list token needs it: a keys.Signer (the KMS key or a local
// P-256 key), through which keys.SignJWS signs the token with jws.Sign.
type Signer = keys.Signer

// EncodedList is the `status_list` claim of a status list token.
type EncodedList struct {
	Bits int    `json:"bits"`
	LST  string `json:"lst"`
}

// Decode returns the list the claim carries.
func (e EncodedList) Decode(opts ...DecodeOption) (*List, error) {
	return Decode(e.Bits, e.LST, opts...)
}

// TokenClaims is the claims set of a status list token (draft section "Status List Token in JWT Format").
type TokenClaims struct {
	Issuer     string      `json:"iss,omitempty"`
	Subject    string      `json:"sub"`
	IssuedAt   int64       `json:"iat"`
	ExpiresAt  int64       `json:"exp,omitempty"`
	TTL        int64       `json:"ttl,omitempty"`
	StatusList EncodedList `json:"status_list"`
}

// TokenOptions are the issuer's choices for one status list token.
type TokenOptions struct {
	// URI is the list's URI (see URI), the token's `sub` and the `uri` of every credential's reference.
	URI string
	// Issuer, when set, is the `iss` claim; relying parties compare it with the credential's `iss`.
	Issuer string
	// IssuedAt is the `iat` claim.
	IssuedAt time.Time
	// Validity is how long the token is valid: `exp` = `iat` + Validity. It bounds how long a relying party may
	// rely on a status that has since changed, so it should be hours, not weeks.
	Validity time.Duration
	// TTL is the `ttl` claim: how long a relying party may cache the token before fetching it again.
	TTL time.Duration
}

// NewClaims builds the claims of a token carrying list. TTL and Validity must be whole positive seconds with
// TTL <= Validity.
func NewClaims(list *List, o TokenOptions) (TokenClaims, error) {
	switch {
	case list == nil:
		return TokenClaims{}, errors.New("status list token: no list")
	case o.URI == "":
		return TokenClaims{}, errors.New("status list token: no uri")
	case o.IssuedAt.IsZero():
		return TokenClaims{}, errors.New("status list token: no issuance time")
	case o.TTL < time.Second || o.Validity < time.Second:
		return TokenClaims{}, fmt.Errorf("status list token: ttl %s and validity %s must be at least 1s", o.TTL, o.Validity)
	case o.TTL > o.Validity:
		return TokenClaims{}, fmt.Errorf("status list token: ttl %s exceeds validity %s", o.TTL, o.Validity)
	}
	iat := o.IssuedAt.Unix()
	return TokenClaims{
		Issuer:     o.Issuer,
		Subject:    o.URI,
		IssuedAt:   iat,
		ExpiresAt:  iat + int64(o.Validity/time.Second),
		TTL:        int64(o.TTL / time.Second),
		StatusList: EncodedList{Bits: list.Bits(), LST: list.Encode()},
	}, nil
}

// SignToken signs claims as a status list token through keys.SignJWS (jws.Sign with the signer's crypto.Signer, the
// path of every issuer signature): a compact JWS with `alg` ES256, `typ` statuslist+jwt and the signer's `kid`. It
// makes exactly one signature (one KMS Sign call with the KMS signer).
func SignToken(ctx context.Context, s Signer, claims TokenClaims) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sign status list token: %w", err)
	}
	if s == nil || s.KeyID() == "" {
		return "", errors.New("sign status list token: signer has no key id")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign status list token: marshal claims: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, TokenType); err != nil {
		return "", fmt.Errorf("sign status list token: typ header: %w", err)
	}
	out, err := keys.SignJWS(ctx, s, payload, hdr)
	if err != nil {
		return "", fmt.Errorf("sign status list token: %w", err)
	}
	return string(out), nil
}

// IssueToken builds the claims of a token carrying list and signs them.
func IssueToken(ctx context.Context, s Signer, list *List, o TokenOptions) (string, error) {
	claims, err := NewClaims(list, o)
	if err != nil {
		return "", err
	}
	return SignToken(ctx, s, claims)
}

// VerifyOptions are what a status list token is checked against.
type VerifyOptions struct {
	// URI is the `uri` of the credential's reference; the token's `sub` must equal it.
	URI string
	// Now is the time of the check.
	Now time.Time
	// Leeway tolerates clock skew on `exp` and `iat`.
	Leeway time.Duration
	// MaxListBytes bounds the decompressed list (default DefaultMaxBytes).
	MaxListBytes int
}

// VerifiedToken is a status list token whose signature, header and claims have been checked.
type VerifiedToken struct {
	KeyID  string
	Claims TokenClaims
	List   *List
}

// VerifyToken checks a status list token as a relying party does (draft section "Validation Rules"): a compact
// JWS with one signature, `alg` ES256 verified with key (its `kid`, when the key has one, must match the
// header's), `typ` statuslist+jwt, `sub` equal to o.URI, `iat` present and not in the future, `exp` (when present)
// not passed, `ttl` (when present) positive, and a status list that decodes within the bound.
func VerifyToken(token string, key jwk.Key, o VerifyOptions) (*VerifiedToken, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("verify status list token: %s: %w", fmt.Sprintf(format, args...), ErrInvalidToken)
	}
	if key == nil {
		return nil, invalid("no verification key")
	}
	rawHdr, _, _, err := jws.SplitCompactString(token)
	if err != nil {
		return nil, invalid("not a compact JWS")
	}
	// jwx keeps the last of two members of the same name; a token that repeats one is refused first.
	if hdrJSON, err := base64.RawURLEncoding.DecodeString(string(rawHdr)); err != nil {
		return nil, invalid("header is not base64url")
	} else if err := strictjson.Check(hdrJSON); err != nil {
		return nil, invalid("header: %v", err)
	}
	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil {
		return nil, invalid("parse: %v", err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, invalid("%d signatures", len(sigs))
	}
	hdr := sigs[0].ProtectedHeaders()
	if alg := hdr.Algorithm(); alg != jwa.ES256 {
		return nil, invalid("alg %q, want ES256", alg)
	}
	if typ := hdr.Type(); typ != TokenType {
		return nil, invalid("typ %q, want %s", typ, TokenType)
	}
	if kid := key.KeyID(); kid != "" && hdr.KeyID() != kid {
		return nil, invalid("kid does not match the key")
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.ES256, key))
	if err != nil {
		return nil, invalid("signature: %v", err)
	}
	// Claim names match case-sensitively and none may repeat (strictjson); ttl is told apart from an absent one.
	var wire struct {
		TokenClaims
		TTL *int64 `json:"ttl"`
	}
	if err := strictjson.Unmarshal(payload, &wire); err != nil {
		return nil, invalid("claims: %v", err)
	}
	claims := wire.TokenClaims
	if wire.TTL != nil {
		claims.TTL = *wire.TTL
	}
	now := o.Now.Unix()
	leeway := int64(o.Leeway / time.Second)
	switch {
	case claims.Subject == "" || claims.Subject != o.URI:
		return nil, invalid("sub does not match the referenced uri")
	case claims.IssuedAt <= 0:
		return nil, invalid("no iat")
	case claims.IssuedAt > now+leeway:
		return nil, invalid("iat in the future")
	case claims.ExpiresAt != 0 && claims.ExpiresAt <= now-leeway:
		return nil, invalid("expired")
	case wire.TTL != nil && claims.TTL <= 0:
		return nil, invalid("ttl not positive")
	}
	var opts []DecodeOption
	if o.MaxListBytes > 0 {
		opts = append(opts, WithMaxBytes(o.MaxListBytes))
	}
	list, err := claims.StatusList.Decode(opts...)
	if err != nil {
		return nil, fmt.Errorf("verify status list token: status_list: %w: %w", ErrInvalidToken, err)
	}
	return &VerifiedToken{KeyID: hdr.KeyID(), Claims: claims, List: list}, nil
}

// Status returns the status of the credential ref refers to; ref must point into this token's list.
func (v *VerifiedToken) Status(ref Reference) (Status, error) {
	if ref.URI != v.Claims.Subject {
		return 0, fmt.Errorf("status of reference: uri is not this token's sub: %w", ErrInvalidReference)
	}
	s, err := v.List.Get(ref.Idx)
	if err != nil {
		return 0, fmt.Errorf("status of reference: %w", err)
	}
	return s, nil
}

// MaxAge is how long an HTTP response carrying the token may be cached (Cache-Control max-age): its `ttl`, cut
// at its `exp`, never negative.
func (c TokenClaims) MaxAge(now time.Time) time.Duration {
	age := time.Duration(c.TTL) * time.Second
	if c.ExpiresAt != 0 {
		age = min(age, time.Unix(c.ExpiresAt, 0).Sub(now))
	}
	return max(age, 0)
}

// NeedsReissue says whether a stored token must be re-signed before it is served: it expires within margin (a
// token is otherwise re-signed only when a status in its list changes, never per request).
func (c TokenClaims) NeedsReissue(now time.Time, margin time.Duration) bool {
	return c.ExpiresAt != 0 && time.Unix(c.ExpiresAt, 0).Sub(now) < margin
}
