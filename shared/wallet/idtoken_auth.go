package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/idtoken"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// idTokenAuthenticator authenticates the holder with a self-issued ID token (EWC RFC001, EBSI): the wallet is sent
// an ID token request (response_type id_token, direct_post to the issuer, a nonce, and the same parameters as a
// request object signed by the issuer's key through keys.SignJWS), and posts an ID token signed by the key or DID
// it names.
type idTokenAuthenticator struct{ s *Service }

// Method implements HolderAuthenticator.
func (idTokenAuthenticator) Method() string { return definition.HolderAuthIDToken }

// Begin implements HolderAuthenticator: the ID token request's parameters with the signed request object (one KMS
// Sign).
func (a idTokenAuthenticator) Begin(ctx context.Context, session *exchange.AuthorizationSession, nonce, state string, expires time.Time) (map[string]string, error) {
	cfg := a.s.cfg
	req := idtoken.Request{Issuer: cfg.IssuerURL, Audience: session.ClientID,
		ResponseURI: oid4vci.DefaultEndpoints(cfg.IssuerURL).DirectPost, Nonce: nonce, State: state,
		IssuedAt: a.s.rt.Now(), Expires: expires}
	payload, err := json.Marshal(req.Claims())
	if err != nil {
		return nil, fmt.Errorf("ID token request: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, idtoken.TypRequestObject); err != nil {
		return nil, fmt.Errorf("ID token request: %w", err)
	}
	signed, err := keys.SignJWS(ctx, a.s.signer, payload, hdr)
	if err != nil {
		return nil, fmt.Errorf("sign ID token request: %w", err)
	}
	return req.Query(string(signed)), nil
}

// Finish implements HolderAuthenticator: the posted id_token must verify (idtoken.Verify) for this issuer and the
// session's nonce; a failure is access_denied saying what is wrong.
func (a idTokenAuthenticator) Finish(_ context.Context, _ *exchange.AuthorizationSession, nonceMatches func(string) bool, resp *oid4vci.HolderResponse) (*HolderIdentity, error) {
	raw := resp.Form.Get("id_token")
	if raw == "" {
		return nil, oid4vci.Errorf(oid4vci.ErrAccessDenied, "id_token is required: the ID token the request asked for")
	}
	v, err := idtoken.Verify(raw, idtoken.Expect{Audience: a.s.cfg.IssuerURL, NonceMatches: nonceMatches,
		Time: jwtverify.Window{Now: a.s.rt.Now()}})
	var je *jwtverify.Error
	if errors.As(err, &je) {
		return nil, oid4vci.Errorf(oid4vci.ErrAccessDenied, "%s", je.Reason)
	}
	if err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	return &HolderIdentity{Subject: v.Subject, KeyThumbprint: v.Key.Thumbprint, Method: definition.HolderAuthIDToken,
		IDToken: raw, IDTokenDecoded: map[string]any{"header": v.Header, "payload": v.Claims}}, nil
}
