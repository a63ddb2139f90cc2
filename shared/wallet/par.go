package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// errIssuerStateUnknown answers an issuer_state that names no offer of this issuer, or one whose grant was taken,
// expired or was withdrawn.
var errIssuerStateUnknown = oid4vci.Errorf(oid4vci.ErrInvalidRequest, "the issuer_state is unknown, expired or "+
	"already used; ask the issuer for a new credential offer")

// PushAuthorizationRequest runs the PAR endpoint (RFC 9126): the request is checked against the offer its
// issuer_state names (the configuration it offers, an unexpired offer whose grants are untaken) or, without
// issuer_state, against a definition that allows wallet-initiated issuance, and kept under a fresh request_uri
// (only its hash is stored) for Config.PushedRequestTTL, to be used once at the authorization endpoint.
//
// client is what AuthenticateClient learned from the request's DPoP proof and client attestation (nil: neither):
// a presented attestation that fails, and a missing one the definition requires (requireClientAttestation), are
// invalid_client; a definition that requires DPoP (requireDpop, or REQUIRE_DPOP) needs a DPoP proof or dpop_jkt,
// else invalid_request; the code will be bound to the DPoP proof's key (RFC 9449 section 10), as to dpop_jkt, which must
// then name the same key. Nothing of the exchange changes here: the token endpoint applies the same policy again.
func (s *Service) PushAuthorizationRequest(ctx context.Context, req *oid4vci.AuthorizationRequest, client *Client) (*oid4vci.PushedAuthorizationResponse, error) {
	if client == nil {
		client = &Client{ClientID: req.ClientID}
	}
	if f := client.AttestationFailure; f != nil {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidClient, "%s", f.Description)
	}
	session, def, err := s.resolveAuthorization(ctx, req)
	if err != nil {
		return nil, err
	}
	if session.Method != definition.HolderAuthIssuerState && s.authenticators[session.Method] == nil {
		// Refused here, before anything is stored, rather than a failure at the authorization endpoint.
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "this credential needs holder authentication by %s, "+
			"which this deployment does not offer", session.Method)
	}
	switch {
	case def.RequireClientAttestation && client.Attestation == nil && !s.ClientAttestationSupported():
		return nil, errNoProviderTrusted // the headers would be ignored again: no wallet can meet it here
	case def.RequireClientAttestation && client.Attestation == nil:
		return nil, errAttestationRequired
	case def.DPoPRequired(s.cfg.RequireDPoP) && client.DPoP == nil && req.DPoPJKT == "":
		// Refused now, not at the token endpoint after the holder has authenticated.
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "this credential requires a DPoP-bound access token: "+
			"send a DPoP proof in the DPoP header of this request, or dpop_jkt naming your DPoP key (RFC 9449 "+
			"section 10)")
	}
	dpopJKT := ""
	if client.DPoP != nil {
		dpopJKT = client.DPoP.Key.Thumbprint
	}
	switch {
	case dpopJKT != "" && req.DPoPJKT != "" && dpopJKT != req.DPoPJKT:
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "dpop_jkt names another key than the DPoP proof's")
	case dpopJKT != "":
		session.DPoPJKT = dpopJKT
	default:
		session.DPoPJKT = req.DPoPJKT
	}
	secret, err := exchange.NewSecret(s.rt.Random())
	if err != nil {
		return nil, err
	}
	now := s.rt.Now()
	p, err := session.Pointer(exchange.PointerKey(exchange.PointerPushedRequest, secret), now.Add(s.cfg.PushedRequestTTL).Unix())
	if err != nil {
		return nil, err
	}
	if err := s.store.PutPointer(ctx, p); err != nil {
		return nil, fmt.Errorf("pushed authorization request: %w", err)
	}
	return &oid4vci.PushedAuthorizationResponse{RequestURI: oid4vci.RequestURIPrefix + secret,
		ExpiresIn: int(s.cfg.PushedRequestTTL.Seconds())}, nil
}

// resolveAuthorization decides what a pushed request asks for: one credential configuration, named by scope or
// authorization_details (both, when both are sent), of the offer that issuer_state names or of a definition that
// allows wallet-initiated issuance; and how the holder will be authenticated. It returns the definition whose
// policy applies.
func (s *Service) resolveAuthorization(ctx context.Context, req *oid4vci.AuthorizationRequest) (exchange.AuthorizationSession, *definition.Spec, error) {
	session := exchange.AuthorizationSession{ClientID: req.ClientID, RedirectURI: req.RedirectURI, State: req.State,
		CodeChallenge: req.CodeChallenge, Details: len(req.AuthorizationDetails) > 0}
	asked, err := askedConfiguration(req)
	if err != nil {
		return session, nil, err
	}
	if req.IssuerState != "" {
		id, ok := exchange.SecretExchangeID(req.IssuerState)
		if !ok || len(req.IssuerState) > validation.MaxIDLen {
			return session, nil, errIssuerStateUnknown
		}
		rec, err := s.store.GetExchange(ctx, id)
		if errors.Is(err, exchange.ErrNotFound) {
			return session, nil, errIssuerStateUnknown
		}
		if err != nil {
			return session, nil, fmt.Errorf("pushed authorization request: %w", err)
		}
		if !exchange.SecretMatches(req.IssuerState, rec.IssuerStateHash) || rec.OfferExpiresAt <= s.rt.Now().Unix() ||
			(rec.Status != exchange.StatusOfferSent && rec.Status != exchange.StatusOfferReceived) {
			return session, nil, errIssuerStateUnknown
		}
		if !offeredConfiguration(&rec, asked) {
			return session, nil, notOffered(req, "this credential offer does not offer")
		}
		session.ExchangeID, session.IssuerStateHash = id, rec.IssuerStateHash
		session.ConfigurationID = asked
		session.Method = rec.Definition.HolderAuthenticationFor(s.cfg.HolderAuthentication)
		if rec.Presentation != nil {
			session.Method = definition.HolderAuthOpenID4VP // a dynamic credential request: present first
		}
		return session, &rec.Definition.Spec, nil
	}
	base, _ := oid4vci.SplitConfigurationID(asked)
	def, err := s.store.GetDefinition(ctx, base)
	if errors.Is(err, exchange.ErrNotFound) || (err == nil && !offeredByDefinition(&def, asked)) {
		return session, nil, notOffered(req, "this issuer has no")
	}
	if err != nil {
		return session, nil, fmt.Errorf("pushed authorization request: %w", err)
	}
	if !def.WalletInitiated {
		return session, nil, notOffered(req, "wallet-initiated issuance (without a credential offer) is not allowed for")
	}
	session.DefinitionID, session.ConfigurationID = def.ID, asked
	session.Method = def.HolderAuthentication
	switch {
	case def.PresentationDefinitionID != "":
		session.Method = definition.HolderAuthOpenID4VP
	case session.Method == "" || session.Method == definition.HolderAuthIssuerState:
		session.Method = definition.HolderAuthIDToken // no offer identifies the holder
	}
	return session, &def.Spec, nil
}

// askedConfiguration is the one configuration a request names by scope and authorization_details.
func askedConfiguration(req *oid4vci.AuthorizationRequest) (string, error) {
	asked := ""
	for _, d := range req.AuthorizationDetails {
		if asked != "" && d.CredentialConfigurationID != asked {
			return "", oid4vci.Errorf(oid4vci.ErrInvalidAuthorizationDetails, "authorization_details names more than "+
				"one credential configuration; authorize one credential at a time")
		}
		asked = d.CredentialConfigurationID
	}
	if len(req.AuthorizationDetails) > 0 && len(req.Scope) == 0 {
		return asked, nil
	}
	if len(req.Scope) > 1 {
		return "", oid4vci.Errorf(oid4vci.ErrInvalidScope, "scope names more than one credential configuration; "+
			"authorize one credential at a time")
	}
	scope := req.Scope[0]
	if asked != "" {
		if base, _ := oid4vci.SplitConfigurationID(asked); base != scope {
			return "", oid4vci.Errorf(oid4vci.ErrInvalidScope, "scope and authorization_details name different credentials")
		}
		return asked, nil
	}
	return scope, nil
}

// notOffered is the refusal of a configuration that cannot be authorized, in the error of the parameter that
// named it.
func notOffered(req *oid4vci.AuthorizationRequest, what string) error {
	if len(req.AuthorizationDetails) > 0 {
		return oid4vci.Errorf(oid4vci.ErrInvalidAuthorizationDetails, "authorization_details: %s this "+
			"credential_configuration_id", what)
	}
	return oid4vci.Errorf(oid4vci.ErrInvalidScope, "scope: %s this credential (the scope of a configuration is in "+
		"the issuer metadata)", what)
}

// offeredByDefinition reports whether id is the definition's configuration id or, for an SD-JWT VC, its vc+sd-jwt
// twin (every scope is its configuration id: oid4vci.BuildMetadata).
func offeredByDefinition(d *definition.Definition, id string) bool {
	rec := exchange.Record{ConfigurationID: d.ConfigurationID(), Definition: *d}
	return offeredConfiguration(&rec, id)
}
