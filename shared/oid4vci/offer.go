package oid4vci

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Credential offer URL schemes.
const (
	// SchemeCredentialOffer is the custom scheme OpenID4VCI 1.0 defines for wallets without a known offer endpoint.
	SchemeCredentialOffer = "openid-credential-offer://"
	// SchemeHAIP is the scheme of early HAIP drafts, still registered by some wallets.
	SchemeHAIP = "haip://"
	// MaxTxCodeDescription is the longest tx_code description OpenID4VCI allows.
	MaxTxCodeDescription = 300
)

// Transaction code input modes.
const (
	// InputModeNumeric: the tx_code is digits only.
	InputModeNumeric = "numeric"
	// InputModeText: the tx_code may hold any characters.
	InputModeText = "text"
)

// TxCode tells the wallet that the token request needs a transaction code, and how to ask the user for it.
type TxCode struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// PreAuthorizedCodeGrant is the pre-authorized code grant of an offer.
type PreAuthorizedCodeGrant struct {
	PreAuthorizedCode string  `json:"pre-authorized_code"`
	TxCode            *TxCode `json:"tx_code,omitempty"`
}

// AuthorizationCodeGrant is the authorization code grant of an offer.
type AuthorizationCodeGrant struct {
	IssuerState string `json:"issuer_state,omitempty"`
}

// Grants are the grants an offer proposes.
type Grants struct {
	AuthorizationCode *AuthorizationCodeGrant `json:"authorization_code,omitempty"`
	PreAuthorizedCode *PreAuthorizedCodeGrant `json:"urn:ietf:params:oauth:grant-type:pre-authorized_code,omitempty"`
}

// CredentialOffer is the credential offer object (OpenID4VCI 1.0 section 4.1.1), served by reference.
//
// It is the 1.0 shape, which draft-13 wallets read as well. The draft-12 shape (credentials[] and
// user_pin_required) is not served: it would have to point into a draft-12 credentials_supported metadata member
// that this issuer does not publish, so a draft-12 view of the offer alone could not be redeemed
// (docs/wallet-compat.md).
type CredentialOffer struct {
	CredentialIssuer           string   `json:"credential_issuer"`
	CredentialConfigurationIDs []string `json:"credential_configuration_ids"`
	Grants                     *Grants  `json:"grants,omitempty"`
}

// TxCodeFromPIN describes the transaction code a wallet must ask for when the offer is protected by pin: input mode
// numeric when pin is all ASCII digits, else text, and length the number of characters. It returns nil for an empty
// pin (no transaction code). description is cut to MaxTxCodeDescription characters.
func TxCodeFromPIN(pin, description string) *TxCode {
	if pin == "" {
		return nil
	}
	mode := InputModeNumeric
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			mode = InputModeText
			break
		}
	}
	if utf8.RuneCountInString(description) > MaxTxCodeDescription {
		description = string([]rune(description)[:MaxTxCodeDescription])
	}
	return &TxCode{InputMode: mode, Length: utf8.RuneCountInString(pin), Description: description}
}

// NewPreAuthorizedOffer builds an offer of the given configurations with the pre-authorized code grant; txCode may
// be nil (no transaction code).
func NewPreAuthorizedOffer(issuerURL string, configurationIDs []string, preAuthorizedCode string, txCode *TxCode) (*CredentialOffer, error) {
	if err := checkOffer(issuerURL, configurationIDs); err != nil {
		return nil, err
	}
	if preAuthorizedCode == "" {
		return nil, fmt.Errorf("build offer: the pre-authorized code is required")
	}
	return &CredentialOffer{
		CredentialIssuer:           issuerURL,
		CredentialConfigurationIDs: append([]string(nil), configurationIDs...),
		Grants: &Grants{PreAuthorizedCode: &PreAuthorizedCodeGrant{
			PreAuthorizedCode: preAuthorizedCode, TxCode: txCode}},
	}, nil
}

// NewAuthorizationCodeOffer builds an offer with only the authorization code grant and its issuer_state (a
// dynamic credential request: the holder presents credentials during authorization, so no pre-authorized code is
// offered).
func NewAuthorizationCodeOffer(issuerURL string, configurationIDs []string, issuerState string) (*CredentialOffer, error) {
	if err := checkOffer(issuerURL, configurationIDs); err != nil {
		return nil, err
	}
	if issuerState == "" {
		return nil, fmt.Errorf("build offer: the issuer_state is required")
	}
	return &CredentialOffer{CredentialIssuer: issuerURL, CredentialConfigurationIDs: append([]string(nil), configurationIDs...),
		Grants: &Grants{AuthorizationCode: &AuthorizationCodeGrant{IssuerState: issuerState}}}, nil
}

// checkOffer checks the issuer and the configuration ids of an offer (at least one, none empty or repeated).
func checkOffer(issuerURL string, configurationIDs []string) error {
	if err := validateIssuerURL(issuerURL); err != nil {
		return fmt.Errorf("build offer: %w", err)
	}
	if len(configurationIDs) == 0 {
		return fmt.Errorf("build offer: at least one credential configuration id is required")
	}
	seen := map[string]bool{}
	for i, id := range configurationIDs {
		if id == "" || seen[id] {
			return fmt.Errorf("build offer: configuration id %d is empty or repeated", i)
		}
		seen[id] = true
	}
	return nil
}

// NormalizeOfferScheme maps a configured URL scheme ("openid-credential-offer", "openid-credential-offer://",
// "haip:" ...) to its canonical "<scheme>://" form; empty means openid-credential-offer://. Other schemes are
// refused.
func NormalizeOfferScheme(scheme string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(scheme))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "//"), ":")
	switch s {
	case "", "openid-credential-offer":
		return SchemeCredentialOffer, nil
	case "haip":
		return SchemeHAIP, nil
	default:
		return "", fmt.Errorf("offer scheme must be %s or %s", SchemeCredentialOffer, SchemeHAIP)
	}
}

// OfferURI builds the link (or QR code content) that hands an offer to a wallet by reference:
// <scheme>?credential_offer_uri=<url-encoded offerURL>. offerURL must be an absolute http(s) URL.
func OfferURI(scheme, offerURL string) (string, error) {
	s, err := NormalizeOfferScheme(scheme)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(offerURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return "", fmt.Errorf("offer URL must be an absolute https URL without fragment")
	}
	return s + "?" + url.Values{"credential_offer_uri": {offerURL}}.Encode(), nil
}

// OfferedConfigurationIDs are the configuration ids an offer of one definition lists: the 1.0 (dc+sd-jwt) id only,
// unless includeLegacy asks for the vc+sd-jwt twin as well. Listing both makes 1.0 wallets fetch the same dataset
// twice, so the twin is offered only to a known draft-13 wallet population.
func OfferedConfigurationIDs(definitionID string, includeLegacy bool) []string {
	if includeLegacy {
		return []string{definitionID, definitionID + LegacyConfigurationSuffix}
	}
	return []string{definitionID}
}

// SplitConfigurationID maps a configuration id from a request back to the definition id and the format it names:
// the twin suffix means vc+sd-jwt, anything else dc+sd-jwt.
func SplitConfigurationID(configurationID string) (definitionID, format string) {
	if base, ok := strings.CutSuffix(configurationID, LegacyConfigurationSuffix); ok && base != "" {
		return base, FormatLegacySDJWTVC
	}
	return configurationID, FormatSDJWTVC
}
