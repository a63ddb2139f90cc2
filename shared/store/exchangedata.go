package store

import (
	"encoding/json"
	"fmt"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
)

// exchangeData is the store's own shape of an exchange record: the JSON of the item's `data` attribute. It has
// not changed since the first release (testdata/exchange-record-v1.json is an item of that release): the fields
// of the history record under "record" (seed names) and everything else under "internal". So every stored item
// stays readable, and the previous version, while a deploy runs both, reads what this one writes: the history
// fields it rendered from "record" are all written (fields no use case sets are left out: the previous version
// renders a missing one exactly as an empty one), `credential` and `credentials` included.
type exchangeData struct {
	Record   recordData   `json:"record"`
	Internal internalData `json:"internal"`
}

// recordData is the history part of exchangeData.
type recordData struct {
	CredentialExchangeID   string         `json:"credentialExchangeId"`
	IssuanceMode           string         `json:"issuanceMode"`
	IsPreAuthorised        bool           `json:"isPreAuthorised"`
	CredentialOffer        string         `json:"credentialOffer"`
	CredentialStatus       string         `json:"credentialStatus"`
	Status                 string         `json:"status"`
	ClientID               string         `json:"clientId"`
	CreatedAt              int64          `json:"createdAt"`
	UpdatedAt              int64          `json:"updatedAt"`
	Credential             *credentialRef `json:"credential"`
	DisclosureMapping      map[string]any `json:"disclosureMapping"`
	CredentialDefinitionID string         `json:"credentialDefinitionId"`
	CredentialFormat       string         `json:"credentialFormat"`
	SupportRevocation      bool           `json:"supportRevocation"`
	RevocationStatus       string         `json:"revocationStatus"`
	CredentialToken        string         `json:"credentialToken"`
	Cnf                    map[string]any `json:"cnf"`
	JTI                    string         `json:"jti"`
	Proof                  string         `json:"proof"`
	ProofType              string         `json:"proofType"`
	IssuanceDeniedReason   string         `json:"issuanceDeniedReason"`
	IndividualID           string         `json:"individualId"`
	// ResponseEncryption is exchange.Record.CredentialResponseEncryption ({} when the wallet asked for none, as
	// the previous version wrote it).
	ResponseEncryption map[string]any `json:"credentialResponseEncryption"`
	// The wallet trust fields, written only when set (the previous release rendered a missing one as empty).
	ClientAssertion               string         `json:"clientAssertion,omitempty"`
	ClientAssertionType           string         `json:"clientAssertionType,omitempty"`
	ClientAssertionVerified       bool           `json:"clientAssertionVerified,omitempty"`
	WalletUnitAttestation         string         `json:"walletUnitAttestation,omitempty"`
	WalletUnitAttestationPoP      string         `json:"walletUnitAttestationPoP,omitempty"`
	WalletUnitAttestationVerified bool           `json:"walletUnitAttestationVerified,omitempty"`
	DecodedWalletUnitAttestation  map[string]any `json:"decodedWalletUnitAttestation,omitempty"`
	// Credential and Credentials repeat the payloads with the credential type, for the previous version, which
	// rendered them from here; this version derives them from Internal.Credentials and ignores them on read.
	Credentials   []credentialRef `json:"credentials"`
	OfferDelivery *deliveryData   `json:"offerDelivery"`
	// CredentialFailureDescription repeats Internal.NotificationDescription as the previous version wrote it;
	// ignored on read.
	CredentialFailureDescription string `json:"credentialFailureDescription"`
	// The authorization code flow's fields, left out while empty (the previous version renders them empty).
	Holder          map[string]any `json:"holder,omitempty"`
	IDToken         string         `json:"idToken,omitempty"`
	IDTokenDecoded  map[string]any `json:"idTokenDecoded,omitempty"`
	IDTokenVerified bool           `json:"idTokenVerified,omitempty"`
	// The dynamic credential request's fields, left out while empty (the previous version renders them empty).
	PresentationDefinitionID string            `json:"presentationDefinitionId,omitempty"`
	PresentationExchangeID   string            `json:"presentationExchangeId,omitempty"`
	PresentationFailure      *presentationFail `json:"presentationFailure,omitempty"`
}

// presentationFail is exchange.PresentationFailure.
type presentationFail struct {
	Reason string `json:"reason"`
	At     int64  `json:"at"`
	Count  int    `json:"count,omitempty"`
}

// presentationData is exchange.PresentationRequest: the copy of the presentation definition and the transaction
// data.
type presentationData struct {
	Definition      presentationdef.Definition `json:"definition"`
	Version         int64                      `json:"version,omitempty"`
	TransactionData json.RawMessage            `json:"transactionData,omitempty"`
}

// credentialRef is one entry of recordData.Credentials.
type credentialRef struct {
	Type               []string       `json:"type"`
	CredentialSubject  map[string]any `json:"credentialSubject"`
	CredentialMetadata map[string]any `json:"credentialMetadata"`
}

// deliveryData is exchange.OfferDelivery.
type deliveryData struct {
	Endpoint    string `json:"endpoint"`
	Outcome     string `json:"outcome"`
	HTTPStatus  int    `json:"httpStatus"`
	Error       string `json:"error"`
	AttemptedAt int64  `json:"attemptedAt"`
}

// internalData is the part of exchangeData that is never rendered.
type internalData struct {
	Version                 int64                  `json:"version"`
	ExpiresAt               int64                  `json:"expiresAt"`
	CreatedNanos            int64                  `json:"createdNanos"`
	Definition              definition.Definition  `json:"definition"`
	ConfigurationID         string                 `json:"configurationId"`
	Dynamic                 bool                   `json:"dynamic"`
	CredentialType          []string               `json:"credentialType"`
	Credentials             []payloadData          `json:"credentials"`
	TxCode                  *txCodeData            `json:"txCode,omitempty"`
	OfferIDHash             string                 `json:"offerIdHash"`
	CodeHash                string                 `json:"codeHash,omitempty"`
	OfferExpiresAt          int64                  `json:"offerExpiresAt,omitempty"`
	AccessTokenHash         string                 `json:"accessTokenHash,omitempty"`
	AccessTokenExpiresAt    int64                  `json:"accessTokenExpiresAt,omitempty"`
	AccessTokenJKT          string                 `json:"accessTokenJkt,omitempty"`
	NotificationIDHash      string                 `json:"notificationIdHash,omitempty"`
	Pointers                []string               `json:"pointers"`
	HolderKeys              []string               `json:"holderKeys,omitempty"`
	IssuedCount             int                    `json:"issuedCount"`
	FailedNonces            int                    `json:"failedNonces,omitempty"`
	NotificationDescription string                 `json:"notificationDescription,omitempty"`
	StatusEntries           []statusEntryData      `json:"statusEntries,omitempty"`
	IssuerStateHash         string                 `json:"issuerStateHash,omitempty"`
	AuthorizationCode       *authorizationCodeData `json:"authorizationCode,omitempty"`
	Presentation            *presentationData      `json:"presentation,omitempty"`
}

// authorizationCodeData is exchange.AuthorizationCode: hashes of the code, never the code.
type authorizationCodeData struct {
	CodeHash      string   `json:"codeHash,omitempty"`
	UsedCodeHash  string   `json:"usedCodeHash,omitempty"`
	ExpiresAt     int64    `json:"expiresAt"`
	CodeChallenge string   `json:"codeChallenge"`
	RedirectURI   string   `json:"redirectUri"`
	ClientID      string   `json:"clientId"`
	DPoPJKT       string   `json:"dpopJkt,omitempty"`
	Details       []string `json:"details,omitempty"`
}

// payloadData is exchange.CredentialPayload.
type payloadData struct {
	CredentialSubject  map[string]any `json:"credentialSubject"`
	CredentialMetadata map[string]any `json:"credentialMetadata"`
}

// txCodeData is exchange.TxCode: the salted hash of the userPin, never the PIN.
type txCodeData struct {
	Salt      []byte `json:"salt"`
	Hash      []byte `json:"hash"`
	InputMode string `json:"inputMode"`
	Length    int    `json:"length"`
	Attempts  int    `json:"attempts"`
}

// statusEntryData is exchange.StatusEntry.
type statusEntryData struct {
	List  string `json:"list"`
	Index int    `json:"idx"`
}

// MarshalExchange is the JSON of rec in the store's shape (the item's `data` attribute). The in-memory store of
// the tests keeps records in it too, so that both hand out the same values (claim numbers as json.Number).
func MarshalExchange(rec *exchange.Record) ([]byte, error) {
	b, err := json.Marshal(exchangeDataOf(rec))
	if err != nil {
		return nil, fmt.Errorf("encode exchange record: %w", err)
	}
	return b, nil
}

// UnmarshalExchange reads what MarshalExchange wrote, and every item of earlier releases (numbers in claims keep
// their exact text).
func UnmarshalExchange(data []byte) (exchange.Record, error) {
	var d exchangeData
	if err := decodeJSON(string(data), &d); err != nil {
		return exchange.Record{}, fmt.Errorf("decode exchange record: %w", err)
	}
	return d.record(), nil
}

func exchangeDataOf(rec *exchange.Record) exchangeData {
	refs := make([]credentialRef, len(rec.Credentials))
	payloads := make([]payloadData, len(rec.Credentials))
	for i, p := range rec.Credentials {
		refs[i] = credentialRef{Type: rec.CredentialType, CredentialSubject: p.CredentialSubject,
			CredentialMetadata: p.CredentialMetadata}
		payloads[i] = payloadData(p)
	}
	if rec.Credentials == nil {
		payloads = nil
	}
	r := recordData{CredentialExchangeID: rec.CredentialExchangeID, IssuanceMode: string(rec.IssuanceMode),
		IsPreAuthorised: rec.IsPreAuthorised, CredentialOffer: rec.CredentialOffer,
		CredentialStatus: string(rec.CredentialStatus), Status: string(rec.Status), ClientID: rec.ClientID,
		CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, DisclosureMapping: orEmpty(rec.DisclosureMapping),
		CredentialDefinitionID: rec.CredentialDefinitionID, CredentialFormat: rec.CredentialFormat,
		SupportRevocation: rec.SupportRevocation, RevocationStatus: string(rec.RevocationStatus),
		CredentialToken: rec.CredentialToken, Cnf: orEmpty(rec.Cnf), JTI: rec.JTI, Proof: rec.Proof,
		ProofType: rec.ProofType, IssuanceDeniedReason: rec.IssuanceDeniedReason, IndividualID: rec.IndividualID,
		ResponseEncryption: orEmpty(rec.CredentialResponseEncryption), Credentials: refs, CredentialFailureDescription: rec.NotificationDescription,
		Holder: orNil(rec.Holder), IDToken: rec.IDToken, IDTokenDecoded: orNil(rec.IDTokenDecoded), IDTokenVerified: rec.IDTokenVerified,

		ClientAssertion: rec.ClientAssertion, ClientAssertionType: rec.ClientAssertionType,
		ClientAssertionVerified: rec.ClientAssertionVerified, WalletUnitAttestation: rec.WalletUnitAttestation,
		WalletUnitAttestationPoP: rec.WalletUnitAttestationPoP, WalletUnitAttestationVerified: rec.WalletUnitAttestationVerified,
		DecodedWalletUnitAttestation: rec.DecodedWalletUnitAttestation,
		PresentationDefinitionID:     rec.PresentationDefinitionID, PresentationExchangeID: rec.PresentationExchangeID}
	if f := rec.PresentationFailure; f != nil {
		r.PresentationFailure = &presentationFail{Reason: f.Reason, At: f.At, Count: f.Count}
	}
	if len(refs) > 0 {
		r.Credential = &refs[0]
	}
	if d := rec.OfferDelivery; d != nil {
		r.OfferDelivery = &deliveryData{Endpoint: d.Endpoint, Outcome: d.Outcome, HTTPStatus: d.HTTPStatus,
			Error: d.Error, AttemptedAt: d.AttemptedAt}
	}
	in := internalData{Version: rec.Version, ExpiresAt: rec.ExpiresAt, CreatedNanos: rec.CreatedNanos,
		Definition: rec.Definition, ConfigurationID: rec.ConfigurationID, Dynamic: rec.Dynamic,
		CredentialType: rec.CredentialType, Credentials: payloads, OfferIDHash: rec.OfferIDHash,
		CodeHash: rec.CodeHash, OfferExpiresAt: rec.OfferExpiresAt, AccessTokenHash: rec.AccessTokenHash,
		AccessTokenExpiresAt: rec.AccessTokenExpiresAt, AccessTokenJKT: rec.AccessTokenJKT, NotificationIDHash: rec.NotificationIDHash,
		Pointers: rec.Pointers, HolderKeys: rec.HolderKeys, IssuedCount: rec.IssuedCount, FailedNonces: rec.FailedNonces,
		NotificationDescription: rec.NotificationDescription, IssuerStateHash: rec.IssuerStateHash}
	if a := rec.AuthorizationCode; a != nil {
		in.AuthorizationCode = &authorizationCodeData{CodeHash: a.CodeHash, UsedCodeHash: a.UsedCodeHash,
			ExpiresAt: a.ExpiresAt, CodeChallenge: a.CodeChallenge, RedirectURI: a.RedirectURI, ClientID: a.ClientID,
			DPoPJKT: a.DPoPJKT, Details: a.Details}
	}
	if p := rec.Presentation; p != nil {
		// The definition's version is not part of its JSON; the copy keeps it beside.
		in.Presentation = &presentationData{Definition: p.Definition, Version: p.Definition.Version,
			TransactionData: p.TransactionData}
	}
	if t := rec.TxCode; t != nil {
		in.TxCode = &txCodeData{Salt: t.Salt, Hash: t.Hash, InputMode: t.InputMode, Length: t.Length,
			Attempts: t.Attempts}
	}
	for _, e := range rec.StatusEntries {
		in.StatusEntries = append(in.StatusEntries, statusEntryData(e))
	}
	return exchangeData{Record: r, Internal: in}
}

// record is the domain record d holds.
func (d *exchangeData) record() exchange.Record {
	r, in := d.Record, d.Internal
	rec := exchange.Record{CredentialExchangeID: r.CredentialExchangeID,
		IssuanceMode: exchange.IssuanceMode(r.IssuanceMode), IsPreAuthorised: r.IsPreAuthorised,
		CredentialOffer: r.CredentialOffer, CredentialStatus: exchange.CredentialStatus(r.CredentialStatus),
		Status: exchange.Status(r.Status), ClientID: r.ClientID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		DisclosureMapping: orNil(r.DisclosureMapping), CredentialDefinitionID: r.CredentialDefinitionID,
		CredentialFormat: r.CredentialFormat, SupportRevocation: r.SupportRevocation,
		RevocationStatus: exchange.RevocationStatus(r.RevocationStatus), CredentialToken: r.CredentialToken,
		Cnf: orNil(r.Cnf), JTI: r.JTI, Proof: r.Proof, ProofType: r.ProofType, IssuanceDeniedReason: r.IssuanceDeniedReason,
		IndividualID: r.IndividualID, CredentialResponseEncryption: orNil(r.ResponseEncryption),
		ClientAssertion: r.ClientAssertion, ClientAssertionType: r.ClientAssertionType,
		ClientAssertionVerified: r.ClientAssertionVerified, WalletUnitAttestation: r.WalletUnitAttestation,
		WalletUnitAttestationPoP: r.WalletUnitAttestationPoP, WalletUnitAttestationVerified: r.WalletUnitAttestationVerified,
		DecodedWalletUnitAttestation: orNil(r.DecodedWalletUnitAttestation),
		Version:                      in.Version, ExpiresAt: in.ExpiresAt, CreatedNanos: in.CreatedNanos, Definition: in.Definition,
		ConfigurationID: in.ConfigurationID, Dynamic: in.Dynamic, CredentialType: in.CredentialType,
		OfferIDHash: in.OfferIDHash, CodeHash: in.CodeHash, OfferExpiresAt: in.OfferExpiresAt,
		AccessTokenHash: in.AccessTokenHash, AccessTokenExpiresAt: in.AccessTokenExpiresAt, AccessTokenJKT: in.AccessTokenJKT,
		NotificationIDHash: in.NotificationIDHash, Pointers: in.Pointers, HolderKeys: in.HolderKeys, IssuedCount: in.IssuedCount,
		FailedNonces: in.FailedNonces, NotificationDescription: in.NotificationDescription,
		IssuerStateHash: in.IssuerStateHash, Holder: orNil(r.Holder), IDToken: r.IDToken,
		IDTokenDecoded: orNil(r.IDTokenDecoded), IDTokenVerified: r.IDTokenVerified,
		PresentationDefinitionID: r.PresentationDefinitionID, PresentationExchangeID: r.PresentationExchangeID}
	if f := r.PresentationFailure; f != nil {
		rec.PresentationFailure = &exchange.PresentationFailure{Reason: f.Reason, At: f.At, Count: f.Count}
	}
	if p := in.Presentation; p != nil {
		rec.Presentation = &exchange.PresentationRequest{Definition: p.Definition, TransactionData: p.TransactionData}
		rec.Presentation.Definition.Version = p.Version
	}
	if a := in.AuthorizationCode; a != nil {
		rec.AuthorizationCode = &exchange.AuthorizationCode{CodeHash: a.CodeHash, UsedCodeHash: a.UsedCodeHash,
			ExpiresAt: a.ExpiresAt, CodeChallenge: a.CodeChallenge, RedirectURI: a.RedirectURI, ClientID: a.ClientID,
			DPoPJKT: a.DPoPJKT, Details: a.Details}
	}
	if in.Credentials != nil {
		rec.Credentials = make([]exchange.CredentialPayload, len(in.Credentials))
		for i, p := range in.Credentials {
			rec.Credentials[i] = exchange.CredentialPayload(p)
		}
	}
	if d := r.OfferDelivery; d != nil {
		rec.OfferDelivery = &exchange.OfferDelivery{Endpoint: d.Endpoint, Outcome: d.Outcome,
			HTTPStatus: d.HTTPStatus, Error: d.Error, AttemptedAt: d.AttemptedAt}
	}
	if t := in.TxCode; t != nil {
		rec.TxCode = &exchange.TxCode{Salt: t.Salt, Hash: t.Hash, InputMode: t.InputMode, Length: t.Length,
			Attempts: t.Attempts}
	}
	for _, e := range in.StatusEntries {
		rec.StatusEntries = append(rec.StatusEntries, exchange.StatusEntry(e))
	}
	return rec
}

// orEmpty is m, or an empty map for nil (the stored shape has {} where the record has none).
func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// orNil is m, or nil when it is empty (an empty object stored means none).
func orNil(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}
