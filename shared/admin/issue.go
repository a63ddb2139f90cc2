package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"unicode"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/openid4vp"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Limits of an issue request.
const (
	MaxCredentialsPerExchange = 20
	MaxUserPinLength          = 12
	// MinUserPinLength: a shorter tx_code falls to the attempt cap too often (docs/security.md).
	MinUserPinLength        = 4
	DynamicExpirationInDays = 365
	maxEndpointLen          = 2048
	// MaxCredentialDataBytes bounds the JSON of every credentialSubject and credentialMetadata of one exchange
	// together: the record keeps them, and later every credential issued from them (a batch holds several
	// copies), in one DynamoDB item of at most 400 KB.
	MaxCredentialDataBytes = 16 << 10
)

// CredentialInput is a credential of the issue request: its type (a string or an array whose last element is
// the vct; only `credential` carries it) and its data.
type CredentialInput struct {
	Type               any            `json:"type,omitempty"`
	CredentialSubject  map[string]any `json:"credentialSubject"`
	CredentialMetadata map[string]any `json:"credentialMetadata"`
}

// IssueRequest is the body of POST /credential/issue in both of the seed's shapes.
type IssueRequest struct {
	IssuanceMode             string            `json:"issuanceMode"`
	UserPin                  string            `json:"userPin"`
	CredentialDefinitionID   string            `json:"credentialDefinitionId"`
	Credential               *CredentialInput  `json:"credential"`
	Credentials              []CredentialInput `json:"credentials"`
	CredentialOfferEndpoint  string            `json:"credentialOfferEndpoint"`
	URLScheme                string            `json:"urlScheme"`
	IndividualID             string            `json:"individualId"`
	PresentationDefinitionID string            `json:"presentationDefinitionId"`
	TransactionData          json.RawMessage   `json:"transactionData"`
}

// IssueCredential creates an exchange and its offer (by reference), stores it with its pointer items, delivers
// the offer when an endpoint is known and returns the record. The creation's event is credential.offer_sent (its
// detail without the delivery outcome, which the record and the answer hold). The userPin is kept only as its
// salted hash (the issue response echoes it from the request).
func (s *Service) IssueCredential(ctx context.Context, req IssueRequest) (exchange.Record, error) {
	plan, err := s.planIssue(ctx, req)
	if err != nil {
		return exchange.Record{}, err
	}
	id, err := exchange.NewID(s.rt.Random())
	if err != nil {
		return exchange.Record{}, wrap("issue credential", err)
	}
	offerID, err := exchange.NewExchangeSecret(s.rt.Random(), id)
	if err != nil {
		return exchange.Record{}, wrap("issue credential", err)
	}
	code := exchange.PreAuthorizedCode(offerID)
	now := s.rt.Now()
	offerExpiry := now.Add(s.cfg.OfferValidity).Unix()
	rec := exchange.Record{
		CredentialExchangeID:   id,
		IssuanceMode:           plan.mode,
		IsPreAuthorised:        true,
		CredentialOffer:        exchange.OfferDeepLink(plan.scheme, exchange.OfferURL(s.cfg.IssuerURL, offerID)),
		Status:                 exchange.StatusOfferSent,
		CreatedAt:              now.Unix(),
		UpdatedAt:              now.Unix(),
		CredentialDefinitionID: plan.definitionID,
		CredentialFormat:       plan.definition.CredentialFormat,
		SupportRevocation:      plan.definition.SupportRevocation,
		IndividualID:           req.IndividualID,
		Version:                1,
		ExpiresAt:              now.Add(s.cfg.Retention).Unix(),
		CreatedNanos:           now.UnixNano(),
		Definition:             plan.definition,
		ConfigurationID:        plan.configurationID,
		Dynamic:                plan.dynamic,
		CredentialType:         plan.types,
		OfferIDHash:            exchange.HashSecret(offerID),
		CodeHash:               exchange.HashSecret(code),
		OfferExpiresAt:         offerExpiry,
	}
	if rec.SupportRevocation {
		rec.RevocationStatus = exchange.RevocationOperational
	}
	rec.SetCredentials(plan.payloads)
	if plan.presentation != nil {
		// A dynamic credential request: only the authorization code grant, in which the holder presents first;
		// no pre-authorized code exists for it.
		rec.Presentation, rec.PresentationDefinitionID = plan.presentation, plan.presentation.Definition.ID
		rec.IsPreAuthorised, rec.CodeHash = false, ""
		rec.IssuerStateHash = exchange.HashSecret(exchange.IssuerState(offerID))
	}
	if req.UserPin != "" {
		tx, err := exchange.NewTxCode(s.rt.Random(), req.UserPin)
		if err != nil {
			return exchange.Record{}, wrap("issue credential", err)
		}
		rec.TxCode = tx
	} else {
		// Without a PIN the offer also carries the authorization code grant, its issuer_state derived from the
		// offer id like the code (never stored: only its hash, until either grant is taken).
		rec.IssuerStateHash = exchange.HashSecret(exchange.IssuerState(offerID))
	}
	// The offer id and the code name the exchange and are checked against the record's hashes; the CODE
	// pointer is only the code's single-use and validity guard, consumed by the token transaction.
	var pointers []exchange.Pointer
	if rec.CodeHash != "" {
		pointers = append(pointers, exchange.Pointer{Key: exchange.PointerKey(exchange.PointerCode, code), ExchangeID: id, ExpiresAt: offerExpiry})
	}
	for _, p := range pointers {
		rec.Pointers = append(rec.Pointers, p.Key)
	}
	if plan.dynamic {
		if err := s.store.PutDynamicConfiguration(ctx, plan.dynamicConfig(rec.ExpiresAt)); err != nil {
			return exchange.Record{}, wrap("issue credential", err)
		}
	}
	if err := s.store.CreateExchange(ctx, rec, pointers); err != nil {
		return exchange.Record{}, wrap("issue credential", err)
	}
	if plan.endpoint != "" {
		rec = s.recordDelivery(ctx, rec, plan.endpoint)
	}
	return rec, nil
}

// issuePlan is a validated issue request resolved against the store.
type issuePlan struct {
	mode            exchange.IssuanceMode
	definitionID    string
	definition      definition.Definition
	configurationID string
	dynamic         bool
	types           []string
	payloads        []exchange.CredentialPayload
	scheme          string
	endpoint        string
	// presentation is what the holder must present first (a dynamic credential request), nil for none.
	presentation *exchange.PresentationRequest
}

// dynamicConfig is the dynamic configuration the metadata lists for the plan, until expiresAt.
func (p *issuePlan) dynamicConfig(expiresAt int64) definition.DynamicConfiguration {
	// No claim names: the configuration is listed in the anonymous issuer metadata (docs/security.md).
	return definition.DynamicConfiguration{ConfigurationID: p.configurationID, VCT: p.definition.VCT, ExpiresAt: expiresAt}
}

// claimNames is the sorted top-level claim names of every payload.
func claimNames(payloads []exchange.CredentialPayload) []string {
	names := map[string]bool{}
	for _, p := range payloads {
		for k := range p.CredentialSubject {
			names[k] = true
		}
	}
	out := make([]string, 0, len(names))
	for k := range names {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Validate checks the request field by field without the store (each error a *validation.Error naming the
// field): everything but whether the definition and the individual exist.
func (r *IssueRequest) Validate() error {
	_, _, err := checkIssue(*r)
	return err
}

// planIssue validates the request and resolves the definition and the delivery endpoint.
func (s *Service) planIssue(ctx context.Context, req IssueRequest) (*issuePlan, error) {
	plan, typeVCT, err := checkIssue(req)
	if err != nil {
		return nil, err
	}
	if req.CredentialDefinitionID != "" {
		d, err := s.store.GetDefinition(ctx, req.CredentialDefinitionID)
		if errors.Is(err, exchange.ErrNotFound) {
			return nil, validation.Invalid("credentialDefinitionId", "no credential definition has this id; create one "+
				"with POST /credential-definition or issue with credential.type")
		}
		if err != nil {
			return nil, wrap("issue credential", err)
		}
		if typeVCT != "" && typeVCT != d.TypeName() {
			return nil, validation.Invalid("credential.type", "names a type different from the %s of credential "+
				"definition %s; omit it or make its last element the definition's %s", typeMember(d.CredentialFormat),
				d.ID, typeMember(d.CredentialFormat))
		}
		if err := s.checkFitsDefinition(d, subjectFields(req, len(plan.payloads)), plan.payloads); err != nil {
			return nil, err
		}
		plan.definition = d
		plan.definitionID = d.ID
		plan.configurationID = d.ConfigurationID()
		if plan.types == nil {
			plan.types = d.Types()
		}
	}
	if req.PresentationDefinitionID != "" {
		pd, err := s.store.GetPresentationDefinition(ctx, req.PresentationDefinitionID)
		if errors.Is(err, exchange.ErrNotFound) {
			return nil, validation.Invalid("presentationDefinitionId", "no presentation definition has this id; create "+
				"one with POST /presentation-definition")
		}
		if err != nil {
			return nil, wrap("issue credential", err)
		}
		plan.presentation = &exchange.PresentationRequest{Definition: pd}
		if td := bytes.TrimSpace(req.TransactionData); len(td) > 0 && !bytes.Equal(td, []byte("null")) {
			var b bytes.Buffer
			if err := json.Compact(&b, td); err != nil {
				return nil, validation.Invalid("transactionData", "must be a JSON object")
			}
			plan.presentation.TransactionData = b.Bytes()
		}
	}
	endpoint, err := s.deliveryEndpoint(ctx, req)
	if err != nil {
		return nil, err
	}
	plan.endpoint = endpoint
	return plan, nil
}

// checkIssue is the store-independent part of the validation; it returns the plan so far and the vct named by
// credential.type ("" when absent).
func checkIssue(req IssueRequest) (*issuePlan, string, error) {
	plan := &issuePlan{}
	switch exchange.IssuanceMode(req.IssuanceMode) {
	case exchange.ModeInTime, exchange.ModeDeferred:
		plan.mode = exchange.IssuanceMode(req.IssuanceMode)
	case "":
		return nil, "", validation.Invalid("issuanceMode", "is required: %q or %q", exchange.ModeInTime, exchange.ModeDeferred)
	default:
		return nil, "", validation.Invalid("issuanceMode", "must be %q or %q", exchange.ModeInTime, exchange.ModeDeferred)
	}
	if err := checkDynamicRequest(req); err != nil {
		return nil, "", err
	}
	if err := validateUserPin(req.UserPin); err != nil {
		return nil, "", err
	}
	switch req.URLScheme {
	case "":
		plan.scheme = exchange.SchemeOpenIDCredentialOffer
	case exchange.SchemeOpenIDCredentialOffer, exchange.SchemeHAIP:
		plan.scheme = req.URLScheme
	default:
		return nil, "", validation.Invalid("urlScheme", "must be %q (default) or %q", exchange.SchemeOpenIDCredentialOffer, exchange.SchemeHAIP)
	}
	payloads, err := payloadsOf(req)
	if err != nil {
		return nil, "", err
	}
	plan.payloads = payloads
	if plan.mode == exchange.ModeInTime && len(payloads) == 0 {
		return nil, "", validation.Invalid("credential.credentialSubject", "is required for issuanceMode InTime: the claims "+
			"to issue now (use Deferred to send them later)")
	}
	var typeVCT string
	if req.Credential != nil && req.Credential.Type != nil {
		types, err := credentialTypes(req.Credential.Type)
		if err != nil {
			return nil, "", err
		}
		plan.types = types
		typeVCT = types[len(types)-1]
	}
	switch {
	case req.CredentialDefinitionID != "":
		if err := validation.ID("credentialDefinitionId", req.CredentialDefinitionID); err != nil {
			return nil, "", err
		}
	case req.Credential == nil:
		return nil, "", validation.Invalid("credentialDefinitionId", "credentialDefinitionId or credential (with type) is required")
	case typeVCT == "":
		return nil, "", validation.Invalid("credential.type", "is required without credentialDefinitionId: the credential type "+
			"(a string, or an array whose last element is the vct)")
	default:
		if err := definition.ValidateVCT(typeVCT); err != nil {
			return nil, "", validation.Invalid("credential.type", "the last element %s", err.Error())
		}
		plan.dynamic = true
		plan.definition = dynamicDefinition(typeVCT, payloads)
		plan.configurationID = typeVCT
	}
	if err := checkSubjects(req, payloads); err != nil {
		return nil, "", err
	}
	switch {
	case req.CredentialOfferEndpoint != "" && req.IndividualID != "":
		return nil, "", validation.Invalid("individualId", "give credentialOfferEndpoint or individualId, not both")
	case req.CredentialOfferEndpoint != "":
		if err := ValidateOfferEndpoint("credentialOfferEndpoint", req.CredentialOfferEndpoint); err != nil {
			return nil, "", err
		}
	case req.IndividualID != "":
		if err := validation.ID("individualId", req.IndividualID); err != nil {
			return nil, "", err
		}
	}
	return plan, typeVCT, nil
}

// checkDynamicRequest checks the fields of a dynamic credential request: a presentationDefinitionId offers only
// the authorization code grant (the holder presents during authorization), so no userPin; transactionData only
// with it.
func checkDynamicRequest(req IssueRequest) error {
	td := bytes.TrimSpace(req.TransactionData)
	hasTD := len(td) > 0 && !bytes.Equal(td, []byte("null"))
	if req.PresentationDefinitionID == "" {
		if hasTD {
			return validation.Invalid("transactionData", "is only for a dynamic credential request: give "+
				"presentationDefinitionId too, or leave transactionData out")
		}
		return nil
	}
	if err := validation.ID("presentationDefinitionId", req.PresentationDefinitionID); err != nil {
		return err
	}
	if req.UserPin != "" {
		return validation.Invalid("userPin", "cannot be combined with presentationDefinitionId: a dynamic credential "+
			"request offers only the authorization code grant, in which the holder presents credentials instead of "+
			"typing a PIN; leave userPin out")
	}
	if hasTD {
		return openid4vp.ValidateTransactionData("transactionData", td)
	}
	return nil
}

// payloadsOf collects credential (when it has claims) and credentials[] in that order.
func payloadsOf(req IssueRequest) ([]exchange.CredentialPayload, error) {
	var out []exchange.CredentialPayload
	if c := req.Credential; c != nil && c.CredentialSubject != nil {
		out = append(out, exchange.CredentialPayload{CredentialSubject: c.CredentialSubject, CredentialMetadata: c.CredentialMetadata})
	} else if c != nil && c.CredentialMetadata != nil {
		return nil, validation.Invalid("credential.credentialSubject", "is required when credentialMetadata is given")
	}
	for i, c := range req.Credentials {
		if c.CredentialSubject == nil {
			return nil, validation.Invalid(fmt.Sprintf("credentials[%d].credentialSubject", i), "is required: an object of claims")
		}
		if c.Type != nil {
			return nil, validation.Invalid(fmt.Sprintf("credentials[%d].type", i), "is not allowed: every credential of one "+
				"exchange has the type of credential.type or of the definition")
		}
		out = append(out, exchange.CredentialPayload{CredentialSubject: c.CredentialSubject, CredentialMetadata: c.CredentialMetadata})
	}
	if len(out) > MaxCredentialsPerExchange {
		return nil, validation.Invalid("credentials", "holds more than %d credentials; split them over several exchanges", MaxCredentialsPerExchange)
	}
	if err := checkDataSize(req, out); err != nil {
		return nil, err
	}
	// Every path claims enter (issue, credentials[], the deferred PUT and event) comes through here.
	if err := checkClaimTrees(subjectFields(req, len(out)), out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkDataSize refuses payloads whose JSON together exceeds MaxCredentialDataBytes (ErrTooLarge).
func checkDataSize(req IssueRequest, payloads []exchange.CredentialPayload) error {
	field := "credential"
	if len(req.Credentials) > 0 {
		field = "credentials"
	}
	total := 0
	for _, p := range payloads {
		b, err := json.Marshal(p)
		if err != nil {
			return validation.Invalid(field, "holds a value that cannot be encoded as JSON")
		}
		total += len(b)
	}
	if total > MaxCredentialDataBytes {
		return validation.TooLarge(field, "the claims and metadata of this exchange take %d bytes, more than the %d KiB "+
			"an exchange keeps; move large data such as images out of the claims (e.g. to a URI) or split the "+
			"credentials over several exchanges", total, MaxCredentialDataBytes>>10)
	}
	return nil
}

// checkSubjects refuses empty subjects and claims the issuer sets itself.
func checkSubjects(req IssueRequest, payloads []exchange.CredentialPayload) error {
	for i, p := range payloads {
		field := fmt.Sprintf("credentials[%d].credentialSubject", i)
		if req.Credential != nil && req.Credential.CredentialSubject != nil {
			if i == 0 {
				field = "credential.credentialSubject"
			} else {
				field = fmt.Sprintf("credentials[%d].credentialSubject", i-1)
			}
		}
		if len(p.CredentialSubject) == 0 {
			return validation.Invalid(field, "must hold at least one claim")
		}
		for name := range p.CredentialSubject {
			if definition.IsReservedClaim(name) {
				return validation.Invalid(field+"."+name, "is set by the issuer and cannot be a subject claim")
			}
			if name == "" {
				return validation.Invalid(field, "has a claim with an empty name")
			}
		}
	}
	return nil
}

// credentialTypes reads credential.type: a string, or an array of strings whose last element is the vct.
func credentialTypes(v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil, validation.Invalid("credential.type", "must not be empty")
		}
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, validation.Invalid("credential.type", "must not be an empty array")
		}
		out := make([]string, len(t))
		for i, el := range t {
			s, ok := el.(string)
			if !ok || s == "" {
				return nil, validation.Invalid(fmt.Sprintf("credential.type[%d]", i), "must be a non-empty string")
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, validation.Invalid("credential.type", "must be a string or an array of strings")
	}
}

// dynamicDefinition is the definition of an issue request without one: every top-level subject claim
// selectively disclosable.
func dynamicDefinition(vct string, payloads []exchange.CredentialPayload) definition.Definition {
	keys := claimNames(payloads)
	claims := make([]definition.Claim, 0, len(keys))
	for _, k := range keys {
		claims = append(claims, definition.Claim{Path: []any{k}, LimitDisclosure: true})
	}
	return definition.Definition{Spec: definition.Spec{Label: vct, CredentialFormat: definition.FormatSDJWT, VCT: vct,
		ExpirationInDays: DynamicExpirationInDays, Claims: claims, Display: []definition.Display{}}}
}

// validateUserPin accepts "" (no tx_code) or 4..12 printable characters without spaces.
func validateUserPin(pin string) error {
	if pin == "" {
		return nil
	}
	n := 0
	for _, r := range pin {
		n++
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return validation.Invalid("userPin", "must be printable characters without spaces")
		}
	}
	if n > MaxUserPinLength {
		return validation.Invalid("userPin", "is longer than %d characters", MaxUserPinLength)
	}
	if n < MinUserPinLength {
		return validation.Invalid("userPin", "has %d characters; use at least %d (a shorter code is guessed "+
			"within the attempt cap too often), or omit it", n, MinUserPinLength)
	}
	return nil
}
