package handlers

import (
	"context"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// Routes of the token, credential, deferred credential and notification functions.
const (
	RouteToken              = "/token"
	RouteCredential         = "/credential"
	RouteNonce              = "/nonce"
	RouteDeferredCredential = "/deferred-credential"
	RouteNotification       = "/notification"
)

// noStore are the headers of every answer that carries a token, a nonce or a credential.
var noStore = []string{"Cache-Control", "no-store", "Pragma", "no-cache"}

// Token is the router of the TokenFunction: the pre-authorized code grant.
func Token(w *Wallet) *apigw.Router {
	r := w.deps.router("token")
	r.Handle(http.MethodPost, RouteToken, apigw.Public, w.token)
	return r
}

// Credential is the router of the CredentialFunction: the credential and nonce endpoints.
func Credential(w *Wallet) *apigw.Router {
	r := w.deps.router("credential")
	r.Handle(http.MethodPost, RouteCredential, apigw.Public, w.credential)
	r.Handle(http.MethodPost, RouteNonce, apigw.Public, w.nonce)
	return r
}

// DeferredCredential is the router of the DeferredCredentialFunction.
func DeferredCredential(w *Wallet) *apigw.Router {
	r := w.deps.router("deferred-credential")
	r.Handle(http.MethodPost, RouteDeferredCredential, apigw.Public, w.deferredCredential)
	return r
}

// Notification is the router of the NotificationFunction.
func Notification(w *Wallet) *apigw.Router {
	r := w.deps.router("notification")
	r.Handle(http.MethodPost, RouteNotification, apigw.Public, w.notification)
	return r
}

func (w *Wallet) token(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	svc, err := w.service(ctx, false)
	if err != nil {
		return apigw.Response{}, err
	}
	treq, err := oid4vci.ParseTokenRequest(string(body), apigw.Header(req, "Content-Type"))
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	resp, err := svc.RedeemPreAuthorizedCode(ctx, treq)
	if err != nil {
		return protocolError(ctx, nil, treq.Dialect, err)
	}
	return apigw.JSON(http.StatusOK, resp, noStore...)
}

func (w *Wallet) nonce(ctx context.Context, _ *apigw.Request) (apigw.Response, error) {
	svc, err := w.service(ctx, false)
	if err != nil {
		return apigw.Response{}, err
	}
	n, err := svc.NewNonce(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, oid4vci.NonceResponse{CNonce: n.Value}, noStore...)
}

func (w *Wallet) credential(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	token, err := bearerToken(req)
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	svc, err := w.service(ctx, true)
	if err != nil {
		return apigw.Response{}, err
	}
	body, contentType, encrypted, err := w.openRequest(ctx, req, body)
	if err != nil {
		return protocolError(ctx, svc, oid4vci.DialectV1, err)
	}
	creq, err := oid4vci.ParseCredentialRequest(body, contentType, svc.Config().BatchSize)
	if err == nil {
		err = w.checkRequestEncryption(encrypted, creq.ResponseEncryption)
	}
	if err != nil {
		return protocolError(ctx, svc, oid4vci.DialectV1, err)
	}
	ans, err := svc.RequestCredential(ctx, token, creq)
	if err != nil {
		return protocolError(ctx, svc, creq.Dialect, err)
	}
	status, out, err := oid4vci.BuildCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance)
	if err != nil {
		return apigw.Response{}, err
	}
	return credentialAnswer(status, out, creq.ResponseEncryption)
}

func (w *Wallet) deferredCredential(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	token, err := bearerToken(req)
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	body, contentType, encrypted, err := w.openRequest(ctx, req, body)
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	dreq, err := oid4vci.ParseDeferredCredentialRequest(body, contentType)
	if err == nil {
		err = w.checkRequestEncryption(encrypted, dreq.ResponseEncryption)
	}
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	svc, err := w.service(ctx, true)
	if err != nil {
		return apigw.Response{}, err
	}
	ans, err := svc.RequestDeferredCredential(ctx, token, dreq)
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	status, out, err := oid4vci.BuildDeferredCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance)
	if err != nil {
		return apigw.Response{}, err
	}
	return credentialAnswer(status, out, dreq.ResponseEncryption)
}

func (w *Wallet) notification(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	token, err := bearerToken(req)
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	nreq, err := oid4vci.ParseNotificationRequest(body, apigw.Header(req, "Content-Type"))
	if err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	svc, err := w.service(ctx, false)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := svc.Notify(ctx, token, nreq); err != nil {
		return protocolError(ctx, nil, oid4vci.DialectV1, err)
	}
	return apigw.NoContent("Cache-Control", "no-store"), nil
}
