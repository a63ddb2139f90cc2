package oid4vci

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/url"
	"strings"
)

// Authorization code flow (RFC 6749 section 4.1 with RFC 9126 PAR, RFC 7636 PKCE, RFC 9396 RAR, RFC 9207).
const (
	// GrantTypeAuthorizationCode is the authorization code grant type.
	GrantTypeAuthorizationCode = "authorization_code"
	// ResponseTypeCode is the only response_type of the authorization endpoint.
	ResponseTypeCode = "code"
	// CodeChallengeMethodS256 is the only PKCE method accepted (HAIP 1.0).
	CodeChallengeMethodS256 = "S256"
	// RequestURIPrefix prefixes every request_uri of the PAR endpoint (RFC 9126 section 2.2).
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// MaxAuthorizationRequestBytes bounds a pushed authorization request body.
	MaxAuthorizationRequestBytes = 16 << 10
	// MaxRedirectURILen bounds a redirect_uri.
	MaxRedirectURILen = 2048
	// MaxStateLen bounds the wallet's state.
	MaxStateLen = 512
	// MaxClientIDLen bounds a client_id.
	MaxClientIDLen = 256
	// maxScopeValues bounds the scope values of one request.
	maxScopeValues = 10
)

// OAuth error codes of the authorization code flow besides those of the token endpoint.
const (
	// ErrUnsupportedResponseType: response_type is not code.
	ErrUnsupportedResponseType = "unsupported_response_type"
	// ErrInvalidScope: a scope value names no credential configuration of this issuer.
	ErrInvalidScope = "invalid_scope"
	// ErrInvalidTarget: resource names another resource server (RFC 8707).
	ErrInvalidTarget = "invalid_target"
	// ErrAccessDenied: the holder was not authenticated or the issuer refused the request.
	ErrAccessDenied = "access_denied"
	// ErrTemporarilyUnavailable: the issuer cannot serve the authorization request now.
	ErrTemporarilyUnavailable = "temporarily_unavailable"
)

// AuthorizationRequest is a pushed authorization request of the authorization code grant.
type AuthorizationRequest struct {
	// ClientID is the wallet's client identifier.
	ClientID string
	// RedirectURI is where the authorization response goes; the token request must repeat it.
	RedirectURI string
	// State is the wallet's state, echoed in the authorization response ("" when not sent).
	State string
	// CodeChallenge is the PKCE S256 challenge.
	CodeChallenge string
	// Scope are the scope values asked for (OpenID4VCI 1.0 section 5.1.2), in order, without repeats.
	Scope []string
	// AuthorizationDetails are the openid_credential entries asked for (section 5.1.1).
	AuthorizationDetails []AuthorizationDetail
	// IssuerState is the issuer_state of the credential offer ("" for wallet-initiated issuance). Secret: never
	// log it.
	IssuerState string
	// DPoPJKT is the dpop_jkt parameter (RFC 9449 section 10): the thumbprint of the key the code is bound to.
	DPoPJKT string
}

// ParsePushedAuthorizationRequest parses the form body of a pushed authorization request (RFC 9126 section 2.1).
// issuerURL is the only resource accepted. Failures are *Error (invalid_request, unsupported_response_type,
// invalid_authorization_details, invalid_target) saying which parameter is wrong; descriptions never repeat
// values.
func ParsePushedAuthorizationRequest(body, contentType, issuerURL string) (*AuthorizationRequest, error) {
	form, err := readForm(body, contentType, MaxAuthorizationRequestBytes, "pushed authorization request")
	if err != nil {
		return nil, err
	}
	if _, ok := form["request_uri"]; ok {
		return nil, Errorf(ErrInvalidRequest, "a pushed authorization request must not carry request_uri (RFC 9126 section 2.1)")
	}
	if _, ok := form["request"]; ok {
		return nil, Errorf(ErrInvalidRequest, "request objects are not accepted: send the parameters in the form")
	}
	switch rt := form.Get("response_type"); rt {
	case ResponseTypeCode:
	case "":
		return nil, Errorf(ErrInvalidRequest, "response_type is required: use code")
	default:
		return nil, Errorf(ErrUnsupportedResponseType, "response_type must be code")
	}
	req := &AuthorizationRequest{ClientID: form.Get("client_id"), RedirectURI: form.Get("redirect_uri"),
		State: form.Get("state"), CodeChallenge: form.Get("code_challenge"), IssuerState: form.Get("issuer_state"),
		DPoPJKT: form.Get("dpop_jkt")}
	if err := CheckClientID(req.ClientID); err != nil {
		return nil, err
	}
	if err := CheckRedirectURI(req.RedirectURI); err != nil {
		return nil, err
	}
	if len(req.State) > MaxStateLen || !visibleASCII(req.State) {
		return nil, Errorf(ErrInvalidRequest, "state must be at most %d visible ASCII characters", MaxStateLen)
	}
	switch m := form.Get("code_challenge_method"); {
	case req.CodeChallenge == "":
		return nil, Errorf(ErrInvalidRequest, "code_challenge is required: PKCE with S256 (RFC 7636)")
	case m == "":
		return nil, Errorf(ErrInvalidRequest, "code_challenge_method is required: S256 (plain is not accepted)")
	case m != CodeChallengeMethodS256:
		return nil, Errorf(ErrInvalidRequest, "code_challenge_method must be S256 (plain is not accepted)")
	case !isSHA256(req.CodeChallenge):
		return nil, Errorf(ErrInvalidRequest, "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)")
	}
	if req.DPoPJKT != "" && !isSHA256(req.DPoPJKT) {
		return nil, Errorf(ErrInvalidRequest, "dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key (43 characters)")
	}
	if len(req.IssuerState) > 512 || !visibleASCII(req.IssuerState) {
		return nil, Errorf(ErrInvalidRequest, "issuer_state must be the value of the credential offer")
	}
	if r := form.Get("resource"); r != "" && strings.TrimRight(r, "/") != strings.TrimRight(issuerURL, "/") {
		return nil, Errorf(ErrInvalidTarget, "resource must be the credential issuer %s", issuerURL)
	}
	if raw := form.Get("authorization_details"); raw != "" {
		details, err := parseAuthorizationDetails(raw)
		if err != nil {
			return nil, err
		}
		req.AuthorizationDetails = details
	}
	scope, err := scopeValues(form.Get("scope"))
	if err != nil {
		return nil, err
	}
	req.Scope = scope
	if len(req.Scope) == 0 && len(req.AuthorizationDetails) == 0 {
		return nil, Errorf(ErrInvalidRequest, "name the credential with authorization_details (type openid_credential) "+
			"or with the scope of its configuration in the issuer metadata")
	}
	return req, nil
}

// scopeValues splits a scope parameter (RFC 6749 section 3.3), dropping repeats and OpenID Connect's openid.
func scopeValues(raw string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range strings.Fields(raw) {
		if !visibleASCII(v) || strings.ContainsAny(v, `"\`) {
			return nil, Errorf(ErrInvalidScope, "a scope value holds characters RFC 6749 does not allow")
		}
		if v == "openid" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	if len(out) > maxScopeValues {
		return nil, Errorf(ErrInvalidScope, "ask for at most %d credential scopes at once", maxScopeValues)
	}
	return out, nil
}

// CheckClientID accepts a client_id of at most MaxClientIDLen visible ASCII characters.
func CheckClientID(id string) error {
	switch {
	case id == "":
		return Errorf(ErrInvalidRequest, "client_id is required: the wallet's client identifier")
	case len(id) > MaxClientIDLen || !visibleASCII(id):
		return Errorf(ErrInvalidRequest, "client_id must be at most %d visible ASCII characters", MaxClientIDLen)
	}
	return nil
}

// CheckRedirectURI accepts what a wallet may register as redirect_uri through PAR: an absolute URI without
// fragment (RFC 6749 section 3.1.2), https, a private-use scheme of a native app (RFC 8252 section 7.1), or http on a
// loopback address (RFC 8252 section 7.3); never a scheme that runs or embeds content (javascript, data, ...).
func CheckRedirectURI(raw string) error {
	if raw == "" {
		return Errorf(ErrInvalidRequest, "redirect_uri is required: where the wallet receives the authorization response")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > MaxRedirectURILen || !visibleASCII(raw) || u.Scheme == "" || !u.IsAbs():
		return Errorf(ErrInvalidRequest, "redirect_uri must be an absolute URI of at most %d characters", MaxRedirectURILen)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return Errorf(ErrInvalidRequest, "redirect_uri must not have a fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		if u.Host == "" {
			return Errorf(ErrInvalidRequest, "redirect_uri must name a host")
		}
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
			return Errorf(ErrInvalidRequest, "redirect_uri may use http only on a loopback address; use https or the wallet's own scheme")
		}
	case "javascript", "data", "file", "vbscript", "blob", "about", "filesystem", "ftp", "ws", "wss":
		return Errorf(ErrInvalidRequest, "redirect_uri must use https or the wallet's own scheme")
	}
	return nil
}

// visibleASCII reports whether s holds only visible ASCII (%x20-7E).
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isSHA256 reports whether s is a base64url (unpadded) SHA-256 value.
func isSHA256(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// PushedAuthorizationResponse is the 201 answer of the PAR endpoint.
type PushedAuthorizationResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// AuthorizationEndpointRequest is what the authorization endpoint takes from its query: the request_uri of a
// pushed request and the client_id that pushed it (RFC 9126 section 4); other parameters are ignored, the pushed
// ones count.
type AuthorizationEndpointRequest struct {
	ClientID, RequestURI string
}

// ParseAuthorizationEndpointQuery reads the authorization endpoint's query. A request without request_uri is
// refused: pushed authorization requests are required.
func ParseAuthorizationEndpointQuery(q url.Values) (*AuthorizationEndpointRequest, error) {
	for _, name := range []string{"client_id", "request_uri"} {
		if len(q[name]) > 1 {
			return nil, Errorf(ErrInvalidRequest, "the parameter %s appears more than once", name)
		}
	}
	r := &AuthorizationEndpointRequest{ClientID: q.Get("client_id"), RequestURI: q.Get("request_uri")}
	switch {
	case r.RequestURI == "":
		return nil, Errorf(ErrInvalidRequest, "request_uri is required: this issuer requires pushed authorization "+
			"requests (send the request to the pushed_authorization_request_endpoint first)")
	case !strings.HasPrefix(r.RequestURI, RequestURIPrefix) || len(r.RequestURI) > 256:
		return nil, Errorf(ErrInvalidRequest, "request_uri is not one this issuer's PAR endpoint returned")
	}
	if err := CheckClientID(r.ClientID); err != nil {
		return nil, err
	}
	return r, nil
}

// PKCEChallenge is the S256 code_challenge of a code_verifier (RFC 7636 section 4.2).
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckCodeVerifier checks a code_verifier's form (43 to 128 unreserved characters, RFC 7636 section 4.1) and, in
// constant time, that its S256 challenge is challenge. A malformed verifier is invalid_request, a wrong one
// invalid_grant.
func CheckCodeVerifier(verifier, challenge string) error {
	if verifier == "" {
		return Errorf(ErrInvalidRequest, "code_verifier is required: the PKCE verifier of the authorization request")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return Errorf(ErrInvalidRequest, "code_verifier must be 43 to 128 characters (RFC 7636 section 4.1)")
	}
	for i := 0; i < len(verifier); i++ {
		c := verifier[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return Errorf(ErrInvalidRequest, "code_verifier may hold only letters, digits and -._~ (RFC 7636 section 4.1)")
		}
	}
	if subtle.ConstantTimeCompare([]byte(PKCEChallenge(verifier)), []byte(challenge)) != 1 {
		return Errorf(ErrInvalidGrant, "the code_verifier does not match the code_challenge of the authorization request")
	}
	return nil
}

// RedirectWith adds params to the query of redirectURI (keeping its own query, RFC 6749 section 3.1.2) and returns
// the URL of the redirect. Empty values are left out.
func RedirectWith(redirectURI string, params map[string]string) (string, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// AuthorizationResponse is the success answer to the wallet's redirect_uri (RFC 6749 section 4.1.2): code, the
// wallet's state, and iss (RFC 9207).
func AuthorizationResponse(redirectURI, code, state, issuer string) (string, error) {
	return RedirectWith(redirectURI, map[string]string{"code": code, "state": state, "iss": issuer})
}

// AuthorizationErrorResponse is an error answer to a trusted redirect_uri (RFC 6749 section 4.1.2.1, RFC 9207).
func AuthorizationErrorResponse(redirectURI string, e *Error, state, issuer string) (string, error) {
	return RedirectWith(redirectURI, map[string]string{"error": e.Code,
		"error_description": SanitizeDescription(e.Description), "state": state, "iss": issuer})
}

// readForm reads a form body: the media type, a size bound, each parameter at most once, and a parameter without
// a value counted as omitted (RFC 6749 section 3.1).
func readForm(body, contentType string, limit int, what string) (url.Values, error) {
	if !mediaTypeIs(contentType, "application/x-www-form-urlencoded") {
		return nil, Errorf(ErrInvalidRequest, "the %s must be sent as application/x-www-form-urlencoded", what)
	}
	if len(body) > limit {
		return nil, Errorf(ErrInvalidRequest, "the %s is larger than %d bytes", what, limit)
	}
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, Errorf(ErrInvalidRequest, "the %s body is not valid form encoding", what)
	}
	for name, values := range form {
		if len(values) > 1 {
			return nil, Errorf(ErrInvalidRequest, "the parameter %s appears more than once; send each parameter once", protocolName(name))
		}
		if values[0] == "" {
			delete(form, name)
		}
	}
	return form, nil
}

// HolderResponse is the wallet's direct_post answer to a holder authentication request: the response (id_token,
// or later a vp_token) or an error, and the state of the request.
type HolderResponse struct {
	// State names the authorization session.
	State string
	// Form holds every posted parameter (id_token, error, error_description, ...).
	Form url.Values
	// Encrypted reports an answer that came encrypted (OpenID4VP direct_post.jwt), its parameters in Form.
	Encrypted bool
}

// ParseHolderResponse reads a direct_post body of at most limit bytes. state is required.
func ParseHolderResponse(body, contentType string, limit int) (*HolderResponse, error) {
	form, err := ParseHolderForm(body, contentType, limit)
	if err != nil {
		return nil, err
	}
	return HolderResponseOf(form)
}

// ParseHolderForm reads a direct_post body as a form (each parameter at most once, within limit bytes: the
// endpoint's bound, which OpenID4VP responses set, openid4vp.MaxPostBytes), for the endpoint to tell an encrypted
// OpenID4VP response (only `response`) from one in the clear.
func ParseHolderForm(body, contentType string, limit int) (url.Values, error) {
	return readForm(body, contentType, limit, "authorization response")
}

// HolderResponseOf is the response of a form in the clear. state is required.
func HolderResponseOf(form url.Values) (*HolderResponse, error) {
	st := form.Get("state")
	if st == "" || len(st) > 256 || !visibleASCII(st) {
		return nil, Errorf(ErrInvalidRequest, "state is required: the state of the request the issuer sent")
	}
	return &HolderResponse{State: st, Form: form}, nil
}
