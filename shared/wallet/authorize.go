package wallet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// The authorization endpoint (OpenID4VCI 1.0 section 5 with RFC 9126 PAR): a pushed request (PAR#) is turned into
// an authorization session (AUTHZ#) that waits for the holder's authentication, whose success issues the
// authorization code on the exchange (offer) or on a new Deferred exchange (wallet-initiated). The holder
// authentication is a HolderAuthenticator chosen per session: the ID token (idTokenAuthenticator) or an OpenID4VP
// presentation (shared/presentation, through Deps.HolderAuthenticators); with definition.HolderAuthIssuerState the
// offer's issuer_state is enough and the code is issued at once.

// Defaults of the authorization code flow's lifetimes (Config).
const (
	DefaultPushedRequestTTL        = 60 * time.Second
	DefaultAuthorizationSessionTTL = 5 * time.Minute
	DefaultAuthorizationCodeTTL    = 5 * time.Minute
)

// HolderAuthenticator is one way the authorization endpoint authenticates the holder before it issues a code.
// Begin makes the request the wallet is redirected to; Finish checks what the wallet posts back to the
// direct_post endpoint. Issue 15's OpenID4VP presentation is another implementation (Deps.HolderAuthenticators).
type HolderAuthenticator interface {
	// Method names it in sessions and definitions (definition.HolderAuthIDToken, ...).
	Method() string
	// Begin returns the query parameters of the redirect to the wallet's redirect_uri that ask it to
	// authenticate; nonce binds the answer to this session and state names the session in the answer.
	Begin(ctx context.Context, session *exchange.AuthorizationSession, nonce, state string, expires time.Time) (map[string]string, error)
	// Finish verifies the wallet's answer. A failure of the wallet's making is an *oid4vci.Error (access_denied
	// with the reason); nonceMatches compares a nonce with the session's.
	Finish(ctx context.Context, session *exchange.AuthorizationSession, nonceMatches func(string) bool, resp *oid4vci.HolderResponse) (*HolderIdentity, error)
}

// HolderIdentity is what a holder authentication proved: who the holder is and the evidence, as the record keeps
// it.
type HolderIdentity struct {
	// Subject is the holder's verified identifier: a DID, or the thumbprint of its key.
	Subject string
	// KeyThumbprint is the RFC 7638 thumbprint of the key the holder proved.
	KeyThumbprint string
	// Method is how it was proved.
	Method string
	// IDToken and IDTokenDecoded are the ID token as posted and decoded (the ID token method).
	IDToken        string
	IDTokenDecoded map[string]any
	// Presentation is the verified OpenID4VP presentation (the openid4vp method).
	Presentation *PresentationEvidence
}

// applyTo records the identity on an exchange: holder, and the ID token as posted, decoded and verified.
func (h *HolderIdentity) applyTo(rec *exchange.Record) {
	if h == nil {
		return
	}
	rec.Holder = map[string]any{"id": h.Subject, "jkt": h.KeyThumbprint, "authenticatedWith": h.Method}
	if h.IDToken != "" {
		rec.IDToken, rec.IDTokenDecoded, rec.IDTokenVerified = h.IDToken, h.IDTokenDecoded, true
	}
	h.Presentation.applyTo(rec)
}

// AuthorizationStep is where the authorization endpoint or the direct_post endpoint sends the wallet: the holder
// authentication request, the authorization response with the code, or an error response, each a URL under the
// redirect_uri registered through PAR.
type AuthorizationStep struct {
	// RedirectURL is the Location of the 302.
	RedirectURL string
	// InBody says that the direct_post endpoint answers 200 with {"redirect_uri": RedirectURL} instead of a 302:
	// an OpenID4VP wallet posts its response itself and then sends the user agent to the redirect_uri of the
	// answer (OpenID4VP 1.0 section 8.2), where the OpenID4VCI wallet finds the code or the error.
	InBody bool
}

// errRequestURIUnknown answers a request_uri that was never issued, expired or was used: the redirect_uri it
// registered cannot be trusted, so the error is shown, not redirected (RFC 6749 section 4.1.2.1).
var errRequestURIUnknown = oid4vci.Errorf(oid4vci.ErrInvalidRequest, "the request_uri is unknown, expired or "+
	"already used; push the authorization request again (it is valid for one use within its expires_in)")

// errSessionUnknown answers a direct_post whose state names no waiting authorization session.
var errSessionUnknown = oid4vci.Errorf(oid4vci.ErrInvalidRequest, "the state names no authorization that is waiting "+
	"for the holder: it is unknown, expired or already answered; start the authorization again")

// Authorize runs the authorization endpoint: the pushed request named by request_uri (single use, pushed by this
// client_id) is consumed, and the wallet is sent to authenticate the holder (a new authorization session), or, when
// the offer's issuer_state identifies the holder, straight back with the code. An unknown, expired or used
// request_uri and a client_id that did not push it are *oid4vci.Error (never redirected: the redirect_uri is not
// trusted); later failures are redirected to the registered redirect_uri.
func (s *Service) Authorize(ctx context.Context, q *oid4vci.AuthorizationEndpointRequest) (*AuthorizationStep, error) {
	parKey := exchange.PointerKey(exchange.PointerPushedRequest, strings.TrimPrefix(q.RequestURI, oid4vci.RequestURIPrefix))
	p, err := s.store.GetPointer(ctx, parKey)
	if errors.Is(err, exchange.ErrNotFound) {
		return nil, errRequestURIUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	session, err := exchange.SessionOf(p)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	if session.ClientID != q.ClientID {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "client_id is not the client that pushed this request")
	}
	if session.Method == definition.HolderAuthIssuerState {
		return s.issueCode(ctx, &session, nil, parKey)
	}
	auth := s.authenticators[session.Method]
	if auth == nil {
		return nil, fmt.Errorf("authorize: no holder authentication %q", session.Method)
	}
	nonce, err := exchange.NewSecret(s.rt.Random())
	if err != nil {
		return nil, err
	}
	state, err := exchange.NewSecret(s.rt.Random())
	if err != nil {
		return nil, err
	}
	now := s.rt.Now()
	expires := now.Add(s.cfg.AuthorizationSessionTTL)
	waiting := session
	waiting.NonceHash = exchange.HashSecret(nonce)
	next, err := waiting.Pointer(exchange.PointerKey(exchange.PointerAuthorization, state), expires.Unix())
	if err != nil {
		return nil, err
	}
	params, err := auth.Begin(ctx, &waiting, nonce, state, expires)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	err = s.store.WritePointers(ctx, exchange.PointerOp{Consume: parKey}, exchange.PointerOp{Put: &next})
	var gone *exchange.PointerGoneError
	if errors.As(err, &gone) {
		return nil, errRequestURIUnknown // a concurrent use of the request_uri won
	}
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	to, err := oid4vci.RedirectWith(session.RedirectURI, params)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	return &AuthorizationStep{RedirectURL: to}, nil
}

// RespondToHolderRequest runs the direct_post endpoint: the wallet's answer to the holder authentication request
// of the session its state names. The session is single use: a verified answer issues the code (redirect with
// code, state and iss), a failed one ends the session (redirect with access_denied saying why). An unknown,
// expired or answered session is an *oid4vci.Error (not redirected).
func (s *Service) RespondToHolderRequest(ctx context.Context, resp *oid4vci.HolderResponse) (*AuthorizationStep, error) {
	key := exchange.PointerKey(exchange.PointerAuthorization, resp.State)
	p, err := s.store.GetPointer(ctx, key)
	if errors.Is(err, exchange.ErrNotFound) {
		return nil, errSessionUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("holder response: %w", err)
	}
	session, err := exchange.SessionOf(p)
	if err != nil {
		return nil, fmt.Errorf("holder response: %w", err)
	}
	auth := s.authenticators[session.Method]
	if auth == nil || session.NonceHash == "" {
		return nil, errSessionUnknown
	}
	var identity *HolderIdentity
	if werr := resp.Form.Get("error"); werr != "" {
		err = oid4vci.Errorf(oid4vci.ErrAccessDenied, "the wallet declined to authenticate the holder")
	} else {
		identity, err = auth.Finish(ctx, &session, func(n string) bool {
			return exchange.SecretMatches(n, session.NonceHash)
		}, resp)
	}
	var oe *oid4vci.Error
	if errors.As(err, &oe) {
		// The session ends with the refusal: one authentication request, one answer.
		if cerr := s.store.WritePointers(ctx, exchange.PointerOp{Consume: key}); cerr != nil && !errors.Is(cerr, exchange.ErrConflict) {
			return nil, fmt.Errorf("holder response: %w", cerr)
		} else if cerr != nil {
			return nil, errSessionUnknown // a concurrent answer took the session
		}
		s.rt.Log().InfoContext(ctx, "holder authentication refused", "method", session.Method,
			"credential_exchange_id", session.ExchangeID)
		s.recordRefusal(ctx, &session, oe)
		return inBody(&session)(s.errorStep(&session, oe))
	}
	if err != nil {
		return nil, fmt.Errorf("holder response: %w", err)
	}
	return inBody(&session)(s.issueCode(ctx, &session, identity, key))
}

// inBody marks the direct_post answer of an OpenID4VP session to go in the body (AuthorizationStep.InBody).
func inBody(session *exchange.AuthorizationSession) func(*AuthorizationStep, error) (*AuthorizationStep, error) {
	return func(step *AuthorizationStep, err error) (*AuthorizationStep, error) {
		if step != nil {
			step.InBody = session.Method == definition.HolderAuthOpenID4VP
		}
		return step, err
	}
}

// errorStep redirects an error to the session's redirect_uri, which PAR registered (RFC 6749 section 4.1.2.1).
func (s *Service) errorStep(session *exchange.AuthorizationSession, e *oid4vci.Error) (*AuthorizationStep, error) {
	to, err := oid4vci.AuthorizationErrorResponse(session.RedirectURI, e, session.State, s.cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("authorization error response: %w", err)
	}
	return &AuthorizationStep{RedirectURL: to}, nil
}

// errOfferUsed ends an authorization whose offer was redeemed (by either grant), expired, denied or deleted while
// the holder authenticated.
var errOfferUsed = oid4vci.Errorf(oid4vci.ErrAccessDenied, "the credential offer was used, expired or withdrawn "+
	"meanwhile; ask the issuer for a new offer")

// issueCode issues the authorization code of session for the holder identity (nil when the issuer_state identifies
// the holder) and consumes the session's pointer (sessionKey) in the same write: on the offer's exchange (the
// issuer_state and the pre-authorized code die with it: one grant per offer), or on a new Deferred exchange
// (wallet-initiated). The answer is the redirect with code, the wallet's state and iss.
func (s *Service) issueCode(ctx context.Context, session *exchange.AuthorizationSession, identity *HolderIdentity, sessionKey string) (*AuthorizationStep, error) {
	var code string
	var err error
	if session.ExchangeID == "" {
		code, err = s.startWalletInitiated(ctx, session, identity, sessionKey)
	} else {
		code, err = s.codeForOffer(ctx, session, identity, sessionKey)
	}
	var oe *oid4vci.Error
	if errors.As(err, &oe) && oe.Code != oid4vci.ErrInvalidRequest {
		return s.errorStep(session, oe)
	}
	if err != nil {
		return nil, err
	}
	to, err := oid4vci.AuthorizationResponse(session.RedirectURI, code, session.State, s.cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("authorization response: %w", err)
	}
	return &AuthorizationStep{RedirectURL: to}, nil
}

// grantOf is the authorization code state of a session.
func (s *Service) grantOf(session *exchange.AuthorizationSession, code string, now time.Time) *exchange.AuthorizationCode {
	g := &exchange.AuthorizationCode{CodeHash: exchange.HashSecret(code), CodeChallenge: session.CodeChallenge,
		RedirectURI: session.RedirectURI, ClientID: session.ClientID, DPoPJKT: session.DPoPJKT,
		ExpiresAt: now.Add(s.cfg.AuthorizationCodeTTL).Unix()}
	if session.Details {
		g.Details = []string{session.ConfigurationID}
	}
	return g
}

// codeForOffer writes the code on the offer's exchange, conditional on the version read: the issuer_state must
// still be the session's and unexpired; its hash and the pre-authorized code's are cleared and the CODE pointer
// consumed with the session's pointer, so the offer yields one grant whatever the wallet or a race does.
func (s *Service) codeForOffer(ctx context.Context, session *exchange.AuthorizationSession, identity *HolderIdentity, sessionKey string) (string, error) {
	for attempt := 0; ; attempt++ {
		rec, err := s.store.GetExchange(ctx, session.ExchangeID)
		if errors.Is(err, exchange.ErrNotFound) {
			return "", errOfferUsed
		}
		if err != nil {
			return "", fmt.Errorf("issue authorization code: %w", err)
		}
		now := s.rt.Now()
		if rec.IssuerStateHash == "" || rec.IssuerStateHash != session.IssuerStateHash || rec.OfferExpiresAt <= now.Unix() ||
			(rec.Status != exchange.StatusOfferSent && rec.Status != exchange.StatusOfferReceived) {
			return "", errOfferUsed
		}
		code, err := exchange.NewExchangeSecret(s.rt.Random(), rec.CredentialExchangeID)
		if err != nil {
			return "", err
		}
		next := rec.Clone()
		next.UpdatedAt = now.Unix()
		if rec.Status == exchange.StatusOfferSent {
			if err := next.Transition(exchange.StatusOfferReceived, now.Unix()); err != nil {
				return "", err
			}
		}
		next.IsPreAuthorised = false
		next.ClientID = session.ClientID
		next.IssuerStateHash = ""
		next.CodeHash = "" // the pre-authorized code dies: one grant per offer
		next.AuthorizationCode = s.grantOf(session, code, now)
		identity.applyTo(&next)
		ops := []exchange.PointerOp{{Consume: sessionKey}}
		for _, k := range rec.Pointers {
			if strings.HasPrefix(k, exchange.PointerCode+"#") {
				ops = append(ops, exchange.PointerOp{Consume: k})
			}
		}
		err = s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status}, ops...)
		var gone *exchange.PointerGoneError
		switch {
		case errors.As(err, &gone) && gone.Kind() == exchange.PointerCode:
			return "", errOfferUsed // the pre-authorized code was redeemed or expired meanwhile
		case errors.As(err, &gone):
			return "", errSessionUnknown // a concurrent request consumed the session
		case (errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused)) && attempt < maxConflictRetries:
			continue
		case errors.Is(err, exchange.ErrNotFound) || errors.Is(err, exchange.ErrConflict):
			return "", errOfferUsed
		case err != nil:
			return "", fmt.Errorf("issue authorization code: %w", err)
		}
		return code, nil
	}
}

// startWalletInitiated creates the Deferred exchange of a wallet-initiated request for the authenticated holder,
// with the code, consuming the session in the same transaction (one session, one exchange); the creation's event
// (credential.offer_received, whose detail names the holder) tells the organisation to complete or deny it.
func (s *Service) startWalletInitiated(ctx context.Context, session *exchange.AuthorizationSession, identity *HolderIdentity, sessionKey string) (string, error) {
	if identity == nil {
		return "", errors.New("wallet-initiated issuance without an authenticated holder")
	}
	def, err := s.store.GetDefinition(ctx, session.DefinitionID)
	if errors.Is(err, exchange.ErrNotFound) || (err == nil && !def.WalletInitiated) {
		return "", oid4vci.Errorf(oid4vci.ErrAccessDenied, "the credential is no longer offered for wallet-initiated issuance")
	}
	if err != nil {
		return "", fmt.Errorf("wallet-initiated issuance: %w", err)
	}
	id, err := exchange.NewID(s.rt.Random())
	if err != nil {
		return "", err
	}
	code, err := exchange.NewExchangeSecret(s.rt.Random(), id)
	if err != nil {
		return "", err
	}
	now := s.rt.Now()
	rec := exchange.Record{CredentialExchangeID: id, IssuanceMode: exchange.ModeDeferred,
		Status: exchange.StatusOfferReceived, ClientID: session.ClientID, CreatedAt: now.Unix(), UpdatedAt: now.Unix(),
		CredentialDefinitionID: def.ID, CredentialFormat: def.CredentialFormat, SupportRevocation: def.SupportRevocation,
		Version: 1, ExpiresAt: now.Add(s.cfg.Retention).Unix(), CreatedNanos: now.UnixNano(), Definition: def,
		ConfigurationID: def.ConfigurationID(), CredentialType: def.Types(),
		AuthorizationCode: s.grantOf(session, code, now)}
	if rec.SupportRevocation {
		rec.RevocationStatus = exchange.RevocationOperational
	}
	rec.SetCredentials(nil)
	identity.applyTo(&rec)
	err = s.store.CreateExchange(ctx, rec, nil, sessionKey)
	var gone *exchange.PointerGoneError
	if errors.As(err, &gone) {
		return "", errSessionUnknown
	}
	if err != nil {
		return "", fmt.Errorf("wallet-initiated issuance: %w", err)
	}
	s.rt.Log().InfoContext(ctx, "wallet-initiated exchange created", "credential_exchange_id", id,
		"credential_definition_id", def.ID)
	return code, nil
}
