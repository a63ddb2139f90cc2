package oid4vci

import (
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Token request limits.
const (
	// MaxTokenRequestBytes bounds a token request body.
	MaxTokenRequestBytes = 16 << 10
	// TokenTypeBearer is the token_type of a bearer access token.
	TokenTypeBearer = "Bearer"
	// TokenTypeDPoP is the token_type of a DPoP-bound access token (RFC 9449 section 5).
	TokenTypeDPoP = "DPoP"
	// AuthorizationDetailsTypeCredential is the RFC 9396 type OpenID4VCI defines.
	AuthorizationDetailsTypeCredential = "openid_credential"
)

// AuthorizationDetail is one openid_credential entry of authorization_details (RFC 9396), as a token request may
// carry it and a token response answers it with the credential_identifiers.
type AuthorizationDetail struct {
	Type                      string   `json:"type"`
	CredentialConfigurationID string   `json:"credential_configuration_id"`
	Locations                 []string `json:"locations,omitempty"`
	CredentialIdentifiers     []string `json:"credential_identifiers,omitempty"`
}

// TokenRequest is a parsed token request of the pre-authorized code or the authorization code grant.
type TokenRequest struct {
	// GrantType is GrantTypePreAuthorizedCode or GrantTypeAuthorizationCode.
	GrantType string
	// PreAuthorizedCode is the code from the offer. Secret: never log it.
	PreAuthorizedCode string
	// TxCode is the transaction code (tx_code, or draft-12 user_pin). Secret: never log it.
	TxCode string
	// TxCodePresent reports that tx_code (or user_pin) was sent; an empty value counts as not sent (RFC 6749
	// section 3.1), so TxCode is non-empty whenever TxCodePresent is true.
	TxCodePresent bool
	// Code, CodeVerifier and RedirectURI are the authorization code grant's (RFC 6749 section 4.1.3, RFC 7636
	// section 4.5). Code and CodeVerifier are secret: never log them.
	Code, CodeVerifier, RedirectURI string
	// ClientID is the optional client_id (anonymous access is allowed).
	ClientID string
	// AuthorizationDetails are the openid_credential entries the wallet asked for, if any.
	AuthorizationDetails []AuthorizationDetail
	// Dialect is DialectDraft12 when the wallet sent user_pin, else DialectV1.
	Dialect Dialect
}

// ParseTokenRequest parses a token request body (application/x-www-form-urlencoded) of the pre-authorized code or
// the authorization code grant. Parameters sent without a value are treated as omitted (RFC 6749 section 3.1).
// Failures are *Error with invalid_request, unsupported_grant_type or invalid_authorization_details; descriptions
// never repeat a code, a verifier or the transaction code.
func ParseTokenRequest(body, contentType string) (*TokenRequest, error) {
	form, err := readForm(body, contentType, MaxTokenRequestBytes, "token request")
	if err != nil {
		return nil, err
	}
	grant := form.Get("grant_type")
	req := &TokenRequest{GrantType: grant, ClientID: form.Get("client_id")}
	switch grant {
	case "":
		return nil, Errorf(ErrInvalidRequest, "grant_type is required; use %s or %s", GrantTypePreAuthorizedCode,
			GrantTypeAuthorizationCode)
	case GrantTypeAuthorizationCode:
		req.Code, req.CodeVerifier, req.RedirectURI = form.Get("code"), form.Get("code_verifier"), form.Get("redirect_uri")
		if req.Code == "" {
			return nil, Errorf(ErrInvalidRequest, "code is required: the authorization code of the authorization response")
		}
		if req.CodeVerifier == "" {
			return nil, Errorf(ErrInvalidRequest, "code_verifier is required: the PKCE verifier of the authorization request")
		}
		return req, nil
	case GrantTypePreAuthorizedCode:
	default:
		return nil, Errorf(ErrUnsupportedGrantType, "the grant types are %s and %s", GrantTypePreAuthorizedCode,
			GrantTypeAuthorizationCode)
	}
	req.PreAuthorizedCode = form.Get("pre-authorized_code")
	if req.PreAuthorizedCode == "" {
		return nil, Errorf(ErrInvalidRequest, "pre-authorized_code is required: the code from the credential offer")
	}
	_, hasTx := form["tx_code"]
	_, hasPin := form["user_pin"]
	switch {
	case hasTx && hasPin && form.Get("tx_code") != form.Get("user_pin"):
		return nil, Errorf(ErrInvalidRequest, "tx_code and user_pin differ; send only tx_code")
	case hasTx:
		req.TxCode, req.TxCodePresent = form.Get("tx_code"), true
	case hasPin:
		req.TxCode, req.TxCodePresent, req.Dialect = form.Get("user_pin"), true, DialectDraft12
	}
	if raw := form.Get("authorization_details"); raw != "" {
		details, err := parseAuthorizationDetails(raw)
		if err != nil {
			return nil, err
		}
		req.AuthorizationDetails = details
	}
	return req, nil
}

// CheckTxCode applies OpenID4VCI 1.0 section 6.3 to the presence of a transaction code: a missing one that the offer
// required, or one the offer did not ask for, is invalid_request. Whether a present code is right is the caller's
// comparison (a wrong one is invalid_grant).
func (r *TokenRequest) CheckTxCode(required bool) error {
	switch {
	case required && !r.TxCodePresent:
		return Errorf(ErrInvalidRequest, "this offer requires a transaction code: send it as tx_code")
	case !required && r.TxCodePresent:
		return Errorf(ErrInvalidRequest, "this offer has no transaction code: do not send tx_code")
	}
	return nil
}

func parseAuthorizationDetails(raw string) ([]AuthorizationDetail, error) {
	var items []jsontext.Value
	if err := json.Unmarshal([]byte(raw), &items); err != nil || len(items) == 0 {
		return nil, Errorf(ErrInvalidAuthorizationDetails, "authorization_details must be a non-empty JSON array of objects")
	}
	var out []AuthorizationDetail
	for i, item := range items {
		obj, err := decodeObject(item)
		if err != nil {
			return nil, Errorf(ErrInvalidAuthorizationDetails, "authorization_details entry %d must be one JSON object", i+1)
		}
		typ, _, err := obj.str("type")
		if err != nil || typ == "" {
			return nil, Errorf(ErrInvalidAuthorizationDetails, "authorization_details entry %d needs a string type", i+1)
		}
		if typ != AuthorizationDetailsTypeCredential {
			continue // other types belong to other specifications
		}
		id, ok, err := obj.str("credential_configuration_id")
		if err != nil || !ok || id == "" {
			return nil, Errorf(ErrInvalidAuthorizationDetails, "authorization_details entry %d needs credential_configuration_id", i+1)
		}
		d := AuthorizationDetail{Type: typ, CredentialConfigurationID: id}
		if obj.present("locations") {
			if err := json.Unmarshal(obj["locations"], &d.Locations); err != nil {
				return nil, Errorf(ErrInvalidAuthorizationDetails, "authorization_details entry %d: locations must be an array of strings", i+1)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// TokenResponse is a successful token response (RFC 6749 section 5.1). c_nonce and c_nonce_expires_in are included
// for draft-13 and draft-12 wallets, which take their first nonce from here; 1.0 wallets ignore them and use the
// nonce endpoint.
type TokenResponse struct {
	AccessToken          string                `json:"access_token"`
	TokenType            string                `json:"token_type"`
	ExpiresIn            int                   `json:"expires_in"`
	CNonce               string                `json:"c_nonce,omitempty"`
	CNonceExpiresIn      int                   `json:"c_nonce_expires_in,omitempty"`
	AuthorizationDetails []AuthorizationDetail `json:"authorization_details,omitempty"`
}

// NewTokenResponse builds a Bearer token response; nonce may be nil.
func NewTokenResponse(accessToken string, expiresInSeconds int, nonce *CNonce) *TokenResponse {
	r := &TokenResponse{AccessToken: accessToken, TokenType: TokenTypeBearer, ExpiresIn: expiresInSeconds}
	if nonce != nil {
		r.CNonce, r.CNonceExpiresIn = nonce.Value, nonce.ExpiresInSeconds
	}
	return r
}

// NonceResponse is the body of the nonce endpoint; it is answered with Cache-Control: no-store.
type NonceResponse struct {
	CNonce string `json:"c_nonce"`
}

// BearerToken extracts a bearer access token from an Authorization header. A missing or malformed header, and
// any other scheme, is invalid_token (401).
func BearerToken(authorization string) (string, error) {
	scheme, tok, err := AccessToken(authorization)
	if err != nil || scheme != TokenTypeBearer {
		return "", Errorf(ErrInvalidToken, "send the access token as Authorization: Bearer <token>")
	}
	return tok, nil
}

// AccessToken extracts the access token and its scheme, TokenTypeBearer or TokenTypeDPoP (compared
// case-insensitively, RFC 9110 section 11.1), from an Authorization header. A missing or malformed header or
// another scheme is invalid_token (401).
func AccessToken(authorization string) (scheme, token string, err error) {
	a := strings.TrimSpace(authorization)
	name, rest, ok := strings.Cut(a, " ")
	switch {
	case ok && strings.EqualFold(name, TokenTypeBearer):
		scheme = TokenTypeBearer
	case ok && strings.EqualFold(name, TokenTypeDPoP):
		scheme = TokenTypeDPoP
	default:
		return "", "", Errorf(ErrInvalidToken, "send the access token as Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)")
	}
	token = strings.TrimSpace(rest)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", "", Errorf(ErrInvalidToken, "send the access token as Authorization: %s <token>", scheme)
	}
	return scheme, token, nil
}
