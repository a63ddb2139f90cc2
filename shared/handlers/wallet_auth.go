package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// walletCall is what rendering a wallet endpoint's answer needs to know about the request: the use cases, the
// dialect the wallet spoke, whether it used DPoP (its answers then carry a fresh DPoP-Nonce, and a resource
// endpoint challenges with the DPoP scheme) and whether the endpoint is a resource endpoint (errors about the
// access token go into WWW-Authenticate with 401) or the token endpoint (400 bodies).
type walletCall struct {
	svc         *wallet.Service
	dialect     oid4vci.Dialect
	usedDPoP    bool
	resource    bool
	draftNonces bool
}

// endpointURL is the URL of a wallet endpoint as the metadata names it: what DPoP proofs' htu must be.
func (w *Wallet) endpointURL(route string) string { return w.deps.Config.IssuerURL + route }

// presentedAccess reads how a resource request presents its access token: Authorization: Bearer <token>, or
// Authorization: DPoP <token> with a DPoP proof (checked here: htm, htu, ath, nonce, jti) whose key the use case
// compares with the token's binding. A token in the query string is refused (never accepted anywhere else but
// the header).
func (w *Wallet) presentedAccess(ctx context.Context, svc *wallet.Service, req *apigw.Request, route string) (walletCall, wallet.Access, error) {
	call := walletCall{svc: svc, dialect: oid4vci.DialectV1, resource: true, draftNonces: true}
	if apigw.Query(req, "access_token") != "" {
		return call, wallet.Access{}, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "the access token must not be "+
			"sent in the query string; send it in the Authorization header")
	}
	h, err := singleHeader(req, "Authorization")
	if err != nil {
		return call, wallet.Access{}, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "send one Authorization header")
	}
	if strings.TrimSpace(h) == "" {
		return call, wallet.Access{}, errNoAuthorization
	}
	scheme, token, err := oid4vci.AccessToken(h)
	if err != nil {
		return call, wallet.Access{}, err
	}
	access := wallet.Access{Token: token, Scheme: scheme}
	if scheme != oid4vci.TokenTypeDPoP {
		return call, access, nil
	}
	call.usedDPoP = true
	proof, err := singleHeader(req, dpop.Header)
	if err != nil {
		return call, access, err
	}
	if proof == "" {
		return call, access, &dpop.Error{Code: dpop.ErrInvalidProof, Description: "a DPoP access token needs a " +
			"DPoP proof: send it in the DPoP header"}
	}
	p, err := svc.CheckDPoP(ctx, proof, http.MethodPost, w.endpointURL(route), token)
	if err != nil {
		return call, access, err
	}
	access.DPoPKey = p.Key.Thumbprint
	return call, access, nil
}

// singleHeader is the value of a header sent at most once ("" when absent); a header sent more than once (two
// proofs or attestations) is refused: RFC 9449 section 4.3 and the attestation draft allow exactly one.
func singleHeader(req *apigw.Request, name string) (string, error) {
	n := 0
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			n += len(vs)
		}
	}
	if n > 1 {
		if strings.EqualFold(name, dpop.Header) {
			return "", &dpop.Error{Code: dpop.ErrInvalidProof, Description: "send exactly one DPoP header"}
		}
		return "", oid4vci.Errorf(oid4vci.ErrInvalidRequest, "send the %s header once", name)
	}
	return apigw.Header(req, name), nil
}

// okHeaders are the headers of a successful answer: no-store, and a fresh DPoP nonce for a wallet using DPoP.
func (c walletCall) okHeaders() []string {
	h := append([]string(nil), noStore...)
	if c.usedDPoP {
		if n := c.svc.DPoPNonce(); n != "" {
			h = append(h, dpop.NonceHeader, n)
		}
	}
	return h
}

// fail renders a use case error: a *dpop.Error as invalid_dpop_proof, use_dpop_nonce or (a bound token sent
// otherwise) invalid_token, with a fresh DPoP-Nonce, at the token endpoint a 400 body, at a resource endpoint a
// 401 with a DPoP challenge; an *oid4vci.Error as the OAuth/OpenID4VCI error body of the wallet's dialect (with a
// fresh c_nonce for draft wallets where they expect one, and a Bearer or DPoP challenge for invalid_token); a
// signing outage as 503; anything else as the router's 500.
func (c walletCall) fail(ctx context.Context, err error) (apigw.Response, error) {
	var de *dpop.Error
	if errors.As(err, &de) {
		headers := append([]string(nil), noStore...)
		if n := c.svc.DPoPNonce(); n != "" {
			headers = append(headers, dpop.NonceHeader, n)
		}
		body := oid4vci.ErrorBody{Error: de.Code, ErrorDescription: oid4vci.SanitizeDescription(de.Description)}
		if !c.resource {
			return apigw.JSON(http.StatusBadRequest, body, headers...)
		}
		headers = append(headers, "WWW-Authenticate", c.dpopChallenge(de.Code, de.Description))
		return apigw.JSON(http.StatusUnauthorized, body, headers...)
	}
	var oe *oid4vci.Error
	if errors.As(err, &oe) {
		var nonce *oid4vci.CNonce
		if c.draftNonces && c.svc != nil {
			nonce = c.svc.DraftErrorNonce(ctx, c.dialect, err)
		}
		headers := append([]string(nil), "Cache-Control", "no-store")
		switch {
		case errors.Is(err, errNoAuthorization):
			// RFC 6750 section 3.1: a request without any authentication gets the bare challenges, no error
			// code; DPoP is offered beside Bearer (RFC 9449 section 7.1).
			headers = append(headers, "WWW-Authenticate", "Bearer, "+c.dpopAlgs())
		case oe.Code == oid4vci.ErrInvalidToken && c.usedDPoP:
			headers = append(headers, "WWW-Authenticate", c.dpopChallenge(oe.Code, oe.Description))
		case oe.Code == oid4vci.ErrInvalidToken:
			headers = append(headers, "WWW-Authenticate", `Bearer error="invalid_token", error_description="`+
				oid4vci.SanitizeDescription(oe.Description)+`"`)
		}
		if c.usedDPoP {
			if n := c.svc.DPoPNonce(); n != "" {
				headers = append(headers, dpop.NonceHeader, n)
			}
		}
		return apigw.JSON(oe.HTTPStatus(), oe.Body(c.dialect, nonce), headers...)
	}
	if errors.Is(err, keys.ErrUnavailable) {
		e := apigw.Wrap(err, http.StatusServiceUnavailable, oid4vci.ErrServerError,
			"signing is temporarily unavailable; retry later")
		e.Headers = map[string]string{"Retry-After": "5"}
		return apigw.Response{}, e
	}
	return apigw.Response{}, err
}

// dpopChallenge is the WWW-Authenticate value of a DPoP error at a resource endpoint (RFC 9449 section 7.1).
func (c walletCall) dpopChallenge(code, description string) string {
	return `DPoP error="` + code + `", error_description="` + oid4vci.SanitizeDescription(description) + `", ` +
		strings.TrimPrefix(c.dpopAlgs(), "DPoP ")
}

// dpopAlgs is the bare DPoP challenge with the accepted algorithms.
func (c walletCall) dpopAlgs() string {
	algs := "ES256"
	if c.svc != nil {
		algs = strings.Join(c.svc.DPoPAlgs(), " ")
	}
	return `DPoP algs="` + algs + `"`
}
