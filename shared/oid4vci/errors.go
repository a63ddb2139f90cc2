package oid4vci

import (
	"fmt"
	"net/http"
	"strings"
)

// OAuth 2.0 (RFC 6749, RFC 6750, RFC 9396) error codes used at the token endpoint and on protected resources.
const (
	// ErrInvalidRequest: a token request is missing a parameter, repeats one, or carries an unexpected tx_code.
	ErrInvalidRequest = "invalid_request"
	// ErrInvalidGrant: the pre-authorized code or tx_code is wrong, expired or already used.
	ErrInvalidGrant = "invalid_grant"
	// ErrUnsupportedGrantType: the grant_type is not the pre-authorized code grant.
	ErrUnsupportedGrantType = "unsupported_grant_type"
	// ErrInvalidClient: client authentication failed (or anonymous access is not allowed).
	ErrInvalidClient = "invalid_client"
	// ErrUnauthorizedClient: the client may not use this grant type.
	ErrUnauthorizedClient = "unauthorized_client"
	// ErrInvalidAuthorizationDetails: authorization_details in a token request is malformed (RFC 9396).
	ErrInvalidAuthorizationDetails = "invalid_authorization_details"
	// ErrInvalidToken: the access token is missing, unknown or expired (RFC 6750), answered with 401.
	ErrInvalidToken = "invalid_token"
	// ErrServerError: the issuer failed; the request may be retried.
	ErrServerError = "server_error"
)

// OpenID4VCI error codes of the credential, deferred credential and notification endpoints.
const (
	// ErrInvalidCredentialRequest: the credential request is malformed.
	ErrInvalidCredentialRequest = "invalid_credential_request"
	// ErrUnknownCredentialConfiguration: the credential_configuration_id is unknown (1.0).
	ErrUnknownCredentialConfiguration = "unknown_credential_configuration"
	// ErrUnknownCredentialIdentifier: the credential_identifier is unknown (1.0).
	ErrUnknownCredentialIdentifier = "unknown_credential_identifier"
	// ErrInvalidProof: proofs are missing, invalid, or lack a c_nonce.
	ErrInvalidProof = "invalid_proof"
	// ErrInvalidNonce: a proof carries a c_nonce the issuer does not accept; the wallet fetches a new one.
	ErrInvalidNonce = "invalid_nonce"
	// ErrInvalidEncryptionParameters: credential_response_encryption is invalid or not supported.
	ErrInvalidEncryptionParameters = "invalid_encryption_parameters"
	// ErrCredentialRequestDenied: the issuer will not issue the credential; the wallet should not retry.
	ErrCredentialRequestDenied = "credential_request_denied"
	// ErrInvalidTransactionID: the deferred transaction_id is unknown or was already used.
	ErrInvalidTransactionID = "invalid_transaction_id"
	// ErrIssuancePending: drafts 12 and 13 answer a deferred request that is not ready with this 400 error.
	ErrIssuancePending = "issuance_pending"
	// ErrUnsupportedCredentialType: drafts 12 and 13 name an unknown vct with this code.
	ErrUnsupportedCredentialType = "unsupported_credential_type"
	// ErrUnsupportedCredentialFormat: drafts 12 and 13 name an unknown format with this code.
	ErrUnsupportedCredentialFormat = "unsupported_credential_format"
	// ErrInvalidNotificationID: the notification_id is unknown.
	ErrInvalidNotificationID = "invalid_notification_id"
	// ErrInvalidNotificationRequest: the notification request is malformed.
	ErrInvalidNotificationRequest = "invalid_notification_request"
)

// Error is a protocol error with the exact OAuth/OpenID4VCI code and a description that says what failed and how
// to fix it. Descriptions never carry codes, tokens, PINs, keys or claim values. Interval is set only for
// issuance_pending.
type Error struct {
	Code        string
	Description string
	Interval    int
}

// Errorf builds an *Error whose description is formatted from the arguments; callers never pass secrets or values
// sent by the wallet.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *Error) Error() string {
	return e.Code + ": " + e.Description
}

// Is matches another *Error with the same code, so errors.Is(err, &Error{Code: ErrInvalidProof}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// HTTPStatus is the status the error is answered with: 401 for invalid_client and invalid_token, 403 for
// insufficient_scope, 500 for server_error, 400 for everything else.
func (e *Error) HTTPStatus() int {
	switch e.Code {
	case ErrInvalidClient, ErrInvalidToken:
		return http.StatusUnauthorized
	case "insufficient_scope":
		return http.StatusForbidden
	case ErrServerError:
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}

// ErrorBody is the JSON body of an error answer. c_nonce and c_nonce_expires_in are only set for draft wallets,
// which expect a fresh nonce beside invalid_proof; interval only for issuance_pending.
type ErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
	CNonce           string `json:"c_nonce,omitempty"`
	CNonceExpiresIn  int    `json:"c_nonce_expires_in,omitempty"`
	Interval         int    `json:"interval,omitempty"`
}

// CNonce is a fresh nonce with its lifetime in seconds, as token and draft credential responses carry it.
type CNonce struct {
	Value            string
	ExpiresInSeconds int
}

// Body renders the error for a wallet that spoke dialect d. Draft 12 and 13 predate invalid_nonce and the unknown_*
// codes, so those are answered with the draft code (invalid_proof plus a fresh c_nonce, unsupported_credential_type,
// invalid_credential_request); drafts 14 and 15 only predate the unknown_* codes. nonce may be nil.
func (e *Error) Body(d Dialect, nonce *CNonce) ErrorBody {
	b := ErrorBody{Error: e.Code, ErrorDescription: SanitizeDescription(e.Description), Interval: e.Interval}
	if d == DialectDraft15 {
		// Drafts 14 and 15 had invalid_nonce, but not yet the unknown_* codes.
		switch e.Code {
		case ErrUnknownCredentialConfiguration:
			b.Error = ErrUnsupportedCredentialType
		case ErrUnknownCredentialIdentifier:
			b.Error = ErrInvalidCredentialRequest
		}
	}
	if d.Legacy() {
		switch e.Code {
		case ErrInvalidNonce:
			b.Error = ErrInvalidProof
		case ErrUnknownCredentialConfiguration:
			b.Error = ErrUnsupportedCredentialType
		case ErrUnknownCredentialIdentifier:
			b.Error = ErrInvalidCredentialRequest
		}
		if nonce != nil && (b.Error == ErrInvalidProof) {
			b.CNonce = nonce.Value
			b.CNonceExpiresIn = nonce.ExpiresInSeconds
		}
	}
	return b
}

// SanitizeDescription keeps only the characters OpenID4VCI allows in error_description (%x20-21 / %x23-5B /
// %x5D-7E): quotes become apostrophes, backslashes slashes, anything else a question mark.
func SanitizeDescription(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteByte('\'')
		case r == '\\':
			b.WriteByte('/')
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// validDescriptionText reports whether s holds only %x20-21 / %x23-5B / %x5D-7E, the set OpenID4VCI allows in
// error_description and event_description.
func validDescriptionText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
