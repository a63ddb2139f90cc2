// Package presentation is the holder authentication of a dynamic credential request (API.md "Authorization code
// flow"): at the authorization endpoint the issuer, as an OpenID4VP verifier, asks the wallet to present what the
// exchange's presentation definition (or, for wallet-initiated issuance, the definition's) requires, and the
// wallet's answer at the direct_post endpoint is verified (shared/vpverify) before the authorization code is
// issued. It implements wallet.HolderAuthenticator (method openid4vp).
package presentation

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/vpverify"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// Store is what the presentation step reads: the exchange (its copy of the presentation definition and the
// transaction data), or, for wallet-initiated issuance, the definition and the presentation definition it names.
type Store interface {
	GetExchange(ctx context.Context, id string) (exchange.Record, error)
	GetDefinition(ctx context.Context, id string) (definition.Definition, error)
	GetPresentationDefinition(ctx context.Context, id string) (presentationdef.Definition, error)
}

// Verifier verifies a response against what the request asked (vpverify.Verifier).
type Verifier interface {
	Verify(ctx context.Context, exp vpverify.Expectation, resp *openid4vp.Response) (*vpverify.Result, error)
}

// ResponseKeys are the OpenID4VP response encryption keys (requestkeys.Ring of PresentationResponses): the
// current public key for requests, private keys for responses.
type ResponseKeys interface {
	Current(ctx context.Context) (jwk.Key, error)
	PrivateKey(ctx context.Context, kid string) (*ecdsa.PrivateKey, error)
}

// Config is what the step needs from the deployment.
type Config struct {
	// ResponseURI is where wallets post their responses: the direct_post endpoint.
	ResponseURI string
}

// Deps are the step's ports.
type Deps struct {
	Store    Store
	Signer   keys.Signer
	Verifier Verifier
	// Keys encrypt responses (direct_post.jwt); nil: responses come in the clear (direct_post).
	Keys ResponseKeys
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// Authenticator is the OpenID4VP holder authentication.
type Authenticator struct {
	cfg  Config
	deps Deps
}

// New checks the configuration and the ports.
func New(cfg Config, deps Deps) (*Authenticator, error) {
	switch {
	case cfg.ResponseURI == "":
		return nil, errors.New("new presentation step: response URI is required")
	case deps.Store == nil || deps.Signer == nil || deps.Verifier == nil:
		return nil, errors.New("new presentation step: store, signer and verifier are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Authenticator{cfg: cfg, deps: deps}, nil
}

var _ wallet.HolderAuthenticator = (*Authenticator)(nil)

// Method implements wallet.HolderAuthenticator.
func (*Authenticator) Method() string { return definition.HolderAuthOpenID4VP }

// asked is what the presentation request of a session asks, made the same way at Begin and Finish.
type asked struct {
	definition      presentationdef.Definition
	transactionData []string
	clientID        string
	signed          bool
}

// ask resolves the session's presentation definition and transaction data and the client id.
func (a *Authenticator) ask(ctx context.Context, session *exchange.AuthorizationSession) (*asked, error) {
	var out asked
	var raw []byte
	if session.ExchangeID != "" {
		rec, err := a.deps.Store.GetExchange(ctx, session.ExchangeID)
		if err != nil {
			return nil, fmt.Errorf("presentation request: %w", err)
		}
		if rec.Presentation == nil {
			return nil, errors.New("presentation request: the exchange asks for no presentation")
		}
		out.definition, raw = rec.Presentation.Definition, rec.Presentation.TransactionData
	} else {
		def, err := a.deps.Store.GetDefinition(ctx, session.DefinitionID)
		if errors.Is(err, exchange.ErrNotFound) {
			return nil, oid4vci.Errorf(oid4vci.ErrAccessDenied, "the credential is no longer offered for wallet-initiated issuance")
		}
		if err != nil {
			return nil, fmt.Errorf("presentation request: %w", err)
		}
		pd, err := a.deps.Store.GetPresentationDefinition(ctx, def.PresentationDefinitionID)
		if errors.Is(err, exchange.ErrNotFound) {
			return nil, oid4vci.Errorf(oid4vci.ErrAccessDenied, "the presentation this credential requires is no longer defined")
		}
		if err != nil {
			return nil, fmt.Errorf("presentation request: %w", err)
		}
		out.definition = pd
	}
	if len(raw) > 0 {
		ids, err := credentialIDs(&out.definition.Spec)
		if err != nil {
			return nil, err
		}
		td, err := openid4vp.EncodeTransactionData(raw, ids)
		if err != nil {
			return nil, fmt.Errorf("presentation request: %w", err)
		}
		out.transactionData = []string{td}
	}
	var leaf []byte
	if c, ok := a.deps.Signer.(keys.ChainSigner); ok {
		if chain := c.CertificateChain(); len(chain) > 0 {
			leaf = chain[0]
		}
	}
	out.clientID, out.signed = openid4vp.ClientID(a.cfg.ResponseURI, leaf)
	return &out, nil
}

// credentialIDs are every credential query id (DCQL) or input descriptor id (Presentation Exchange): the
// credential_ids of transaction data.
func credentialIDs(spec *presentationdef.Spec) ([]string, error) {
	q, err := spec.Query()
	if err != nil {
		return nil, fmt.Errorf("presentation definition: %w", err)
	}
	if q != nil {
		ids := make([]string, len(q.Credentials))
		for i, c := range q.Credentials {
			ids[i] = c.ID
		}
		return ids, nil
	}
	d, err := spec.PresentationExchange()
	if err != nil {
		return nil, fmt.Errorf("presentation definition: %w", err)
	}
	return d.DescriptorIDs(), nil
}

// Begin implements wallet.HolderAuthenticator: the OpenID4VP authorization request for the session, as the
// parameters of the redirect to the wallet: client_id and the signed request object by value (x509_san_dns), or
// the request's parameters (redirect_uri prefix, unsigned).
func (a *Authenticator) Begin(ctx context.Context, session *exchange.AuthorizationSession, nonce, state string, expires time.Time) (map[string]string, error) {
	ask, err := a.ask(ctx, session)
	if err != nil {
		return nil, err
	}
	req := openid4vp.Request{ClientID: ask.clientID, ResponseURI: a.cfg.ResponseURI, ResponseMode: openid4vp.ResponseModeDirectPost,
		Nonce: nonce, State: state, TransactionData: ask.transactionData, IssuedAt: a.deps.Now(), ExpiresAt: expires}
	if expires.Before(req.IssuedAt) {
		req.IssuedAt = expires
	}
	if ask.definition.Kind() == presentationdef.KindDCQL {
		req.DCQLQuery = ask.definition.DCQLQuery
	} else {
		req.PresentationDefinition = ask.definition.PresentationDefinition
	}
	if a.deps.Keys != nil {
		key, err := a.deps.Keys.Current(ctx)
		if err != nil {
			return nil, fmt.Errorf("presentation request: response encryption key: %w", err)
		}
		req.ResponseMode, req.EncryptionKey = openid4vp.ResponseModeDirectPostJWT, key
	}
	if ask.signed {
		jwt, err := req.Sign(ctx, a.deps.Signer)
		if err != nil {
			return nil, err
		}
		return map[string]string{"client_id": ask.clientID, "request": jwt}, nil
	}
	q, err := req.Query()
	if err != nil {
		return nil, err
	}
	params := make(map[string]string, len(q))
	for k := range q {
		params[k] = q.Get(k)
	}
	return params, nil
}

// Finish implements wallet.HolderAuthenticator: the posted response is verified against the session's request
// (vpverify: trust, signatures, key binding with this nonce and client_id, status, transaction data, the query).
// A refusal is access_denied saying why.
func (a *Authenticator) Finish(ctx context.Context, session *exchange.AuthorizationSession, nonceMatches func(string) bool, resp *oid4vci.HolderResponse) (*wallet.HolderIdentity, error) {
	ask, err := a.ask(ctx, session)
	if err != nil {
		return nil, err
	}
	form := resp.Form
	if a.deps.Keys != nil && !resp.Encrypted && form.Get("error") == "" {
		return nil, oid4vci.Errorf(oid4vci.ErrAccessDenied, "the presentation must be sent encrypted (response_mode "+
			"direct_post.jwt, to the key of client_metadata.jwks)")
	}
	r := &openid4vp.Response{State: resp.State, VPToken: form.Get("vp_token"),
		PresentationSubmission: form.Get("presentation_submission"), Error: form.Get("error"), Encrypted: resp.Encrypted}
	res, err := a.deps.Verifier.Verify(ctx, vpverify.Expectation{Definition: ask.definition.Spec, ClientID: ask.clientID,
		NonceMatches: nonceMatches, TransactionData: ask.transactionData}, r)
	var refusal *vpverify.Error
	if errors.As(err, &refusal) {
		return nil, oid4vci.Errorf(oid4vci.ErrAccessDenied, "the presentation was refused: %s", refusal.Reason)
	}
	if err != nil {
		return nil, fmt.Errorf("verify presentation: %w", err)
	}
	claims := map[string]any{}
	creds := make([]map[string]any, 0, len(res.Credentials))
	for _, c := range res.Credentials {
		list, _ := claims[c.QueryID].([]any)
		claims[c.QueryID] = append(list, c.Claims)
		creds = append(creds, map[string]any{"queryId": c.QueryID, "issuer": c.Issuer, "vct": c.VCT,
			"trustedBy": c.TrustedBy, "status": c.Status, "keyThumbprint": c.KeyThumbprint})
	}
	first := res.Credentials[0].KeyThumbprint
	return &wallet.HolderIdentity{Subject: first, KeyThumbprint: first, Method: definition.HolderAuthOpenID4VP,
		Presentation: &wallet.PresentationEvidence{DefinitionID: ask.definition.ID, ExchangeID: ExchangeID(resp.State),
			Claims: claims, Credentials: creds}}, nil
}

// ExchangeID is the presentationExchangeId of the presentation answered with state: a UUID-shaped value derived
// from the state's SHA-256, so that the record names the exchange without keeping the state.
func ExchangeID(state string) string {
	sum := sha256.Sum256([]byte("sdjwt-issuer/presentation-exchange/" + state))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x80 // version 8 (custom), RFC 9562
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// OpenResponse reads a direct_post body that carries a direct_post.jwt response (only `response`, a JWE): it is
// decrypted with the response keys into the HolderResponse the direct_post endpoint goes on with (state,
// vp_token, presentation_submission, error), marked encrypted. A body without `response` is for
// oid4vci.HolderResponseOf; ok false says so. Either way a response over the bounds of openid4vp (a vp_token over
// MaxVPTokenBytes, the other parameters over MaxParametersBytes) is invalid_request naming the bound, before any
// session is looked at, so that it leaves the session open.
func OpenResponse(ctx context.Context, form url.Values, keys ResponseKeys) (resp *oid4vci.HolderResponse, ok bool, err error) {
	if !form.Has("response") {
		if form.Has("vp_token") {
			if _, err := openid4vp.ParseResponse(ctx, form, nil); err != nil {
				return nil, false, responseError(err)
			}
		}
		return nil, false, nil
	}
	var rk openid4vp.ResponseKeys
	if keys != nil {
		rk = keys
	}
	r, err := openid4vp.ParseResponse(ctx, form, rk)
	if err != nil {
		return nil, true, responseError(err)
	}
	out := url.Values{"state": {r.State}}
	for k, v := range map[string]string{"vp_token": r.VPToken, "presentation_submission": r.PresentationSubmission,
		"error": r.Error, "error_description": r.ErrorDescription} {
		if v != "" {
			out.Set(k, v)
		}
	}
	return &oid4vci.HolderResponse{State: r.State, Form: out, Encrypted: true}, true, nil
}

// responseError is an openid4vp.ErrResponse as the invalid_request the wallet gets; other errors as they are.
func responseError(err error) error {
	if errors.Is(err, openid4vp.ErrResponse) {
		return oid4vci.Errorf(oid4vci.ErrInvalidRequest, "%s", err.Error())
	}
	return err
}
