package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// errAuthCodeUnknown answers an authorization code that is malformed, unknown or expired.
var errAuthCodeUnknown = oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the authorization code is unknown or expired; "+
	"authorize again")

// errAuthCodeReplayed answers a code presented after it was redeemed: the token it produced is revoked.
var errAuthCodeReplayed = oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the authorization code was already used; the "+
	"access token issued for it is revoked (RFC 6749 section 4.1.2)")

// errAuthCodeSpent answers a code presented after it was redeemed by a request that does not prove it holds the
// code (another redirect_uri, client, code_verifier or DPoP key): nothing is revoked.
var errAuthCodeSpent = oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the authorization code was already used; "+
	"authorize again")

// RedeemAuthorizationCode runs the token endpoint's authorization_code grant (RFC 6749 section 4.1.3 with RFC 7636
// and RFC 9449): the code names its exchange, whose record must hold its hash, unexpired; redirect_uri must be the
// one PAR registered, the client the one that pushed the request (client_id, or its client attestation's), the
// code_verifier must match the S256 challenge, and a code bound to a DPoP key needs a proof by that key. Then, as
// for the pre-authorized code, the exchange's definition decides on the client (admitClient: a failed attestation
// denies the issuance) and the token is issued in one write conditional on the version read that spends the code:
// one code, one token, under races too. A code presented again after it was redeemed revokes that token
// (errAuthCodeReplayed) when the request passes the same checks of redirect_uri, client, code_verifier and DPoP
// key (a used code leaks through referrers and browser history, RFC 9700 sections 4.2 and 4.3: the code alone must
// not be enough); otherwise it is errAuthCodeSpent and
// nothing changes. The answer echoes the authorization_details of the request with their
// credential_identifiers.
func (s *Service) RedeemAuthorizationCode(ctx context.Context, req *oid4vci.TokenRequest, client *Client) (*oid4vci.TokenResponse, error) {
	if req == nil || req.Code == "" {
		return nil, oid4vci.Errorf(oid4vci.ErrInvalidRequest, "code is required")
	}
	if client == nil {
		client = &Client{ClientID: req.ClientID}
	}
	id, ok := exchange.SecretExchangeID(req.Code)
	if !ok || len(req.Code) > validation.MaxIDLen {
		return nil, errAuthCodeUnknown
	}
	for attempt := 0; ; attempt++ {
		rec, err := s.store.GetExchange(ctx, id)
		if errors.Is(err, exchange.ErrNotFound) {
			return nil, errAuthCodeUnknown
		}
		if err != nil {
			return nil, fmt.Errorf("redeem authorization code: %w", err)
		}
		g := rec.AuthorizationCode
		if g == nil {
			return nil, errAuthCodeUnknown
		}
		if exchange.SecretMatches(req.Code, g.UsedCodeHash) {
			// A used code is no secret (a browser history, a referrer, a log): only a replay that proves it holds
			// the code as the redemption had to (redirect_uri, client, code_verifier, DPoP key) revokes its token;
			// anyone else learns nothing more and changes nothing.
			if err := checkCodeRequest(g, req, client); err != nil {
				return nil, errAuthCodeSpent
			}
			err := s.revokeReplayedCode(ctx, &rec)
			if (errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused)) && attempt < maxConflictRetries {
				continue
			}
			if err != nil && !errors.Is(err, exchange.ErrNotFound) {
				return nil, fmt.Errorf("revoke the token of a replayed code: %w", err)
			}
			return nil, errAuthCodeReplayed
		}
		if !exchange.SecretMatches(req.Code, g.CodeHash) || g.ExpiresAt <= s.rt.Now().Unix() {
			return nil, errAuthCodeUnknown
		}
		if rec.Status == exchange.StatusIssuanceDenied {
			return nil, oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the issuer denied this issuance; the authorization "+
				"code is no longer valid")
		}
		if err := checkCodeRequest(g, req, client); err != nil {
			return nil, err
		}
		details, err := s.codeDetails(&rec, g, req.AuthorizationDetails)
		if err != nil {
			return nil, err
		}
		if reason, err := s.admitClient(&rec, client); reason != "" {
			conflict, err := s.denyClient(ctx, &rec, nil, client, reason, err)
			if conflict && attempt < maxConflictRetries {
				continue
			}
			return nil, err
		} else if err != nil {
			return nil, err
		}
		resp, err := s.issueAccessToken(ctx, &rec, nil, req, client, func(next *exchange.Record) {
			spent := *next.AuthorizationCode
			spent.CodeHash, spent.UsedCodeHash = "", exchange.HashSecret(req.Code)
			next.AuthorizationCode = &spent
		})
		if (errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrTransitionRefused)) && attempt < maxConflictRetries {
			continue // a concurrent redemption: the next round finds the code spent (and revokes its token)
		}
		if errors.Is(err, exchange.ErrNotFound) || errors.Is(err, exchange.ErrConflict) {
			return nil, errAuthCodeUnknown
		}
		if err != nil {
			return nil, fmt.Errorf("redeem authorization code: %w", err)
		}
		resp.AuthorizationDetails = details
		return resp, nil
	}
}

// checkCodeRequest compares the token request with what the code was issued for: redirect_uri, client,
// code_verifier and DPoP key. A client that presented a client attestation that failed, without client_id (the
// attestation was to name it), passes the client check: admitClient then denies as for the pre-authorized code,
// with the attestation's reason, once the rest proved the request comes from the code's holder.
func checkCodeRequest(g *exchange.AuthorizationCode, req *oid4vci.TokenRequest, client *Client) error {
	if req.RedirectURI != g.RedirectURI {
		return oid4vci.Errorf(oid4vci.ErrInvalidGrant, "redirect_uri must be the redirect_uri of the authorization request")
	}
	clientID := req.ClientID
	if client.Attestation != nil {
		clientID = client.Attestation.ClientID
	}
	switch {
	case clientID == "" && client.AttestationFailure != nil:
	case clientID == "":
		return oid4vci.Errorf(oid4vci.ErrInvalidRequest, "client_id is required: the client that pushed the authorization request")
	case clientID != g.ClientID:
		return oid4vci.Errorf(oid4vci.ErrInvalidGrant, "the authorization code was issued to another client")
	}
	if err := oid4vci.CheckCodeVerifier(req.CodeVerifier, g.CodeChallenge); err != nil {
		return err
	}
	if g.DPoPJKT != "" && (client.DPoP == nil || client.DPoP.Key.Thumbprint != g.DPoPJKT) {
		return &dpop.Error{Code: dpop.ErrInvalidProof, Description: "the authorization code is bound to the DPoP key " +
			"of the authorization request: send a DPoP proof signed by that key"}
	}
	return nil
}

// codeDetails is the authorization_details of the token response: those of the token request, checked against the
// exchange, else those of the authorization request, each with its credential_identifiers.
func (s *Service) codeDetails(rec *exchange.Record, g *exchange.AuthorizationCode, asked []oid4vci.AuthorizationDetail) ([]oid4vci.AuthorizationDetail, error) {
	if len(asked) == 0 {
		for _, id := range g.Details {
			asked = append(asked, oid4vci.AuthorizationDetail{Type: oid4vci.AuthorizationDetailsTypeCredential,
				CredentialConfigurationID: id})
		}
	}
	return s.grantedDetails(rec, asked)
}

// revokeReplayedCode revokes the access token a replayed code produced (RFC 6749 section 4.1.2: the authorization
// server SHOULD revoke the tokens issued on a code used twice), with a write conditional on the version read.
func (s *Service) revokeReplayedCode(ctx context.Context, rec *exchange.Record) error {
	if rec.AccessTokenHash == "" {
		return nil
	}
	next := rec.Clone()
	next.UpdatedAt = s.rt.Now().Unix()
	next.AccessTokenHash, next.AccessTokenExpiresAt = "", next.UpdatedAt
	if err := s.store.UpdateExchange(ctx, next, exchange.Expect{Version: rec.Version, Status: rec.Status}); err != nil {
		return err
	}
	s.rt.Log().WarnContext(ctx, "authorization code replayed: its access token is revoked", "credential_exchange_id",
		rec.CredentialExchangeID)
	return nil
}
