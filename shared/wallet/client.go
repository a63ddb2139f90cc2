package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/clientattest"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
)

// The token endpoint authenticates the client and checks its DPoP proof before it looks at the grant, so the
// pieces below serve every grant: AuthenticateClient reads what the request carried (no store access), and the
// grant applies the exchange's policy to the result (admitClient) and records it on the exchange
// (recordClient). Resource endpoints check the proof with CheckDPoP and present the access token as an Access.

// ClientCredentials is what a token request carries to authenticate its client and bind its token: the headers
// DPoP, OAuth-Client-Attestation and OAuth-Client-Attestation-PoP ("" when absent) and the client_id parameter.
type ClientCredentials struct {
	DPoP           string
	Attestation    string
	AttestationPoP string
	ClientID       string
}

// Client is what the token endpoint learned about the client: its DPoP proof (nil without one) and its client
// attestation, verified (Attestation) or not (AttestationFailure), as presented.
type Client struct {
	// DPoP is the verified DPoP proof; the access token is bound to its key.
	DPoP *dpop.Proof
	// Attestation is the verified client attestation.
	Attestation *clientattest.Result
	// AttestationFailure says why a presented attestation failed.
	AttestationFailure *clientattest.Error
	// ClientID is the client_id parameter.
	ClientID string

	attestationJWT, attestationPoP string
}

// presentedAttestation reports whether the request carried any attestation header.
func (c *Client) presentedAttestation() bool {
	return c.attestationJWT != "" || c.attestationPoP != ""
}

// Access is how a resource request (credential, deferred credential, notification) presents its access token.
type Access struct {
	// Token is the access token.
	Token string
	// Scheme is the Authorization scheme: oid4vci.TokenTypeBearer or oid4vci.TokenTypeDPoP.
	Scheme string
	// DPoPKey is the thumbprint of the request's verified DPoP proof ("" without one).
	DPoPKey string
}

// Bearer is a bearer presentation of token.
func Bearer(token string) Access { return Access{Token: token, Scheme: oid4vci.TokenTypeBearer} }

// DPoPAlgs are the accepted DPoP proof algorithms (dpop_signing_alg_values_supported).
func (s *Service) DPoPAlgs() []string {
	if len(s.cfg.DPoPAlgs) > 0 {
		return s.cfg.DPoPAlgs
	}
	return jwtverify.DefaultAlgs()
}

// ClientAttestationSupported reports whether any wallet provider is trusted, so that client attestations can be
// verified (and attest_jwt_client_auth is announced).
func (s *Service) ClientAttestationSupported() bool { return !s.trust.Empty() }

// DPoPNonce is a fresh server nonce for the DPoP-Nonce response header ("" when nonces are not used).
func (s *Service) DPoPNonce() string {
	if s.dpopNonces == nil {
		return ""
	}
	return s.dpopNonces.Issue(s.rt.Now())
}

// CheckDPoP verifies a DPoP proof of a request to url (an endpoint URL of the metadata) with method; accessToken
// is the token of a resource request ("" at the token endpoint). A failed proof is a *dpop.Error.
func (s *Service) CheckDPoP(ctx context.Context, proof, method, url, accessToken string) (*dpop.Proof, error) {
	return dpop.Verify(ctx, proof, dpop.Check{Method: method, URL: url, AccessToken: accessToken,
		Time: jwtverify.Window{Now: s.rt.Now()}, Algs: s.DPoPAlgs(), Nonces: s.dpopNonces, Replay: s.replay})
}

// AuthenticateClient checks the DPoP proof and the client attestation of a token request sent to tokenURL. A bad
// DPoP proof is answered at once (a *dpop.Error), before the attestation's PoP is remembered: wallets that retry
// with the nonce of use_dpop_nonce may send the same PoP again. A failed attestation is not an error here: the
// grant decides, on the exchange it names, whether that denies the issuance (admitClient).
//
// An issuer that trusts no wallet provider does not offer attest_jwt_client_auth (ClientAttestationSupported), so
// it ignores the attestation headers as a server without that method would: attested wallets (the EUDI wallet
// library among them) send them on every token request whatever the metadata says, and a check that could only
// fail would deny every exchange such a wallet redeems.
func (s *Service) AuthenticateClient(ctx context.Context, cred ClientCredentials, tokenURL string) (*Client, error) {
	c := &Client{ClientID: cred.ClientID}
	if s.ClientAttestationSupported() {
		c.attestationJWT, c.attestationPoP = cred.Attestation, cred.AttestationPoP
	}
	if cred.DPoP != "" {
		p, err := s.CheckDPoP(ctx, cred.DPoP, "POST", tokenURL, "")
		if err != nil {
			return nil, err
		}
		c.DPoP = p
	}
	if !c.presentedAttestation() {
		return c, nil
	}
	res, err := clientattest.Verify(ctx, cred.Attestation, cred.AttestationPoP, clientattest.Options{Trust: s.trust,
		Audience: s.cfg.IssuerURL, Time: jwtverify.Window{Now: s.rt.Now()}, ClientID: cred.ClientID, Replay: s.replay,
		MaxLifetime: s.cfg.ClientAttestationMaxLifetime})
	var failure *clientattest.Error
	switch {
	case errors.As(err, &failure):
		c.AttestationFailure = failure
	case err != nil:
		return nil, fmt.Errorf("authenticate client: %w", err)
	default:
		c.Attestation = res
	}
	return c, nil
}

// errAttestationRequired answers a token request without the client attestation its credential requires.
var errAttestationRequired = oid4vci.Errorf(oid4vci.ErrInvalidClient, "this credential requires client "+
	"authentication with a wallet attestation (attest_jwt_client_auth): send the %s and %s headers",
	clientattest.HeaderAttestation, clientattest.HeaderPoP)

// errNoProviderTrusted answers a token request for a credential that requires a client attestation at an issuer
// that trusts no wallet provider: no wallet can meet it until the operator configures one.
var errNoProviderTrusted = oid4vci.Errorf(oid4vci.ErrInvalidClient, "this credential requires client "+
	"authentication with a wallet attestation, but this issuer trusts no wallet provider yet: its operator must "+
	"configure the providers it trusts")

// admitClient applies the exchange's definition to the client: a presented attestation that failed denies the
// issuance (deny is the reason to record); a missing required attestation or DPoP proof is refused without
// changing the exchange.
func (s *Service) admitClient(rec *exchange.Record, c *Client) (deny string, err error) {
	def := &rec.Definition.Spec
	switch {
	case c.AttestationFailure != nil:
		return "the wallet's client attestation failed verification: " + c.AttestationFailure.Description,
			oid4vci.Errorf(oid4vci.ErrInvalidClient, "%s", c.AttestationFailure.Description)
	case def.RequireClientAttestation && c.Attestation == nil && !s.ClientAttestationSupported():
		return "", errNoProviderTrusted
	case def.RequireClientAttestation && c.Attestation == nil:
		return "", errAttestationRequired
	case def.DPoPRequired(s.cfg.RequireDPoP) && c.DPoP == nil:
		return "", &dpop.Error{Code: dpop.ErrInvalidProof, Description: "this credential requires a DPoP-bound " +
			"access token: send a DPoP proof in the DPoP header"}
	}
	return "", nil
}

// recordClient puts what the token request proved about the client on the exchange: the client attestation as
// presented (both views of the record: the client assertion and the wallet unit attestation), whether it
// verified, its decoded header and payload, the client_id it names, and the DPoP key the token is bound to.
func recordClient(next *exchange.Record, c *Client) {
	if c.presentedAttestation() {
		verified := c.Attestation != nil
		next.ClientAssertion = c.attestationJWT + "~" + c.attestationPoP
		next.ClientAssertionType = clientattest.AuthMethod
		next.ClientAssertionVerified = verified
		next.WalletUnitAttestation = c.attestationJWT
		next.WalletUnitAttestationPoP = c.attestationPoP
		next.WalletUnitAttestationVerified = verified
		next.DecodedWalletUnitAttestation = clientattest.Decoded(c.attestationJWT)
		if verified {
			next.ClientID = c.Attestation.ClientID
		}
	}
	if c.DPoP != nil {
		next.AccessTokenJKT = c.DPoP.Key.Thumbprint
	}
}

// checkBinding compares how a resource request presents its token with how the token was issued: a DPoP-bound
// token needs the DPoP scheme and a proof by its key, a bearer token the Bearer scheme.
func checkBinding(rec *exchange.Record, a Access) error {
	switch {
	case rec.AccessTokenJKT == "" && a.Scheme == oid4vci.TokenTypeDPoP:
		return oid4vci.Errorf(oid4vci.ErrInvalidToken, "this access token is a bearer token: send it as "+
			"Authorization: Bearer <token>")
	case rec.AccessTokenJKT == "":
		return nil
	case a.Scheme != oid4vci.TokenTypeDPoP:
		return &dpop.Error{Code: oid4vci.ErrInvalidToken, Description: "this access token is DPoP-bound: send " +
			"it as Authorization: DPoP <token> with a DPoP proof by the key it is bound to"}
	case a.DPoPKey != rec.AccessTokenJKT:
		return &dpop.Error{Code: dpop.ErrInvalidProof, Description: "the DPoP proof is not signed by the key " +
			"the access token is bound to"}
	}
	return nil
}
