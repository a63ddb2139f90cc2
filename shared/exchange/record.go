package exchange

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/definition"
)

// CredentialPayload is the data of one credential to issue: the claims and the organisation's metadata (stored
// and echoed back, never put into the credential).
type CredentialPayload struct {
	CredentialSubject  map[string]any `json:"credentialSubject"`
	CredentialMetadata map[string]any `json:"credentialMetadata"`
}

// RenderedCredential is the record's `credential` field: the credential type and the first payload.
type RenderedCredential struct {
	Type               []string       `json:"type"`
	CredentialSubject  map[string]any `json:"credentialSubject"`
	CredentialMetadata map[string]any `json:"credentialMetadata"`
}

// Delivery outcomes of OfferDelivery.
const (
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// OfferDelivery records the delivery of the offer to a wallet's credential offer endpoint (not a seed field:
// rendered as `offerDelivery`, null when no endpoint was given).
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

// TxCode is the stored form of the userPin: only a salted SHA-256, with what the offer tells the wallet.
type TxCode struct {
	Salt      []byte `json:"salt"`
	Hash      []byte `json:"hash"`
	InputMode string `json:"inputMode"`
	Length    int    `json:"length"`
	// Attempts counts wrong tx_code submissions; the wallet side caps it and then denies issuance.
	Attempts int `json:"attempts"`
}

// Internal is the part of an exchange record that is stored but never rendered.
type Internal struct {
	// Version increments on every write; conditional writes compare it (optimistic locking).
	Version int64 `json:"version"`
	// ExpiresAt is the retention deadline (unix seconds), the item's DynamoDB TTL.
	ExpiresAt int64 `json:"expiresAt"`
	// CreatedNanos orders records created within the same second in the history list.
	CreatedNanos int64 `json:"createdNanos"`
	// Definition is the snapshot of the definition the exchange issues (kept when the definition changes or goes).
	Definition definition.Definition `json:"definition"`
	// ConfigurationID is the credential_configuration_id offered.
	ConfigurationID string `json:"configurationId"`
	// Dynamic reports that the definition was derived from credential.type (no stored definition).
	Dynamic bool `json:"dynamic"`
	// CredentialType is the type array rendered in `credential.type`.
	CredentialType []string `json:"credentialType"`
	// Credentials are the payloads of credentials[] (and credential), in order.
	Credentials []CredentialPayload `json:"credentials"`
	// TxCode is the hashed userPin, nil without one.
	TxCode *TxCode `json:"txCode,omitempty"`
	// OfferIDHash is HashSecret of the offer id; the offer id itself lives only in credentialOffer.
	OfferIDHash string `json:"offerIdHash"`
	// CodeHash is HashSecret of the pre-authorized code while it can be redeemed; the redemption clears it.
	CodeHash string `json:"codeHash,omitempty"`
	// OfferExpiresAt is when the offer and its code stop being served (unix seconds).
	OfferExpiresAt int64 `json:"offerExpiresAt,omitempty"`
	// AccessTokenHash is HashSecret of the exchange's access token ("" before the code is redeemed); the
	// token names the exchange, and the wallet steps compare its hash here (SecretMatches).
	AccessTokenHash string `json:"accessTokenHash,omitempty"`
	// AccessTokenExpiresAt is when the access token stops being accepted (unix seconds).
	AccessTokenExpiresAt int64 `json:"accessTokenExpiresAt,omitempty"`
	// NotificationIDHash is HashSecret of the notification_id of the last credential answer.
	NotificationIDHash string `json:"notificationIdHash,omitempty"`
	// Pointers are the keys (pk) of every pointer item of this exchange, deleted with it.
	Pointers []string `json:"pointers"`
	// IssuedCount counts credentials issued to the wallet (batch and credentials[]).
	IssuedCount int `json:"issuedCount"`
	// FailedNonces counts credential requests refused for their c_nonce after signing (the credential write is
	// the nonce's only check); from nonceCheckAfter on, nonces are read before signing, which bounds the KMS
	// signatures a holder of the access token can waste.
	FailedNonces int `json:"failedNonces,omitempty"`
	// NotificationDescription is the last credential_failure description from the wallet.
	NotificationDescription string `json:"notificationDescription,omitempty"`
	// StatusEntries are the status list entries of the issued credentials (one per credential), which
	// revocation changes together (StatusLists.SetRevocationStatus).
	StatusEntries []StatusEntry `json:"statusEntries,omitempty"`
}

// Record is a credential exchange: the seed's credential history record (every field rendered, empty
// as "", false, 0, null or {}), plus `credentials` and `offerDelivery` (documented additions), plus the internal
// state that is stored but never rendered.
type Record struct {
	CredentialExchangeID          string              `json:"credentialExchangeId"`
	IssuanceMode                  IssuanceMode        `json:"issuanceMode"`
	IsPreAuthorised               bool                `json:"isPreAuthorised"`
	CredentialOffer               string              `json:"credentialOffer"`
	CredentialStatus              CredentialStatus    `json:"credentialStatus"`
	Status                        Status              `json:"status"`
	ClientID                      string              `json:"clientId"`
	UserPin                       string              `json:"userPin"`
	CreatedAt                     int64               `json:"createdAt"`
	UpdatedAt                     int64               `json:"updatedAt"`
	Credential                    *RenderedCredential `json:"credential"`
	DisclosureMapping             map[string]any      `json:"disclosureMapping"`
	CredentialDefinitionID        string              `json:"credentialDefinitionId"`
	PresentationDefinitionID      string              `json:"presentationDefinitionId"`
	PresentationExchangeID        string              `json:"presentationExchangeId"`
	Holder                        map[string]any      `json:"holder"`
	CredentialFormat              string              `json:"credentialFormat"`
	SupportRevocation             bool                `json:"supportRevocation"`
	RevocationStatus              RevocationStatus    `json:"revocationStatus"`
	ClientAssertion               string              `json:"clientAssertion"`
	ClientAssertionType           string              `json:"clientAssertionType"`
	ClientAssertionVerified       bool                `json:"clientAssertionVerified"`
	WalletUnitAttestation         string              `json:"walletUnitAttestation"`
	WalletUnitAttestationPoP      string              `json:"walletUnitAttestationPoP"`
	WalletUnitAttestationVerified bool                `json:"walletUnitAttestationVerified"`
	CredentialToken               string              `json:"credentialToken"`
	Cnf                           map[string]any      `json:"cnf"`
	JTI                           string              `json:"jti"`
	Proof                         string              `json:"proof"`
	ProofType                     string              `json:"proofType"`
	DecodedWalletUnitAttestation  map[string]any      `json:"decodedWalletUnitAttestation"`
	IDToken                       string              `json:"idToken"`
	IDTokenDecoded                map[string]any      `json:"idTokenDecoded"`
	IDTokenVerified               bool                `json:"idTokenVerified"`
	IssuanceDeniedReason          string              `json:"issuanceDeniedReason"`
	ExpiredCredentialTokens       []string            `json:"expiredCredentialTokens"`
	ExpiredCredentials            []map[string]any    `json:"expiredCredentials"`
	CredentialResponseEncryption  map[string]any      `json:"credentialResponseEncryption"`
	IndividualID                  string              `json:"individualId"`
	MapperID                      string              `json:"mapperId"`

	// Credentials renders every payload of the exchange (addition to the seed, for credentials[]).
	Credentials []RenderedCredential `json:"credentials"`
	// OfferDelivery is the outcome of delivering the offer to a wallet endpoint (addition to the seed).
	OfferDelivery *OfferDelivery `json:"offerDelivery"`
	// CredentialFailureDescription is the wallet's last credential_failure notification description (addition
	// to the seed; "" when the wallet reported none). Rendered from the stored internal state.
	CredentialFailureDescription string `json:"credentialFailureDescription"`

	// Internal is stored, never rendered.
	Internal Internal `json:"-"`
}

// SeedFields are the JSON names of the seed's history record, each present in every rendered record.
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

// recordJSON breaks the MarshalJSON recursion.
type recordJSON Record

// MarshalJSON renders the record with every seed field present: nil objects become {}, nil lists [].
func (r Record) MarshalJSON() ([]byte, error) {
	r.fillEmpty()
	return json.Marshal(recordJSON(r))
}

func (r *Record) fillEmpty() {
	r.CredentialFailureDescription = r.Internal.NotificationDescription
	obj := func(m *map[string]any) {
		if *m == nil {
			*m = map[string]any{}
		}
	}
	obj(&r.DisclosureMapping)
	obj(&r.Holder)
	obj(&r.Cnf)
	obj(&r.DecodedWalletUnitAttestation)
	obj(&r.IDTokenDecoded)
	obj(&r.CredentialResponseEncryption)
	if r.ExpiredCredentialTokens == nil {
		r.ExpiredCredentialTokens = []string{}
	}
	if r.ExpiredCredentials == nil {
		r.ExpiredCredentials = []map[string]any{}
	}
	if r.Credentials == nil {
		r.Credentials = []RenderedCredential{}
	}
}

// renderCredentials sets the rendered credential fields from the internal payloads.
func (r *Record) renderCredentials() {
	r.Credential = nil
	r.Credentials = make([]RenderedCredential, 0, len(r.Internal.Credentials))
	for _, p := range r.Internal.Credentials {
		r.Credentials = append(r.Credentials, RenderedCredential{
			Type:               append([]string(nil), r.Internal.CredentialType...),
			CredentialSubject:  p.CredentialSubject,
			CredentialMetadata: p.CredentialMetadata,
		})
	}
	if len(r.Credentials) > 0 {
		c := r.Credentials[0]
		r.Credential = &c
	}
}

// SetCredentials replaces the exchange's payloads (issue now, or deferred completion later) and re-renders the
// credential fields, the disclosure mapping and the credential status.
func (r *Record) SetCredentials(payloads []CredentialPayload) {
	r.Internal.Credentials = payloads
	r.renderCredentials()
	var subject map[string]any
	if len(payloads) > 0 {
		subject = payloads[0].CredentialSubject
	}
	r.DisclosureMapping = definition.DisclosureMapping(r.Internal.Definition.Claims, subject)
	if len(payloads) > 0 {
		r.CredentialStatus = CredentialReady
	} else {
		r.CredentialStatus = CredentialPending
	}
}

// Clone returns a deep enough copy for a writer to change without touching r (maps are shared read-only).
func (r *Record) Clone() Record {
	c := *r
	c.Internal.Pointers = append([]string(nil), r.Internal.Pointers...)
	c.Internal.Credentials = append([]CredentialPayload(nil), r.Internal.Credentials...)
	c.Internal.StatusEntries = append([]StatusEntry(nil), r.Internal.StatusEntries...)
	c.ExpiredCredentialTokens = append([]string(nil), r.ExpiredCredentialTokens...)
	if r.Internal.TxCode != nil {
		t := *r.Internal.TxCode
		c.Internal.TxCode = &t
	}
	if r.OfferDelivery != nil {
		d := *r.OfferDelivery
		c.OfferDelivery = &d
	}
	return c
}

// Transition moves the record to status `to` if the status machine allows it, at time now (unix seconds),
// bumping the version. It returns a *TransitionError (errors.Is ErrTransitionRefused) otherwise; the store
// enforces the same rule with its conditional write.
func (r *Record) Transition(to Status, now int64) error {
	if !CanTransition(r.Status, to) {
		return &TransitionError{From: r.Status, To: to}
	}
	r.Status = to
	r.UpdatedAt = now
	return nil
}

// EventDetail is the record as published in events: without claims, tokens, PINs, proofs or assertions, and
// without the offer deep link (its offer id yields the pre-authorized code: whoever holds it can redeem the offer).
func (r *Record) EventDetail() Record {
	d := r.Clone()
	d.UserPin = ""
	d.CredentialOffer = ""
	d.Credential = nil
	d.Credentials = nil
	d.CredentialToken = ""
	d.ExpiredCredentialTokens = nil
	d.ExpiredCredentials = nil
	d.Proof = ""
	d.IDToken = ""
	d.IDTokenDecoded = nil
	d.ClientAssertion = ""
	d.WalletUnitAttestation = ""
	d.WalletUnitAttestationPoP = ""
	d.DecodedWalletUnitAttestation = nil
	d.Internal = Internal{}
	return d
}

// StoredRecord is the full stored form of a record: the rendered fields plus the internal state. The store
// persists exactly this (as JSON), so nothing is lost and nothing secret is added.
type StoredRecord struct {
	Record   json.RawMessage `json:"record"`
	Internal Internal        `json:"internal"`
}

// MarshalStored encodes the record for the store. A clear userPin is refused: only its salted hash is stored.
func (r *Record) MarshalStored() ([]byte, error) {
	if r.UserPin != "" {
		return nil, fmt.Errorf("encode exchange record: refusing to store a clear userPin")
	}
	rec, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode exchange record: %w", err)
	}
	b, err := json.Marshal(StoredRecord{Record: rec, Internal: r.Internal})
	if err != nil {
		return nil, fmt.Errorf("encode exchange record: %w", err)
	}
	return b, nil
}

// UnmarshalStored decodes what MarshalStored produced (numbers in claims keep their exact text).
func UnmarshalStored(b []byte) (Record, error) {
	var s StoredRecord
	if err := decodeNumbers(b, &s); err != nil {
		return Record{}, fmt.Errorf("decode exchange record: %w", err)
	}
	var r Record
	if err := decodeNumbers(s.Record, (*recordJSON)(&r)); err != nil {
		return Record{}, fmt.Errorf("decode exchange record: %w", err)
	}
	r.Internal = s.Internal
	return r, nil
}

// decodeNumbers decodes JSON keeping numbers as json.Number, so claim values round-trip exactly.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// StatusEntry is a credential's entry in a status list, as recorded in its exchange record.
type StatusEntry struct {
	// List is the status list id (statuslist.ListID.String()).
	List string `json:"list"`
	// Index is the credential's idx in that list.
	Index int `json:"idx"`
}

// CredentialTokenSeparator joins the credentials of one exchange in the record's credentialToken (SD-JWTs
// never contain a comma).
const CredentialTokenSeparator = ","
