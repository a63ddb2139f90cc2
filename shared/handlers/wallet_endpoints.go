package handlers

import (
	"context"
	"net/http"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/clientattest"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
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

// Token is the router of the TokenFunction: the pre-authorized code and authorization code grants.
func Token(w *Wallet) *apigw.Router {
	r := w.deps.walletRouter("token")
	r.Handle(http.MethodPost, RouteToken, apigw.Public, w.token)
	return r
}

// Credential is the router of the CredentialFunction: the credential and nonce endpoints.
func Credential(w *Wallet) *apigw.Router {
	r := w.deps.walletRouter("credential")
	r.Handle(http.MethodPost, RouteCredential, apigw.Public, w.credential)
	r.Handle(http.MethodPost, RouteNonce, apigw.Public, w.nonce)
	return r
}

// DeferredCredential is the router of the DeferredCredentialFunction.
func DeferredCredential(w *Wallet) *apigw.Router {
	r := w.deps.walletRouter("deferred-credential")
	r.Handle(http.MethodPost, RouteDeferredCredential, apigw.Public, w.deferredCredential)
	return r
}

// Notification is the router of the NotificationFunction.
func Notification(w *Wallet) *apigw.Router {
	r := w.deps.walletRouter("notification")
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
	call := walletCall{svc: svc, dialect: oid4vci.DialectV1}
	treq, err := oid4vci.ParseTokenRequest(string(body), apigw.Header(req, "Content-Type"))
	if err != nil {
		return call.fail(ctx, err)
	}
	call.dialect = treq.Dialect
	client, err := w.authenticateClient(ctx, svc, req, treq.ClientID, RouteToken, &call)
	if err != nil {
		return call.fail(ctx, err)
	}
	var resp *oid4vci.TokenResponse
	if treq.GrantType == oid4vci.GrantTypeAuthorizationCode {
		resp, err = svc.RedeemAuthorizationCode(ctx, treq, client)
	} else {
		resp, err = svc.RedeemPreAuthorizedCode(ctx, treq, client)
	}
	if err != nil {
		return call.fail(ctx, err)
	}
	return apigw.JSON(http.StatusOK, resp, call.okHeaders()...)
}

// authenticateClient reads the DPoP proof and the client attestation headers of a request to route (the token
// and PAR endpoints; each header at most once) and checks them (wallet.Service.AuthenticateClient); call learns
// whether the wallet uses DPoP.
func (w *Wallet) authenticateClient(ctx context.Context, svc *wallet.Service, req *apigw.Request, clientID, route string, call *walletCall) (*wallet.Client, error) {
	cred := wallet.ClientCredentials{ClientID: clientID}
	var err error
	for _, h := range []struct {
		name string
		dst  *string
	}{{dpop.Header, &cred.DPoP}, {clientattest.HeaderAttestation, &cred.Attestation}, {clientattest.HeaderPoP, &cred.AttestationPoP}} {
		if *h.dst, err = singleHeader(req, h.name); err != nil {
			return nil, err
		}
	}
	call.usedDPoP = cred.DPoP != ""
	return svc.AuthenticateClient(ctx, cred, w.endpointURL(route))
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

// credentialInput is what the credential and deferred credential endpoints read before their own request: the
// access token and its DPoP proof, checked before the signing key is set up, the service with that key, and the
// body, opened when it is encrypted.
type credentialInput struct {
	call        walletCall
	access      wallet.Access
	body        []byte
	contentType string
	encrypted   bool
}

// credentialInput reads it; a nil input comes with the answer to give instead (an error body, or the router's
// error).
func (w *Wallet) credentialInput(ctx context.Context, req *apigw.Request, route string) (*credentialInput, apigw.Response, error) {
	plain, err := w.service(ctx, false)
	if err != nil {
		return nil, apigw.Response{}, err
	}
	call, access, err := w.presentedAccess(ctx, plain, req, route)
	if err != nil {
		resp, err := call.fail(ctx, err)
		return nil, resp, err
	}
	if call.svc, err = w.service(ctx, true); err != nil {
		return nil, apigw.Response{}, err
	}
	body, err := apigw.Body(req)
	if err != nil {
		return nil, apigw.Response{}, err
	}
	in := &credentialInput{call: call, access: access}
	if in.body, in.contentType, in.encrypted, err = w.openRequest(ctx, req, body); err != nil {
		resp, err := call.fail(ctx, err)
		return nil, resp, err
	}
	return in, apigw.Response{}, nil
}

func (w *Wallet) credential(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	in, resp, err := w.credentialInput(ctx, req, RouteCredential)
	if in == nil {
		return resp, err
	}
	call, svc := &in.call, in.call.svc
	creq, err := oid4vci.ParseCredentialRequest(in.body, in.contentType, svc.Config().BatchSize)
	if err == nil {
		err = w.checkRequestEncryption(in.encrypted, creq.ResponseEncryption)
	}
	if err != nil {
		return call.fail(ctx, err)
	}
	call.dialect = creq.Dialect
	ans, err := svc.RequestCredential(ctx, in.access, creq)
	if err != nil {
		return call.fail(ctx, err)
	}
	status, out, err := oid4vci.BuildCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance)
	if err != nil {
		return apigw.Response{}, err
	}
	return credentialAnswer(status, out, creq.ResponseEncryption, call.okHeaders())
}

func (w *Wallet) deferredCredential(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	in, resp, err := w.credentialInput(ctx, req, RouteDeferredCredential)
	if in == nil {
		return resp, err
	}
	call := &in.call
	dreq, err := oid4vci.ParseDeferredCredentialRequest(in.body, in.contentType)
	if err == nil {
		err = w.checkRequestEncryption(in.encrypted, dreq.ResponseEncryption)
	}
	if err != nil {
		return call.fail(ctx, err)
	}
	call.draftNonces = false // a deferred answer never mints c_nonces
	ans, err := call.svc.RequestDeferredCredential(ctx, in.access, dreq)
	if err != nil {
		return call.fail(ctx, err)
	}
	status, out, err := oid4vci.BuildDeferredCredentialResponse(ans.Dialect, ans.Shape, ans.Issuance)
	if err != nil {
		return apigw.Response{}, err
	}
	return credentialAnswer(status, out, dreq.ResponseEncryption, call.okHeaders())
}

func (w *Wallet) notification(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	svc, err := w.service(ctx, false)
	if err != nil {
		return apigw.Response{}, err
	}
	call, access, err := w.presentedAccess(ctx, svc, req, RouteNotification)
	if err != nil {
		return call.fail(ctx, err)
	}
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	nreq, err := oid4vci.ParseNotificationRequest(body, apigw.Header(req, "Content-Type"))
	if err != nil {
		return call.fail(ctx, err)
	}
	if err := svc.Notify(ctx, access, nreq); err != nil {
		return call.fail(ctx, err)
	}
	return apigw.NoContent(call.okHeaders()...), nil
}
