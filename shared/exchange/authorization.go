package exchange

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// Pointer kinds of the authorization code flow: a pushed authorization request (PAR#<hash of its request_uri>),
// valid for a minute until the authorization endpoint consumes it, and the authorization session that waits for the
// holder's authentication (AUTHZ#<hash of the state sent to the wallet>), consumed by the wallet's answer.
const (
	PointerPushedRequest = "PAR"
	PointerAuthorization = "AUTHZ"
)

// issuerStateLabel separates the issuer_state derivation from the pre-authorized code's.
const issuerStateLabel = "sdjwt-issuer/v1/issuer_state"

// IssuerState derives the issuer_state of an offer's authorization code grant from its offer id, as
// PreAuthorizedCode derives the code: `<exchangeId>.` and an HMAC-SHA-256 keyed with the offer id over its own
// label. Never stored: the record keeps its hash (Record.IssuerStateHash) until a grant of the offer is taken.
func IssuerState(offerID string) string {
	m := hmac.New(sha256.New, []byte(offerID))
	m.Write([]byte(issuerStateLabel))
	mac := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if id, ok := SecretExchangeID(offerID); ok {
		return id + exchangeSecretSeparator + mac
	}
	return mac
}

// AuthorizationCode is what an exchange keeps of the authorization code grant: the code's hash while it can be
// redeemed and what the token request must match (PKCE challenge, redirect_uri, client_id, DPoP key), then the
// hash of the redeemed code, so that a replay finds and revokes the token it produced.
type AuthorizationCode struct {
	// CodeHash is HashSecret of the code until the token endpoint redeems it.
	CodeHash string
	// UsedCodeHash is HashSecret of the redeemed code.
	UsedCodeHash string
	// ExpiresAt is when the unredeemed code stops working (unix seconds).
	ExpiresAt int64
	// CodeChallenge is the PKCE S256 challenge of the authorization request.
	CodeChallenge string
	// RedirectURI is the redirect_uri registered through PAR; the token request must repeat it.
	RedirectURI string
	// ClientID is the client that pushed the request.
	ClientID string
	// DPoPJKT binds the code to a DPoP key (a DPoP proof at PAR, or dpop_jkt): the token request's proof must be
	// signed by it.
	DPoPJKT string
	// Details are the configuration ids the wallet asked for with authorization_details (echoed in the token
	// response with their credential_identifiers); empty when it asked with scope.
	Details []string
}

// AuthorizationSession is an authorization request on its way through the authorization endpoint: what PAR
// accepted, kept as a pointer item (PAR#..., then AUTHZ#...) until the code is issued.
type AuthorizationSession struct {
	// ExchangeID is the exchange the offer's issuer_state names ("" for wallet-initiated issuance).
	ExchangeID string
	// IssuerStateHash is HashSecret of the issuer_state, compared with the record's when the code is issued.
	IssuerStateHash string
	// DefinitionID is the definition of a wallet-initiated request.
	DefinitionID string
	// ConfigurationID is the credential configuration asked for.
	ConfigurationID string
	// ClientID, RedirectURI, State and CodeChallenge are the wallet's parameters.
	ClientID, RedirectURI, State, CodeChallenge string
	// DPoPJKT is the DPoP key the code will be bound to ("" for none).
	DPoPJKT string
	// Details reports that authorization_details (not scope) named the configuration.
	Details bool
	// Method is the holder authentication (definition.HolderAuthIDToken, definition.HolderAuthIssuerState, or the
	// method of another wallet.HolderAuthenticator).
	Method string
	// NonceHash is HashSecret of the nonce of the holder authentication request ("" before it is sent).
	NonceHash string
}

// Attribute names of a session pointer.
const (
	attrSession = "session"
	attrVersion = "v"
	sessionV1   = "1"
)

// sessionData is the JSON of a session inside its pointer's attributes.
type sessionData struct {
	ExchangeID      string `json:"exchangeId,omitempty"`
	IssuerStateHash string `json:"issuerStateHash,omitempty"`
	DefinitionID    string `json:"definitionId,omitempty"`
	ConfigurationID string `json:"configurationId"`
	ClientID        string `json:"clientId"`
	RedirectURI     string `json:"redirectUri"`
	State           string `json:"state,omitempty"`
	CodeChallenge   string `json:"codeChallenge"`
	DPoPJKT         string `json:"dpopJkt,omitempty"`
	Details         bool   `json:"details,omitempty"`
	Method          string `json:"method"`
	NonceHash       string `json:"nonceHash,omitempty"`
}

// Pointer is the session as the pointer item key (PointerKey of its kind and secret), expiring at expiresAt. Its
// exchange id is the session's (so that the exchange write that issues the code may consume it).
func (s *AuthorizationSession) Pointer(key string, expiresAt int64) (Pointer, error) {
	b, err := json.Marshal(sessionData(*s))
	if err != nil {
		return Pointer{}, fmt.Errorf("encode authorization session: %w", err)
	}
	return Pointer{Key: key, ExchangeID: s.ExchangeID, ExpiresAt: expiresAt,
		Attributes: map[string]string{attrSession: string(b), attrVersion: sessionV1}}, nil
}

// SessionOf reads the session a pointer of Pointer holds.
func SessionOf(p Pointer) (AuthorizationSession, error) {
	if v := p.Attributes[attrVersion]; v != sessionV1 {
		return AuthorizationSession{}, fmt.Errorf("authorization session: unknown version %s", strconv.Quote(v))
	}
	var d sessionData
	if err := json.Unmarshal([]byte(p.Attributes[attrSession]), &d); err != nil {
		return AuthorizationSession{}, fmt.Errorf("decode authorization session: %w", err)
	}
	if d.ExchangeID != p.ExchangeID {
		return AuthorizationSession{}, fmt.Errorf("authorization session: exchange ids differ")
	}
	return AuthorizationSession(d), nil
}
