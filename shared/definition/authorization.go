package definition

import "github.com/sdjwt-issuer/issuer/shared/validation"

// Holder authentication of the authorization code flow (AuthorizationPolicy.HolderAuthentication).
const (
	// HolderAuthIDToken: the wallet proves control of a key or DID with a self-issued ID token (EWC RFC001).
	HolderAuthIDToken = "id_token"
	// HolderAuthIssuerState: the offer's issuer_state identifies the holder, as the pre-authorized code does; no
	// further step. Never for wallet-initiated issuance, which has no offer.
	HolderAuthIssuerState = "issuer_state"
	// HolderAuthOpenID4VP: the holder presents credentials over OpenID4VP (a dynamic credential request: the
	// exchange, or the wallet-initiated definition, names a presentation definition).
	HolderAuthOpenID4VP = "openid4vp"
)

// AuthorizationPolicy is what a definition says about the authorization code flow.
type AuthorizationPolicy struct {
	// WalletInitiated lets a wallet start issuance from the metadata (scope or authorization_details, no offer):
	// the issuer then creates a Deferred exchange for the holder it authenticated, which the organisation
	// completes or denies. The metadata shows it (wallet_initiated on the configuration).
	WalletInitiated bool `json:"walletInitiated,omitempty"`
	// HolderAuthentication is how the authorization endpoint authenticates the holder of an offer:
	// HolderAuthIDToken or HolderAuthIssuerState; empty: the deployment's default (HOLDER_AUTHENTICATION).
	HolderAuthentication string `json:"holderAuthentication,omitempty"`
	// PresentationDefinitionID is what a wallet starting issuance from the metadata must present first (only with
	// WalletInitiated): the holder authentication is then the OpenID4VP presentation, and the Deferred exchange
	// it creates carries the verified presented claims.
	PresentationDefinitionID string `json:"presentationDefinitionId,omitempty"`
}

// normalizeAuthorization checks the authorization policy.
func (p *AuthorizationPolicy) normalizeAuthorization() error {
	if p.PresentationDefinitionID != "" {
		if err := validation.ID("presentationDefinitionId", p.PresentationDefinitionID); err != nil {
			return err
		}
		if !p.WalletInitiated {
			return validation.Invalid("presentationDefinitionId", "applies to wallet-initiated issuance only: set "+
				"walletInitiated true, or name the presentation definition in each issue request instead")
		}
	}
	switch p.HolderAuthentication {
	case "", HolderAuthIDToken, HolderAuthIssuerState:
		return nil
	default:
		return validation.Invalid("holderAuthentication", "must be %q (the wallet proves a key or DID with an ID "+
			"token) or %q (the offer identifies the holder; no further step), or be left out for the deployment's "+
			"default", HolderAuthIDToken, HolderAuthIssuerState)
	}
}

// HolderAuthenticationFor is the holder authentication of an offer of this definition, with deploymentDefault for
// an unset holderAuthentication (HolderAuthIDToken when that is empty too).
func (p *AuthorizationPolicy) HolderAuthenticationFor(deploymentDefault string) string {
	switch {
	case p.HolderAuthentication != "":
		return p.HolderAuthentication
	case deploymentDefault != "":
		return deploymentDefault
	default:
		return HolderAuthIDToken
	}
}
