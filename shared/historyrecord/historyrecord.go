// Package historyrecord is the credential history record as the admin API answers it and as events carry it:
// the seed's 40 fields, each always present (empty as "", false, 0, null, {} or []), and five documented
// additions (credentials, offerDelivery, credentialFailureDescription, offerExpiresAt, presentationFailure). It maps an exchange.Record to that wire
// shape at the edge; the domain and the store keep their own types.
package historyrecord

import "github.com/sdjwt-issuer/issuer/shared/exchange"

// Record is the history record on the wire.
type Record struct {
	CredentialExchangeID          string           `json:"credentialExchangeId"`
	IssuanceMode                  string           `json:"issuanceMode"`
	IsPreAuthorised               bool             `json:"isPreAuthorised"`
	CredentialOffer               string           `json:"credentialOffer"`
	CredentialStatus              string           `json:"credentialStatus"`
	Status                        string           `json:"status"`
	ClientID                      string           `json:"clientId"`
	UserPin                       string           `json:"userPin"`
	CreatedAt                     int64            `json:"createdAt"`
	UpdatedAt                     int64            `json:"updatedAt"`
	Credential                    *Credential      `json:"credential"`
	DisclosureMapping             map[string]any   `json:"disclosureMapping"`
	CredentialDefinitionID        string           `json:"credentialDefinitionId"`
	PresentationDefinitionID      string           `json:"presentationDefinitionId"`
	PresentationExchangeID        string           `json:"presentationExchangeId"`
	Holder                        map[string]any   `json:"holder"`
	CredentialFormat              string           `json:"credentialFormat"`
	SupportRevocation             bool             `json:"supportRevocation"`
	RevocationStatus              string           `json:"revocationStatus"`
	ClientAssertion               string           `json:"clientAssertion"`
	ClientAssertionType           string           `json:"clientAssertionType"`
	ClientAssertionVerified       bool             `json:"clientAssertionVerified"`
	WalletUnitAttestation         string           `json:"walletUnitAttestation"`
	WalletUnitAttestationPoP      string           `json:"walletUnitAttestationPoP"`
	WalletUnitAttestationVerified bool             `json:"walletUnitAttestationVerified"`
	CredentialToken               string           `json:"credentialToken"`
	Cnf                           map[string]any   `json:"cnf"`
	JTI                           string           `json:"jti"`
	Proof                         string           `json:"proof"`
	ProofType                     string           `json:"proofType"`
	DecodedWalletUnitAttestation  map[string]any   `json:"decodedWalletUnitAttestation"`
	IDToken                       string           `json:"idToken"`
	IDTokenDecoded                map[string]any   `json:"idTokenDecoded"`
	IDTokenVerified               bool             `json:"idTokenVerified"`
	IssuanceDeniedReason          string           `json:"issuanceDeniedReason"`
	ExpiredCredentialTokens       []string         `json:"expiredCredentialTokens"`
	ExpiredCredentials            []map[string]any `json:"expiredCredentials"`
	CredentialResponseEncryption  map[string]any   `json:"credentialResponseEncryption"`
	IndividualID                  string           `json:"individualId"`
	MapperID                      string           `json:"mapperId"`

	// Credentials renders every payload of the exchange (addition to the seed, for credentials[]).
	Credentials []Credential `json:"credentials"`
	// OfferDelivery is the outcome of delivering the offer to a wallet endpoint (addition to the seed; null
	// without an endpoint).
	OfferDelivery *OfferDelivery `json:"offerDelivery"`
	// CredentialFailureDescription is the wallet's last credential_failure notification description (addition
	// to the seed; "" when the wallet reported none).
	CredentialFailureDescription string `json:"credentialFailureDescription"`
	// OfferExpiresAt is when the offer and its pre-authorized code stop working (unix seconds; addition to the
	// seed).
	OfferExpiresAt int64 `json:"offerExpiresAt"`
	// PresentationFailure is why the holder's last presentation in a dynamic credential request was refused
	// (addition to the seed; null when none was, or one was verified since).
	PresentationFailure *PresentationFailure `json:"presentationFailure"`
}

// PresentationFailure is the record's `presentationFailure` field.
type PresentationFailure struct {
	// Reason says what was wrong with the presentation (never a presented value).
	Reason string `json:"reason"`
	// At is when it was refused (unix seconds).
	At int64 `json:"at"`
}

// Credential is the record's `credential` field and an entry of `credentials`: the credential type and one
// payload.
type Credential struct {
	Type               []string       `json:"type"`
	CredentialSubject  map[string]any `json:"credentialSubject"`
	CredentialMetadata map[string]any `json:"credentialMetadata"`
}

// OfferDelivery is the record's `offerDelivery` field.
type OfferDelivery struct {
	// Endpoint is the wallet endpoint the offer was sent to.
	Endpoint string `json:"endpoint"`
	// Outcome is "delivered" (2xx) or "failed".
	Outcome string `json:"outcome"`
	// HTTPStatus is the wallet's status code, 0 when no response came.
	HTTPStatus int `json:"httpStatus"`
	// Error says why a delivery failed (timeout, connection refused, HTTP status), never with offer data.
	Error string `json:"error"`
	// AttemptedAt is when the delivery was attempted (unix seconds).
	AttemptedAt int64 `json:"attemptedAt"`
}

// seedFields are the JSON names of the seed's history record, each present in every rendered record.
var seedFields = []string{"credentialExchangeId", "issuanceMode", "isPreAuthorised", "credentialOffer",
	"credentialStatus", "status", "clientId", "userPin", "createdAt", "updatedAt", "credential",
	"disclosureMapping", "credentialDefinitionId", "presentationDefinitionId", "presentationExchangeId", "holder",
	"credentialFormat", "supportRevocation", "revocationStatus", "clientAssertion", "clientAssertionType",
	"clientAssertionVerified", "walletUnitAttestation", "walletUnitAttestationPoP",
	"walletUnitAttestationVerified", "credentialToken", "cnf", "jti", "proof", "proofType",
	"decodedWalletUnitAttestation", "idToken", "idTokenDecoded", "idTokenVerified", "issuanceDeniedReason",
	"expiredCredentialTokens", "expiredCredentials", "credentialResponseEncryption", "individualId", "mapperId"}

// SeedFields returns the JSON names of the seed's history record (a copy).
func SeedFields() []string { return append([]string(nil), seedFields...) }

// From renders rec. Fields the issuer does not use yet (expired credentials, mappers) are rendered empty; the
// userPin too (only the issue response echoes it, from the request:
// WithUserPin).
func From(rec *exchange.Record) Record {
	credentials := make([]Credential, len(rec.Credentials))
	for i, p := range rec.Credentials {
		credentials[i] = Credential{Type: append([]string(nil), rec.CredentialType...),
			CredentialSubject: p.CredentialSubject, CredentialMetadata: p.CredentialMetadata}
	}
	out := Record{CredentialExchangeID: rec.CredentialExchangeID, IssuanceMode: string(rec.IssuanceMode),
		IsPreAuthorised: rec.IsPreAuthorised, CredentialOffer: rec.CredentialOffer,
		CredentialStatus: string(rec.CredentialStatus), Status: string(rec.Status), ClientID: rec.ClientID,
		CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, DisclosureMapping: object(rec.DisclosureMapping),
		CredentialDefinitionID: rec.CredentialDefinitionID, Holder: object(rec.Holder),
		PresentationDefinitionID: rec.PresentationDefinitionID, PresentationExchangeID: rec.PresentationExchangeID,
		CredentialFormat: rec.CredentialFormat, SupportRevocation: rec.SupportRevocation,
		RevocationStatus: string(rec.RevocationStatus), CredentialToken: rec.CredentialToken, Cnf: object(rec.Cnf),
		JTI: rec.JTI, Proof: rec.Proof, ProofType: rec.ProofType,
		ClientAssertion: rec.ClientAssertion, ClientAssertionType: rec.ClientAssertionType,
		ClientAssertionVerified: rec.ClientAssertionVerified, WalletUnitAttestation: rec.WalletUnitAttestation,
		WalletUnitAttestationPoP:      rec.WalletUnitAttestationPoP,
		WalletUnitAttestationVerified: rec.WalletUnitAttestationVerified,
		DecodedWalletUnitAttestation:  object(rec.DecodedWalletUnitAttestation),
		IDToken:                       rec.IDToken, IDTokenDecoded: object(rec.IDTokenDecoded), IDTokenVerified: rec.IDTokenVerified,
		IssuanceDeniedReason:    rec.IssuanceDeniedReason,
		ExpiredCredentialTokens: []string{}, ExpiredCredentials: []map[string]any{},
		CredentialResponseEncryption: object(rec.CredentialResponseEncryption), IndividualID: rec.IndividualID, Credentials: credentials,
		CredentialFailureDescription: rec.NotificationDescription, OfferExpiresAt: rec.OfferExpiresAt}
	if len(credentials) > 0 {
		c := credentials[0]
		out.Credential = &c
	}
	if f := rec.PresentationFailure; f != nil {
		out.PresentationFailure = &PresentationFailure{Reason: f.Reason, At: f.At}
	}
	if d := rec.OfferDelivery; d != nil {
		out.OfferDelivery = &OfferDelivery{Endpoint: d.Endpoint, Outcome: d.Outcome, HTTPStatus: d.HTTPStatus,
			Error: d.Error, AttemptedAt: d.AttemptedAt}
	}
	return out
}

// Event is the detail of a published event: the history record of exchange.Record.EventDetail (no claims,
// credentials, tokens, PINs, proofs or offer link: those render empty) and the version the write left the record
// at. A delivery repeated by the at-least-once path carries the same credentialExchangeId, detail-type and
// version; a new change has a higher version.
type Event struct {
	Record
	// Version is the record's version after the write the event reports (the revocation item's RecordVersion
	// for a revocation status change after the record is gone).
	Version int64 `json:"version"`
}

// EventOf renders the detail of e.
func EventOf(e *exchange.Event) Event {
	return Event{Record: From(&e.Detail), Version: e.Detail.Version}
}

// List renders every record of recs, in order ([] for none).
func List(recs []exchange.Record) []Record {
	out := make([]Record, len(recs))
	for i := range recs {
		out[i] = From(&recs[i])
	}
	return out
}

// WithUserPin is r with userPin set: the issue response echoes the PIN the request carried, once; stored records
// and events never hold it.
func (r Record) WithUserPin(pin string) Record {
	r.UserPin = pin
	return r
}

// object is m, or an empty object for nil.
func object(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
