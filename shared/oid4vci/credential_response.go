package oid4vci

import (
	"errors"
	"net/http"
)

// DefaultDeferredInterval is the interval (seconds) a deferred answer advertises when the caller gives none.
const DefaultDeferredInterval = 60

// Issuance is what the issuance use case produced for one credential or deferred credential request: either
// credentials (one per distinct proof key) or a transaction id to come back with.
type Issuance struct {
	// Credentials are the issued SD-JWT VCs.
	Credentials []string
	// NotificationID identifies the credentials at the notification endpoint (credential endpoint only).
	NotificationID string
	// TransactionID, when set instead of Credentials, defers the issuance.
	TransactionID string
	// Interval is the minimum wait before the deferred request, in seconds; DefaultDeferredInterval when zero.
	Interval int
	// Format is the format issued, echoed to draft wallets.
	Format string
	// CNonce is a fresh nonce for draft wallets, which take the next nonce from the credential response.
	CNonce *CNonce
}

// IssuedCredential is one entry of the 1.0 credentials array.
type IssuedCredential struct {
	Credential string `json:"credential"`
}

// CredentialResponseV1 is the OpenID4VCI 1.0 credential response: credentials (200) or transaction_id and interval
// (202), never both.
type CredentialResponseV1 struct {
	Credentials    []IssuedCredential `json:"credentials,omitempty"`
	TransactionID  string             `json:"transaction_id,omitempty"`
	Interval       int                `json:"interval,omitempty"`
	NotificationID string             `json:"notification_id,omitempty"`
}

// CredentialResponseDraft is the credential response of drafts 12 and 13: credential for a single proof,
// credentials (an array of the credentials themselves) for a proofs batch, or transaction_id; with c_nonce for the
// next request. format (draft 12) is sent to every draft wallet, since a draft-12 wallet sending a bare vct looks
// like a draft-13 one, and draft-13 wallets ignore the member. interval accompanies transaction_id because later
// draft-13 clients (oid4vc-ts) refuse a transaction_id without it.
type CredentialResponseDraft struct {
	Format          string   `json:"format,omitempty"`
	Credential      string   `json:"credential,omitempty"`
	Credentials     []string `json:"credentials,omitempty"`
	TransactionID   string   `json:"transaction_id,omitempty"`
	Interval        int      `json:"interval,omitempty"`
	CNonce          string   `json:"c_nonce,omitempty"`
	CNonceExpiresIn int      `json:"c_nonce_expires_in,omitempty"`
	NotificationID  string   `json:"notification_id,omitempty"`
}

var (
	errNothingIssued = errors.New("build credential response: neither credentials nor a transaction id")
	errBothIssued    = errors.New("build credential response: both credentials and a transaction id")
)

// BuildCredentialResponse answers a credential request in the dialect and proof shape it was made in. It returns
// the HTTP status (200, or 202 for a 1.0 deferral; drafts answered a deferral with 200) and the JSON body.
func BuildCredentialResponse(d Dialect, shape ProofShape, iss Issuance) (int, any, error) {
	if err := checkIssuance(iss); err != nil {
		return 0, nil, err
	}
	interval := iss.Interval
	if interval <= 0 {
		interval = DefaultDeferredInterval
	}
	if !d.Legacy() {
		if iss.TransactionID != "" {
			return http.StatusAccepted, &CredentialResponseV1{TransactionID: iss.TransactionID, Interval: interval}, nil
		}
		return http.StatusOK, &CredentialResponseV1{Credentials: wrap(iss.Credentials), NotificationID: iss.NotificationID}, nil
	}
	body := &CredentialResponseDraft{Format: iss.Format}
	if iss.CNonce != nil {
		body.CNonce, body.CNonceExpiresIn = iss.CNonce.Value, iss.CNonce.ExpiresInSeconds
	}
	if iss.TransactionID != "" {
		body.TransactionID, body.Interval = iss.TransactionID, interval
		return http.StatusOK, body, nil
	}
	setDraftCredentials(body, shape, iss.Credentials)
	body.NotificationID = iss.NotificationID
	return http.StatusOK, body, nil
}

// BuildDeferredCredentialResponse answers a deferred credential request in the dialect the original credential
// request was made in: 200 with the credentials, or, while still pending, 202 {transaction_id, interval} (1.0) or
// 400 issuance_pending with interval (drafts).
//
// notification_id is deliberately left out of deferred answers, although 1.0 section 9.2 allows it: wallets built on
// oid4vc-ts 0.4 reject a deferred response carrying it beside credentials, and so would drop the credential itself.
// The issuer records the pick-up (credential_acked) instead of waiting for a notification.
func BuildDeferredCredentialResponse(d Dialect, shape ProofShape, iss Issuance) (int, any, error) {
	if err := checkIssuance(iss); err != nil {
		return 0, nil, err
	}
	interval := iss.Interval
	if interval <= 0 {
		interval = DefaultDeferredInterval
	}
	switch {
	case iss.TransactionID != "" && !d.Legacy():
		return http.StatusAccepted, &CredentialResponseV1{TransactionID: iss.TransactionID, Interval: interval}, nil
	case iss.TransactionID != "":
		e := &Error{Code: ErrIssuancePending, Description: "the credential is not ready yet; retry after interval seconds", Interval: interval}
		return e.HTTPStatus(), e.Body(d, nil), nil
	case !d.Legacy():
		return http.StatusOK, &CredentialResponseV1{Credentials: wrap(iss.Credentials)}, nil
	}
	body := &CredentialResponseDraft{Format: iss.Format}
	setDraftCredentials(body, shape, iss.Credentials)
	return http.StatusOK, body, nil
}

func checkIssuance(iss Issuance) error {
	switch {
	case len(iss.Credentials) == 0 && iss.TransactionID == "":
		return errNothingIssued
	case len(iss.Credentials) > 0 && iss.TransactionID != "":
		return errBothIssued
	}
	for _, c := range iss.Credentials {
		if c == "" {
			return errors.New("build credential response: an issued credential is empty")
		}
	}
	return nil
}

func setDraftCredentials(body *CredentialResponseDraft, shape ProofShape, creds []string) {
	if shape == ProofSingle && len(creds) == 1 {
		body.Credential = creds[0]
		return
	}
	body.Credentials = append([]string(nil), creds...)
}

func wrap(creds []string) []IssuedCredential {
	out := make([]IssuedCredential, len(creds))
	for i, c := range creds {
		out[i] = IssuedCredential{Credential: c}
	}
	return out
}
