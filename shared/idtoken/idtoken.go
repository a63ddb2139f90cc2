// Package idtoken is the holder authentication of the authorization endpoint by a self-issued ID token (SIOPv2, as
// EWC RFC001 and EBSI use it): the claims of the signed ID token request the issuer sends the wallet, and the
// verification of the ID token the wallet posts back, signed by the key it names (a did:key or did:jwk DID URL in
// kid, or a jwk header). No I/O: the DIDs accepted carry their keys, nothing is resolved over the network.
package idtoken

import (
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// Protocol values of the ID token request (OpenID4VP / SIOPv2 with direct_post, EWC RFC001 section 6.4.1).
const (
	// TypRequestObject is the typ of the signed request object (RFC 9101 section 10.8).
	TypRequestObject = "oauth-authz-req+jwt"
	// ResponseType is what the wallet is asked to return.
	ResponseType = "id_token"
	// ResponseMode is how: an HTTP POST of the form to the issuer's direct_post endpoint.
	ResponseMode = "direct_post"
	// Scope is the OpenID Connect scope of the request.
	Scope = "openid"
	// jwkThumbprintURI prefixes an RFC 9278 JWK thumbprint URI subject.
	jwkThumbprintURI = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"
)

// MaxLength bounds an ID token (a did:jwk kid of a P-521 key included).
const MaxLength = 8 << 10

// Request is the ID token request the authorization endpoint sends to the wallet's redirect_uri.
type Request struct {
	// Issuer is the credential issuer identifier: iss and client_id of the request, aud of the ID token.
	Issuer string
	// Audience is the wallet's client_id (aud of the request object).
	Audience string
	// ResponseURI is the issuer's direct_post endpoint.
	ResponseURI string
	// Nonce binds the ID token to this request; State names the authorization session in the wallet's post.
	Nonce, State string
	// IssuedAt and Expires bound the request object.
	IssuedAt, Expires time.Time
}

// Claims is the payload of the signed request object: the parameters of the request, iss, aud, iat and exp.
func (r *Request) Claims() map[string]any {
	c := r.parameters()
	c["iss"] = r.Issuer
	c["iat"] = r.IssuedAt.Unix()
	c["exp"] = r.Expires.Unix()
	if r.Audience != "" {
		c["aud"] = r.Audience
	}
	return c
}

// Query is the query of the redirect to the wallet: the parameters in the clear (EWC RFC001 lists them so) and the
// signed request object, whose values the wallet must prefer (RFC 9101 section 6.3).
func (r *Request) Query(requestObject string) map[string]string {
	q := map[string]string{"request": requestObject}
	for k, v := range r.parameters() {
		q[k] = v.(string)
	}
	return q
}

func (r *Request) parameters() map[string]any {
	return map[string]any{"client_id": r.Issuer, "response_type": ResponseType, "response_mode": ResponseMode,
		"redirect_uri": r.ResponseURI, "scope": Scope, "nonce": r.Nonce, "state": r.State}
}

// Expect is what an ID token must match.
type Expect struct {
	// Audience is the issuer identifier (the client_id of the request).
	Audience string
	// Nonce is the request's nonce; NonceMatches, when set, decides instead (the session keeps only a hash).
	Nonce        string
	NonceMatches func(nonce string) bool
	// Time checks iat and exp.
	Time jwtverify.Window
	// Algs are the accepted algorithms; jwtverify.DefaultAlgs when empty.
	Algs []string
}

// Verified is an ID token that passed every check.
type Verified struct {
	// Subject is its iss and sub: the holder's DID, or the thumbprint of the jwk header's key.
	Subject string
	// Key is the key that signed it (the holder's).
	Key *jwtverify.PublicKey
	// Header and Claims are the decoded JWT, as the record keeps them.
	Header, Claims map[string]any
}

type claims struct {
	Iss   string         `json:"iss"`
	Sub   string         `json:"sub"`
	Aud   jsontext.Value `json:"aud"`
	Nonce string         `json:"nonce"`
	Exp   *float64       `json:"exp"`
	Iat   *float64       `json:"iat"`
	Nbf   *float64       `json:"nbf"`
}

const what = "the ID token"

// Verify checks a wallet's ID token: a compact JWS (typ JWT or none, an asymmetric alg from the list), signed by the
// key it names (kid a did:key or did:jwk DID URL, or a jwk header, or, without either, the did:key or did:jwk of
// sub), self-issued (iss = sub = that DID or the key's thumbprint), for this issuer (aud), with the request's nonce,
// unexpired (exp) and fresh (iat). Failures are *jwtverify.Error saying what is wrong, never quoting the token.
func Verify(raw string, e Expect) (*Verified, error) {
	tok, err := jwtverify.Parse(raw, jwtverify.Rules{What: what, Types: []string{"JWT"}, TypOptional: true,
		Algs: e.Algs, MaxLength: MaxLength})
	if err != nil {
		return nil, err
	}
	var c claims
	if err := tok.Claims(&c); err != nil {
		return nil, err
	}
	if c.Sub == "" || c.Iss == "" {
		return nil, jwtverify.Errorf("%s must carry iss and sub: the holder's DID (or its key's thumbprint)", what)
	}
	if c.Iss != c.Sub {
		return nil, jwtverify.Errorf("%s must be self-issued: iss must equal sub", what)
	}
	key, err := signingKey(tok, c.Sub)
	if err != nil {
		return nil, err
	}
	if err := tok.Verify(key.Raw); err != nil {
		return nil, err
	}
	if !hasAudience(c.Aud, e.Audience) {
		return nil, jwtverify.Errorf("%s aud must be the credential issuer %s", what, e.Audience)
	}
	if c.Nonce == "" || (e.NonceMatches == nil && c.Nonce != e.Nonce) || (e.NonceMatches != nil && !e.NonceMatches(c.Nonce)) {
		return nil, jwtverify.Errorf("%s nonce must be the nonce of the ID token request", what)
	}
	if _, err := e.Time.Expiry(c.Exp, c.Nbf, true, what); err != nil {
		return nil, err
	}
	if _, err := e.Time.IssuedAt(c.Iat, true, what); err != nil {
		return nil, err
	}
	v := &Verified{Subject: c.Sub, Key: key, Header: map[string]any{}, Claims: map[string]any{}}
	if err := tok.Header(&v.Header); err != nil {
		return nil, err
	}
	if err := strictjson.Unmarshal(tok.Payload(), &v.Claims); err != nil {
		return nil, jwtverify.Errorf("%s claims cannot be read", what)
	}
	return v, nil
}

// signingKey finds the key the token names and checks that sub is that key's identifier.
func signingKey(tok *jwtverify.Token, sub string) (*jwtverify.PublicKey, error) {
	kid, _, err := tok.String("kid")
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(kid, "did:"):
		if tok.Has("jwk") {
			return nil, jwtverify.Errorf("%s names its key twice (a DID URL in kid and a jwk header); send one", what)
		}
		did, key, err := ResolveDID(kid, what+" kid")
		if err != nil {
			return nil, err
		}
		if did != sub {
			return nil, jwtverify.Errorf("%s kid must be a key of the DID in sub", what)
		}
		return key, nil
	case tok.Has("jwk"):
		key, err := tok.HeaderJWK("jwk")
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(sub, "did:") {
			_, named, err := ResolveDID(sub, what+" sub")
			if err != nil {
				return nil, err
			}
			if named.Thumbprint != key.Thumbprint {
				return nil, jwtverify.Errorf("%s jwk header is not the key of the DID in sub", what)
			}
			return key, nil
		}
		if sub != key.Thumbprint && sub != jwkThumbprintURI+key.Thumbprint {
			return nil, jwtverify.Errorf("%s sub must be the RFC 7638 thumbprint of the jwk header's key (or a did:key "+
				"or did:jwk of it)", what)
		}
		return key, nil
	case strings.HasPrefix(sub, "did:"):
		_, key, err := ResolveDID(sub, what+" sub")
		return key, err
	default:
		return nil, jwtverify.Errorf("%s must name its key: a did:key or did:jwk DID URL in kid, or the public key "+
			"as a jwk header", what)
	}
}

// hasAudience reports whether aud (a string or an array of strings) names want.
func hasAudience(aud jsontext.Value, want string) bool {
	if len(aud) == 0 || want == "" {
		return false
	}
	var one string
	if strictjson.Unmarshal(aud, &one) == nil && aud.Kind() == '"' {
		return one == want
	}
	var many []string
	if strictjson.Unmarshal(aud, &many) != nil {
		return false
	}
	for _, a := range many {
		if a == want {
			return true
		}
	}
	return false
}
