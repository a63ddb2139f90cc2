package handlers

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/presentation"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// Routes of the AuthorizeFunction (the authorization code flow).
const (
	RoutePushedAuthorization = "/par"
	RouteAuthorize           = "/authorize"
	RouteDirectPost          = "/direct_post"
)

// Authorize is the router of the AuthorizeFunction: the pushed authorization request endpoint (RFC 9126), the
// authorization endpoint, and the direct_post endpoint where wallets answer holder authentication requests.
func Authorize(w *Wallet) *apigw.Router {
	r := w.deps.walletRouter("authorize")
	r.Handle(http.MethodPost, RoutePushedAuthorization, apigw.Public, w.pushedAuthorization)
	r.Handle(http.MethodGet, RouteAuthorize, apigw.Public, w.authorize)
	r.Handle(http.MethodPost, RouteDirectPost, apigw.Public, w.directPost, apigw.MaxBody(openid4vp.MaxPostBytes))
	return r
}

// pushedAuthorization answers 201 with the request_uri, or a 400/401 OAuth error body (RFC 9126 section 2.3); a
// DPoP proof and a client attestation are checked as at the token endpoint.
func (w *Wallet) pushedAuthorization(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	svc, err := w.service(ctx, false)
	if err != nil {
		return apigw.Response{}, err
	}
	call := walletCall{svc: svc, dialect: oid4vci.DialectV1}
	preq, err := oid4vci.ParsePushedAuthorizationRequest(string(body), apigw.Header(req, "Content-Type"), w.deps.Config.IssuerURL)
	if err != nil {
		return call.fail(ctx, err)
	}
	client, err := w.authenticateClient(ctx, svc, req, preq.ClientID, RoutePushedAuthorization, &call)
	if err != nil {
		return call.fail(ctx, err)
	}
	resp, err := svc.PushAuthorizationRequest(ctx, preq, client)
	if err != nil {
		return call.fail(ctx, err)
	}
	return apigw.JSON(http.StatusCreated, resp, call.okHeaders()...)
}

// authorize sends the wallet on (302) to authenticate the holder, or back with the code or an error; a request
// whose redirect_uri cannot be trusted (an unknown, expired or used request_uri, another client) is answered
// here with a 400 OAuth error body instead (RFC 6749 section 4.1.2.1). It signs the ID token request, so it sets
// up the signing key.
func (w *Wallet) authorize(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	svc, err := w.service(ctx, true)
	if err != nil {
		return apigw.Response{}, err
	}
	call := walletCall{svc: svc, dialect: oid4vci.DialectV1}
	q, err := oid4vci.ParseAuthorizationEndpointQuery(queryValues(req))
	if err != nil {
		return call.fail(ctx, err)
	}
	step, err := svc.Authorize(ctx, q)
	if err != nil {
		return call.fail(ctx, err)
	}
	return redirect(step), nil
}

// directPost takes the wallet's answer to a holder authentication request: an ID token (redirected on to the
// redirect_uri with the code or the error, a 302), or an OpenID4VP presentation, in the clear (direct_post) or as
// a JWE to the issuer's response key (direct_post.jwt, opened here first), answered 200 with the redirect_uri the
// wallet sends the user agent to (OpenID4VP 1.0 section 8.2); an answer of no waiting session is a 400 OAuth
// error body. It sets up the signing key: a presentation of this issuer's own credentials is verified with it.
func (w *Wallet) directPost(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	svc, err := w.service(ctx, true)
	if err != nil {
		return apigw.Response{}, err
	}
	call := walletCall{svc: svc, dialect: oid4vci.DialectV1}
	form, err := oid4vci.ParseHolderForm(string(body), apigw.Header(req, "Content-Type"), openid4vp.MaxPostBytes)
	if err != nil {
		return call.fail(ctx, err)
	}
	var keys presentation.ResponseKeys
	if ring := w.presentationKeys(); ring != nil {
		keys = ring // never a typed nil: without response keys a direct_post.jwt response has no key to open with
	}
	resp, encrypted, err := presentation.OpenResponse(ctx, form, keys)
	if err != nil {
		return call.fail(ctx, err)
	}
	if !encrypted {
		if resp, err = oid4vci.HolderResponseOf(form); err != nil {
			return call.fail(ctx, err)
		}
	}
	step, err := svc.RespondToHolderRequest(ctx, resp)
	if err != nil {
		return call.fail(ctx, err)
	}
	if step.InBody {
		return apigw.JSON(http.StatusOK, map[string]string{"redirect_uri": step.RedirectURL}, noStore...)
	}
	return redirect(step), nil
}

// redirect is the 302 of an authorization step; the URL carries a code or a request, so nothing caches it.
func redirect(step *wallet.AuthorizationStep) apigw.Response {
	return apigw.Raw(http.StatusFound, "text/plain; charset=utf-8", "", append([]string{"Location", step.RedirectURL},
		noStore...)...)
}

// queryValues is the query of a proxy event with every value of a repeated parameter.
func queryValues(req *apigw.Request) url.Values {
	q := url.Values{}
	for k, vs := range req.MultiValueQueryStringParameters {
		q[k] = append([]string(nil), vs...)
	}
	for k, v := range req.QueryStringParameters {
		if _, ok := q[k]; !ok {
			q.Set(k, v)
		}
	}
	return q
}
