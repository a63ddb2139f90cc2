package exchange

import (
	"github.com/sdjwt-issuer/issuer/shared/definition"
)

// CredentialPayload is the data of one credential to issue: the claims and the organisation's metadata (stored
// and echoed back, never put into the credential). Its JSON is the issue request's shape, which the size limit
// of an exchange's claims counts.
type CredentialPayload struct {
	CredentialSubject  map[string]any `json:"credentialSubject"`
	CredentialMetadata map[string]any `json:"credentialMetadata"`
}

// Delivery outcomes of OfferDelivery.
const (
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// OfferDelivery records the delivery of the offer to a wallet's credential offer endpoint.
type OfferDelivery struct {
	// Endpoint is the wallet endpoint the offer was sent to.
	Endpoint string
	// Outcome is "delivered" (2xx) or "failed".
	Outcome string
	// HTTPStatus is the wallet's status code, 0 when no response came.
	HTTPStatus int
	// Error says why a delivery failed (timeout, connection refused, HTTP status), never with offer data.
	Error string
	// AttemptedAt is when the delivery was attempted (unix seconds).
	AttemptedAt int64
}

// TxCode is what is kept of the userPin: only a salted SHA-256, with what the offer tells the wallet.
type TxCode struct {
	Salt      []byte
	Hash      []byte
	InputMode string
	Length    int
	// Attempts counts wrong tx_code submissions; the wallet side caps it and then denies issuance.
	Attempts int
}

// Record is a credential exchange: what the organisation offered, what the wallet did with it, and the state the
// use cases keep beside it (the hashes of its secrets, the definition snapshot, counters). It is the domain's
// own type: the history record of the admin API and of events (shared/historyrecord) and the stored item
// (shared/store) are mapped from and to it at the edge.
type Record struct {
	// CredentialExchangeID is the exchange's id (a UUID), safe to log.
	CredentialExchangeID string
	// IssuanceMode is InTime (claims given with the offer) or Deferred (claims may come later).
	IssuanceMode IssuanceMode
	// IsPreAuthorised says which grant the wallet took: true for the pre-authorized code (and until a grant is
	// taken, since every offer carries one), false once it took the authorization code grant.
	IsPreAuthorised bool
	// CredentialOffer is the offer deep link (it contains the offer id: as sensitive as the offer).
	CredentialOffer string
	// CredentialStatus says whether the claims are there (ready) or not yet (pending).
	CredentialStatus CredentialStatus
	// Status is where the exchange stands in the status machine.
	Status Status
	// ClientID is the wallet's client_id: of its pushed authorization request, else of its token request, if any.
	ClientID string
	// CreatedAt and UpdatedAt are unix seconds.
	CreatedAt, UpdatedAt int64
	// DisclosureMapping is the view of the disclosure policy the credential is issued with (claim names, never
	// values); see definition.DisclosureMapping.
	DisclosureMapping map[string]any
	// CredentialDefinitionID is the definition issued from ("" for a definition derived from credential.type).
	CredentialDefinitionID string
	// CredentialFormat is the definition's format.
	CredentialFormat string
	// SupportRevocation: the credentials carry a status list entry.
	SupportRevocation bool
	// RevocationStatus is the status of every credential of the exchange ("" when not revocable).
	RevocationStatus RevocationStatus
	// CredentialToken is the issued SD-JWTs, joined by CredentialTokenSeparator.
	CredentialToken string
	// Cnf is the holder binding of the first credential ({"jwk": ...}).
	Cnf map[string]any
	// JTI is the jti of the first key proof.
	JTI string
	// Proof is the validated key proofs, joined by CredentialTokenSeparator; ProofType is "jwt".
	Proof, ProofType string
	// IssuanceDeniedReason says why the organisation (or the tx_code cap, or a failed client attestation) denied
	// the issuance.
	IssuanceDeniedReason string
	// CredentialResponseEncryption is what the wallet's last answered credential or deferred credential request
	// asked for: {alg, enc, zip?, jwk} with the wallet's public key only (nil: none asked).
	CredentialResponseEncryption map[string]any
	// ClientAssertion is the client authentication the wallet presented at the token endpoint as presented (an
	// OAuth client attestation and its PoP in the draft's concatenated form <attestation>~<PoP>),
	// ClientAssertionType its method (attest_jwt_client_auth), ClientAssertionVerified whether it verified.
	ClientAssertion, ClientAssertionType string
	ClientAssertionVerified              bool
	// WalletUnitAttestation and WalletUnitAttestationPoP are the client attestation (OpenID4VCI's wallet
	// attestation) and its proof of possession as presented, WalletUnitAttestationVerified whether they verified
	// against a trusted wallet provider, DecodedWalletUnitAttestation the attestation's header and payload,
	// decoded (nil when it is not a well-formed JWT).
	WalletUnitAttestation, WalletUnitAttestationPoP string
	WalletUnitAttestationVerified                   bool
	DecodedWalletUnitAttestation                    map[string]any
	// IndividualID is the individual whose registered endpoint the offer was delivered to.
	IndividualID string
	// OfferDelivery is the outcome of delivering the offer to a wallet endpoint (nil without an endpoint).
	OfferDelivery *OfferDelivery
	// Holder is who authenticated at the authorization endpoint ({id, jkt, authenticatedWith}; nil: nobody did).
	Holder map[string]any
	// IDToken is the holder's ID token as posted, IDTokenDecoded its header and claims, IDTokenVerified whether it
	// passed verification (only verified ID tokens are recorded; an exchange whose authentication failed keeps none).
	IDToken         string
	IDTokenDecoded  map[string]any
	IDTokenVerified bool
	// PresentationDefinitionID is the presentation definition of a dynamic credential request ("" for none).
	PresentationDefinitionID string
	// PresentationExchangeID names the verified OpenID4VP exchange of this issuance ("" before one was verified).
	PresentationExchangeID string
	// PresentationFailure is why the holder's last presentation was refused (nil: none was, or one was verified
	// since).
	PresentationFailure *PresentationFailure

	// The state below is kept with the record but never rendered in the history record.

	// Version increments on every write; conditional writes compare it (optimistic locking).
	Version int64
	// ExpiresAt is the retention deadline (unix seconds), the item's DynamoDB TTL.
	ExpiresAt int64
	// CreatedNanos orders records created within the same second in the history list.
	CreatedNanos int64
	// Definition is the snapshot of the definition the exchange issues (kept when the definition changes or goes).
	Definition definition.Definition
	// ConfigurationID is the credential_configuration_id offered.
	ConfigurationID string
	// Dynamic reports that the definition was derived from credential.type (no stored definition).
	Dynamic bool
	// CredentialType is the type array rendered in `credential.type`.
	CredentialType []string
	// Credentials are the payloads of credentials[] (and credential), in order.
	Credentials []CredentialPayload
	// TxCode is the hashed userPin, nil without one.
	TxCode *TxCode
	// OfferIDHash is HashSecret of the offer id; the offer id itself lives only in credentialOffer.
	OfferIDHash string
	// CodeHash is HashSecret of the pre-authorized code while it can be redeemed; the redemption clears it.
	CodeHash string
	// OfferExpiresAt is when the offer and its code stop being served (unix seconds).
	OfferExpiresAt int64
	// IssuerStateHash is HashSecret of the offer's issuer_state while its authorization code grant can be taken
	// ("" with a userPin, which offers only the pre-authorized code, and once either grant was taken).
	IssuerStateHash string
	// AuthorizationCode is the authorization code grant's state once the holder was authorized (nil before).
	AuthorizationCode *AuthorizationCode
	// Presentation is what a dynamic credential request asks the holder to present (nil for other exchanges).
	Presentation *PresentationRequest
	// AccessTokenHash is HashSecret of the exchange's access token ("" before the code is redeemed); the
	// token names the exchange, and the wallet steps compare its hash here (SecretMatches).
	AccessTokenHash string
	// AccessTokenExpiresAt is when the access token stops being accepted (unix seconds).
	AccessTokenExpiresAt int64
	// AccessTokenJKT is the RFC 7638 thumbprint of the DPoP key the access token is bound to (cnf.jkt); "" for a
	// bearer token.
	AccessTokenJKT string
	// NotificationIDHash is HashSecret of the notification_id of the last credential answer.
	NotificationIDHash string
	// Pointers are the keys (pk) of every pointer item of this exchange, deleted with it.
	Pointers []string
	// HolderKeys are the sorted RFC 7638 thumbprints of the keys the issued credentials are bound to (empty in
	// records of releases before key attestations: their keys are read from Proof).
	HolderKeys []string
	// IssuedCount counts credentials issued to the wallet (batch and credentials[]).
	IssuedCount int
	// FailedNonces counts credential requests refused for their c_nonce after signing (the credential write is
	// the nonce's only check); from nonceCheckAfter on, nonces are read before signing, which bounds the KMS
	// signatures a holder of the access token can waste.
	FailedNonces int
	// NotificationDescription is the last credential_failure description from the wallet.
	NotificationDescription string
	// StatusEntries are the status list entries of the issued credentials (one per credential), which
	// revocation changes together (StatusLists.SetRevocationStatus).
	StatusEntries []StatusEntry
}

// SetCredentials replaces the exchange's payloads (issue now, or deferred completion later) and sets the
// disclosure mapping and the credential status that follow from them.
func (r *Record) SetCredentials(payloads []CredentialPayload) {
	r.Credentials = payloads
	var subject map[string]any
	if len(payloads) > 0 {
		subject = payloads[0].CredentialSubject
	}
	r.DisclosureMapping = r.Definition.DisclosureMapping(subject)
	if len(payloads) > 0 {
		r.CredentialStatus = CredentialReady
	} else {
		r.CredentialStatus = CredentialPending
	}
}

// Clone returns a deep enough copy for a writer to change without touching r (maps are shared read-only).
func (r *Record) Clone() Record {
	c := *r
	c.Pointers = append([]string(nil), r.Pointers...)
	c.Credentials = append([]CredentialPayload(nil), r.Credentials...)
	c.StatusEntries = append([]StatusEntry(nil), r.StatusEntries...)
	c.HolderKeys = append([]string(nil), r.HolderKeys...)
	if r.TxCode != nil {
		t := *r.TxCode
		c.TxCode = &t
	}
	if r.OfferDelivery != nil {
		d := *r.OfferDelivery
		c.OfferDelivery = &d
	}
	if r.PresentationFailure != nil {
		f := *r.PresentationFailure
		c.PresentationFailure = &f
	}
	if r.Presentation != nil {
		p := *r.Presentation
		c.Presentation = &p
	}
	if r.AuthorizationCode != nil {
		a := *r.AuthorizationCode
		a.Details = append([]string(nil), r.AuthorizationCode.Details...)
		c.AuthorizationCode = &a
	}
	return c
}

// Transition moves the record to status `to` if the status machine allows it, at time now (unix seconds). It
// returns a *TransitionError (errors.Is ErrTransitionRefused) otherwise; the store enforces the same rule with
// its conditional write.
func (r *Record) Transition(to Status, now int64) error {
	if !CanTransition(r.Status, to) {
		return &TransitionError{From: r.Status, To: to}
	}
	r.Status = to
	r.UpdatedAt = now
	return nil
}

// EventDetail is the record as published in events: only what subscribers may see (ids, statuses, times, the
// definition id and format, the revocation status, the holder binding's public key, the denial reason, the
// delivery outcome, how the client authenticated and whether its attestation verified, the holder who
// authenticated at the authorization endpoint and whether its ID token verified, the presentation definition, the
// verified presentation's id and what was presented (holder.presentedCredentials: query id, issuer, vct, trust,
// status, key thumbprint) or why the last presentation was refused) and the version. Claims, the holder's presented claims
// (holder.presentedClaims: personal data, which the organisation reads from the record with the admin key),
// credentials, proofs, the offer deep link (its offer id yields the pre-authorized code: whoever holds it can
// redeem the offer) and every hash, counter and snapshot are left out; a field added to Record stays out of events
// until it is added here.
func (r *Record) EventDetail() Record {
	d := Record{CredentialExchangeID: r.CredentialExchangeID, IssuanceMode: r.IssuanceMode,
		IsPreAuthorised: r.IsPreAuthorised, CredentialStatus: r.CredentialStatus, Status: r.Status,
		ClientID: r.ClientID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DisclosureMapping: r.DisclosureMapping,
		CredentialDefinitionID: r.CredentialDefinitionID, CredentialFormat: r.CredentialFormat,
		SupportRevocation: r.SupportRevocation, RevocationStatus: r.RevocationStatus, Cnf: r.Cnf, JTI: r.JTI,
		ProofType: r.ProofType, IssuanceDeniedReason: r.IssuanceDeniedReason, IndividualID: r.IndividualID,
		Holder: eventHolder(r.Holder), IDTokenVerified: r.IDTokenVerified,
		ClientAssertionType: r.ClientAssertionType, ClientAssertionVerified: r.ClientAssertionVerified,
		WalletUnitAttestationVerified: r.WalletUnitAttestationVerified, PresentationDefinitionID: r.PresentationDefinitionID,
		PresentationExchangeID: r.PresentationExchangeID, Version: r.Version}
	if r.PresentationFailure != nil {
		f := *r.PresentationFailure
		d.PresentationFailure = &f
	}
	if r.OfferDelivery != nil {
		od := *r.OfferDelivery
		d.OfferDelivery = &od
	}
	return d
}

// eventHolder is holder without presentedClaims, in a map of its own.
func eventHolder(holder map[string]any) map[string]any {
	if holder == nil {
		return nil
	}
	out := make(map[string]any, len(holder))
	for k, v := range holder {
		if k != HolderPresentedClaims {
			out[k] = v
		}
	}
	return out
}

// HolderPresentedClaims is the member of Record.Holder with a verified presentation's claims.
const HolderPresentedClaims = "presentedClaims"

// StatusEntry is a credential's entry in a status list, as recorded in its exchange record.
type StatusEntry struct {
	// List is the status list id (statuslist.ListID.String()).
	List string
	// Index is the credential's idx in that list.
	Index int
}

// CredentialTokenSeparator joins the credentials of one exchange in the record's credentialToken (SD-JWTs
// never contain a comma).
const CredentialTokenSeparator = ","
