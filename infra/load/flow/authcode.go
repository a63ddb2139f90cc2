package flow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Steps of the authorization code flow besides those it shares with the pre-authorized one (issue, offer,
// token, nonce, credential, notification). They are not in Result.Steps; AfterStep sees them.
const (
	StepPushedAuthorization Step = Step(NumSteps) + iota
	StepAuthorize
	StepDirectPost
)

// AuthorizationCodeGrant is the grant type of the authorization code flow.
const AuthorizationCodeGrant = "authorization_code"

// walletRedirect is the redirect_uri the flow registers: never fetched (redirects are read, not followed).
const walletRedirect = "https://wallet.example/cb"

// RunAuthorizationCode runs one full authorization code flow of an offer: issue (admin API, no PIN), the offer by
// reference, the pushed authorization request (PKCE S256, the offer's issuer_state, the configuration as scope),
// the authorization endpoint (its answer is the ID token request), the holder's ID token (did:jwk) posted to the
// direct_post endpoint (its answer carries the code), the token request with the code_verifier, nonce,
// credential and notification. AfterStep is called after each request.
func (c *Client) RunAuthorizationCode(ctx context.Context, definitionID string) (Result, error) {
	begin := time.Now()
	var r Result
	offer, took, err := c.Issue(ctx, definitionID)
	if err != nil {
		return r, err
	}
	r.ExchangeID = offer.ExchangeID
	r.Steps[StepIssue], r.Steps[StepOffer] = took[0], took[1]
	if offer.IssuerState == "" {
		return r, &StepError{Step: StepOffer, Err: errors.New("the offer has no authorization_code grant")}
	}
	holder, err := NewHolder()
	if err != nil {
		return r, &StepError{Step: StepDirectPost, Err: err}
	}
	start := time.Now()
	code, verifier, err := c.Authorize(ctx, offer, holder)
	if err != nil {
		return r, err
	}
	form := url.Values{"grant_type": {AuthorizationCodeGrant}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {walletRedirect}, "client_id": {"flow-wallet"}}
	a, err := c.post(ctx, StepToken, "/token", "application/x-www-form-urlencoded", []byte(form.Encode()), "", nil)
	if err != nil {
		return r, err
	}
	if err := expect(StepToken, a, http.StatusOK); err != nil {
		return r, err
	}
	token := a.str("access_token")
	r.Steps[StepToken] = time.Since(start)
	c.stepDone(StepToken)
	if err := c.finish(ctx, &r, offer, token, nil); err != nil {
		return r, err
	}
	r.Total = time.Since(begin)
	return r, nil
}

// Authorize takes offer through the authorization endpoint as an EWC RFC001 wallet: PAR, the authorization
// endpoint, and the ID token of holder (its did:jwk) posted to direct_post. It returns the code and the PKCE
// verifier.
func (c *Client) Authorize(ctx context.Context, offer Offer, holder *Holder) (code, verifier string, err error) {
	nr := *c
	hc := *c.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	nr.HTTP = &hc
	rnd := make([]byte, 32)
	if _, err := rand.Read(rnd); err != nil {
		return "", "", &StepError{Step: StepPushedAuthorization, Err: err}
	}
	verifier = base64.RawURLEncoding.EncodeToString(rnd) // 43 characters (RFC 7636 section 4.1)
	sum := sha256.Sum256([]byte(verifier))
	par := url.Values{"response_type": {"code"}, "client_id": {"flow-wallet"}, "redirect_uri": {walletRedirect},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"scope": {offer.ConfigurationID}, "issuer_state": {offer.IssuerState}, "state": {"flow-state"}}
	a, err := nr.do(ctx, StepPushedAuthorization, http.MethodPost, "/par", strings.NewReader(par.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	if err != nil {
		return "", "", err
	}
	if err := expect(StepPushedAuthorization, a, http.StatusCreated); err != nil {
		return "", "", err
	}
	c.stepDone(StepPushedAuthorization)

	q := url.Values{"client_id": {"flow-wallet"}, "request_uri": {a.str("request_uri")}}
	a, err = nr.do(ctx, StepAuthorize, http.MethodGet, "/authorize?"+q.Encode(), nil)
	if err != nil {
		return "", "", err
	}
	req, err := redirected(StepAuthorize, a)
	if err != nil {
		return "", "", err
	}
	c.stepDone(StepAuthorize)

	idToken, err := holder.idToken(offer.Issuer, req.Get("nonce"), c.IDTokenClaims)
	if err != nil {
		return "", "", &StepError{Step: StepDirectPost, Err: err}
	}
	post := url.Values{"id_token": {idToken}, "state": {req.Get("state")}}
	a, err = nr.do(ctx, StepDirectPost, http.MethodPost, req.Get("redirect_uri"), strings.NewReader(post.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	if err != nil {
		return "", "", err
	}
	resp, err := redirected(StepDirectPost, a)
	if err != nil {
		return "", "", err
	}
	if resp.Get("code") == "" || resp.Get("state") != "flow-state" || resp.Get("iss") != offer.Issuer {
		return "", "", &StepError{Step: StepDirectPost, Status: a.status, Code: resp.Get("error")}
	}
	c.stepDone(StepDirectPost)
	return resp.Get("code"), verifier, nil
}

// redirected is the query of a 302 answer's Location.
func redirected(step Step, a *answer) (url.Values, error) {
	if a.status != http.StatusFound {
		return nil, &StepError{Step: step, Status: a.status, Code: a.errorCode()}
	}
	u, err := url.Parse(a.header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), walletRedirect) {
		return nil, &StepError{Step: step, Status: a.status, Err: errors.New("redirect elsewhere than the redirect_uri")}
	}
	return u.Query(), nil
}

// idToken is the holder's self-issued ID token (kid its did:jwk) for issuer and nonce, with extra claims.
func (h *Holder) idToken(issuer, nonce string, extra map[string]any) (string, error) {
	pub, err := json.Marshal(h.pub)
	if err != nil {
		return "", err
	}
	did := "did:jwk:" + base64.RawURLEncoding.EncodeToString(pub)
	hdr := jws.NewHeaders()
	if err := hdr.Set("typ", "JWT"); err != nil {
		return "", err
	}
	if err := hdr.Set("kid", did+"#0"); err != nil {
		return "", err
	}
	now := time.Now()
	claims := map[string]any{}
	for k, v := range extra {
		claims[k] = v
	}
	for k, v := range map[string]any{"iss": did, "sub": did, "aud": issuer, "nonce": nonce, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix()} {
		claims[k] = v
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.ES256, h.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return string(b), nil
}
