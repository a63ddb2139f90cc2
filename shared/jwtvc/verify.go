package jwtvc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// maxTokenBytes bounds the token Verify parses.
const maxTokenBytes = 256 << 10

// clockSkew is how far nbf may be in the future and exp in the past.
const clockSkew = time.Minute

// Verified is what a verified credential says.
type Verified struct {
	// Header and Claims are the JWS protected header and the JWT claims set, as JSON objects.
	Header, Claims map[string]any
	// Types is vc.type.
	Types []string
	// Subject is vc.credentialSubject.
	Subject map[string]any
	// HolderKey is cnf.jwk, nil when unbound.
	HolderKey jwk.Key
	// Status is the `status` claim's Token Status List entry, nil when absent.
	Status *StatusReference
}

// Verify checks a jwt_vc_json credential: an ES256 signature by a key of keys named by the header's kid, typ JWT,
// validity at now (nbf, exp), and the VCDM 1.1 JWT encoding rules: iss = vc.issuer, jti = vc.id, sub =
// credentialSubject.id = the did:jwk of cnf.jwk, @context and type, credentialStatus naming the `status` entry.
func Verify(token string, keys jwk.Set, now time.Time) (*Verified, error) {
	if len(token) > maxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenBytes)
	}
	body, err := jws.Verify([]byte(token), jws.WithKeySet(keys, jws.WithRequireKid(true), jws.WithUseDefault(false)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	msg, err := jws.Parse([]byte(token))
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, fmt.Errorf("%w: not a single-signature JWS", ErrInvalidToken)
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	if hdr.Algorithm() != jwa.ES256 || hdr.Type() != HeaderType {
		return nil, fmt.Errorf("%w: header alg %s typ %q, want ES256 and %q", ErrInvalidToken, hdr.Algorithm(), hdr.Type(), HeaderType)
	}
	out := &Verified{}
	if out.Header, err = hdr.AsMap(context.Background()); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrInvalidToken, err)
	}
	var p payload
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	if err := json.Unmarshal(body, &out.Claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	vc := p.VC
	switch {
	case p.Issuer == "" || p.Issuer != vc.Issuer:
		return nil, fmt.Errorf("%w: iss and vc.issuer differ or are empty", ErrInvalidToken)
	case p.JTI == "" || p.JTI != vc.ID:
		return nil, fmt.Errorf("%w: jti and vc.id differ or are empty", ErrInvalidToken)
	case !slices.Equal(vc.Context, []string{ContextV1}):
		return nil, fmt.Errorf("%w: vc.@context is not [%q]", ErrInvalidToken, ContextV1)
	case checkTypes(vc.Type) != nil:
		return nil, fmt.Errorf("%w: vc.type: %w", ErrInvalidToken, checkTypes(vc.Type))
	case vc.CredentialSubject == nil:
		return nil, fmt.Errorf("%w: no vc.credentialSubject", ErrInvalidToken)
	case p.NotBefore == 0 || now.Add(clockSkew).Before(time.Unix(p.NotBefore, 0)):
		return nil, fmt.Errorf("%w: not valid before nbf", ErrInvalidToken)
	case p.Expiry != 0 && now.Add(-clockSkew).After(time.Unix(p.Expiry, 0)):
		return nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	if issued, err := time.Parse(time.RFC3339, vc.IssuanceDate); err != nil || issued.Unix() != p.NotBefore {
		return nil, fmt.Errorf("%w: vc.issuanceDate does not match nbf", ErrInvalidToken)
	}
	if p.Expiry != 0 {
		if exp, err := time.Parse(time.RFC3339, vc.ExpirationDate); err != nil || exp.Unix() != p.Expiry {
			return nil, fmt.Errorf("%w: vc.expirationDate does not match exp", ErrInvalidToken)
		}
	}
	out.Types, out.Subject = vc.Type, vc.CredentialSubject
	if p.CNF != nil {
		if out.HolderKey, err = jwk.ParseKey(p.CNF.JWK); err != nil {
			return nil, fmt.Errorf("%w: cnf.jwk: %w", ErrInvalidToken, err)
		}
		did, _ := vc.CredentialSubject["id"].(string)
		if did != p.Subject || !strings.HasPrefix(did, "did:jwk:") {
			return nil, fmt.Errorf("%w: sub and credentialSubject.id are not the holder's did:jwk", ErrInvalidToken)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(did, "did:jwk:"))
		if err != nil {
			return nil, fmt.Errorf("%w: did:jwk is not base64url", ErrInvalidToken)
		}
		didKey, err := jwk.ParseKey(raw)
		if err != nil || !jwk.Equal(didKey, out.HolderKey) {
			return nil, fmt.Errorf("%w: did:jwk and cnf.jwk name different keys", ErrInvalidToken)
		}
	}
	if (p.Status == nil) != (vc.CredentialStatus == nil) {
		return nil, fmt.Errorf("%w: status and vc.credentialStatus must come together", ErrInvalidToken)
	}
	if p.Status != nil {
		cs := vc.CredentialStatus
		if cs.Type != StatusType || cs.StatusList != p.Status.StatusList || p.Status.StatusList.URI == "" {
			return nil, fmt.Errorf("%w: vc.credentialStatus does not name the status entry", ErrInvalidToken)
		}
		out.Status = &StatusReference{Index: p.Status.StatusList.Idx, URI: p.Status.StatusList.URI}
	}
	return out, nil
}
