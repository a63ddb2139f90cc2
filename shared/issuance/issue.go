package issuance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode"
)

// URL schemes of the offer deep link.
const (
	SchemeOpenIDCredentialOffer = "openid-credential-offer://"
	SchemeHAIP                  = "haip://"
)

// Limits of an issue request.
const (
	MaxCredentialsPerExchange = 20
	MaxUserPinLength          = 12
	DynamicExpirationInDays   = 365
	maxEndpointLen            = 2048
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
// the offer when an endpoint is known, publishes credential.offer_sent and returns the record. The returned
// record echoes userPin once; the stored one keeps only its salted hash.
func (s *Service) IssueCredential(ctx context.Context, req IssueRequest) (ExchangeRecord, error) {
	plan, err := s.planIssue(ctx, req)
	if err != nil {
		return ExchangeRecord{}, err
	}
	id, err := NewID(s.rand)
	if err != nil {
		return ExchangeRecord{}, wrap("issue credential", err)
	}
	offerID, err := NewExchangeSecret(s.rand, id)
	if err != nil {
		return ExchangeRecord{}, wrap("issue credential", err)
	}
	code := PreAuthorizedCode(offerID)
	now := s.now()
	offerExpiry := now.Add(s.cfg.OfferValidity).Unix()
	rec := ExchangeRecord{
		CredentialExchangeID:   id,
		IssuanceMode:           plan.mode,
		IsPreAuthorised:        true,
		CredentialOffer:        OfferDeepLink(plan.scheme, OfferURL(s.cfg.IssuerURL, offerID)),
		Status:                 StatusOfferSent,
		CreatedAt:              now.Unix(),
		UpdatedAt:              now.Unix(),
		CredentialDefinitionID: plan.definitionID,
		CredentialFormat:       plan.definition.CredentialFormat,
		SupportRevocation:      plan.definition.SupportRevocation,
		IndividualID:           req.IndividualID,
		Internal: ExchangeInternal{
			Version:         1,
			ExpiresAt:       now.Add(s.cfg.Retention).Unix(),
			CreatedNanos:    now.UnixNano(),
			Definition:      plan.definition,
			ConfigurationID: plan.configurationID,
			Dynamic:         plan.dynamic,
			CredentialType:  plan.types,
			OfferIDHash:     HashSecret(offerID),
			CodeHash:        HashSecret(code),
			OfferExpiresAt:  offerExpiry,
		},
	}
	if rec.SupportRevocation {
		rec.RevocationStatus = RevocationOperational
	}
	rec.SetCredentials(plan.payloads)
	if req.UserPin != "" {
		tx, err := NewTxCode(s.rand, req.UserPin)
		if err != nil {
			return ExchangeRecord{}, wrap("issue credential", err)
		}
		rec.Internal.TxCode = tx
	}
	// The offer id and the code name the exchange and are checked against the record's hashes; the CODE
	// pointer is only the code's single-use and validity guard, consumed by the token transaction.
	pointers := []Pointer{{Key: PointerKey(PointerCode, code), ExchangeID: id, ExpiresAt: offerExpiry}}
	for _, p := range pointers {
		rec.Internal.Pointers = append(rec.Internal.Pointers, p.Key)
	}
	if plan.dynamic {
		if err := s.store.PutDynamicConfiguration(ctx, plan.dynamicConfig(rec.Internal.ExpiresAt)); err != nil {
			return ExchangeRecord{}, wrap("issue credential", err)
		}
	}
	if err := s.store.CreateExchange(ctx, rec, pointers); err != nil {
		return ExchangeRecord{}, wrap("issue credential", err)
	}
	if plan.endpoint != "" {
		rec = s.recordDelivery(ctx, rec, plan.endpoint)
	}
	s.publish(ctx, &rec)
	rec.UserPin = req.UserPin
	return rec, nil
}

// issuePlan is a validated issue request resolved against the store.
type issuePlan struct {
	mode            IssuanceMode
	definitionID    string
	definition      CredentialDefinition
	configurationID string
	dynamic         bool
	types           []string
	payloads        []CredentialPayload
	scheme          string
	endpoint        string
}

func (p *issuePlan) dynamicConfig(expiresAt int64) DynamicConfiguration {
	names := map[string]bool{}
	for _, pl := range p.payloads {
		for k := range pl.CredentialSubject {
			names[k] = true
		}
	}
	claims := make([]string, 0, len(names))
	for k := range names {
		claims = append(claims, k)
	}
	sort.Strings(claims)
	return DynamicConfiguration{ConfigurationID: p.configurationID, VCT: p.definition.VCT, Claims: claims,
		ExpiresAt: expiresAt}
}

// Validate checks the request field by field without the store (each error a *ValidationError naming the
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
		if errors.Is(err, ErrNotFound) {
			return nil, invalid("credentialDefinitionId", "no credential definition has this id; create one "+
				"with POST /credential-definition or issue with credential.type")
		}
		if err != nil {
			return nil, wrap("issue credential", err)
		}
		if typeVCT != "" && typeVCT != d.VCT {
			return nil, invalid("credential.type", "names a type different from the vct of credential "+
				"definition %s; omit it or make its last element the definition's vct", d.ID)
		}
		if err := checkFitsDefinition(d, subjectFields(req, len(plan.payloads)), plan.payloads); err != nil {
			return nil, err
		}
		plan.definition = d
		plan.definitionID = d.ID
		plan.configurationID = d.ConfigurationID()
		if plan.types == nil {
			plan.types = []string{d.VCT}
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
	switch IssuanceMode(req.IssuanceMode) {
	case ModeInTime, ModeDeferred:
		plan.mode = IssuanceMode(req.IssuanceMode)
	case "":
		return nil, "", invalid("issuanceMode", "is required: %q or %q", ModeInTime, ModeDeferred)
	default:
		return nil, "", invalid("issuanceMode", "must be %q or %q", ModeInTime, ModeDeferred)
	}
	if req.PresentationDefinitionID != "" {
		return nil, "", invalid("presentationDefinitionId", "OpenID4VP-first issuance (presentation before issuance, "+
			"authorization code flow) is not supported yet; issue without presentationDefinitionId")
	}
	if t := bytes.TrimSpace(req.TransactionData); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		return nil, "", invalid("transactionData", "OpenID4VP-first issuance (presentation before issuance, "+
			"authorization code flow) is not supported yet; issue without transactionData")
	}
	if err := validateUserPin(req.UserPin); err != nil {
		return nil, "", err
	}
	switch req.URLScheme {
	case "":
		plan.scheme = SchemeOpenIDCredentialOffer
	case SchemeOpenIDCredentialOffer, SchemeHAIP:
		plan.scheme = req.URLScheme
	default:
		return nil, "", invalid("urlScheme", "must be %q (default) or %q", SchemeOpenIDCredentialOffer, SchemeHAIP)
	}
	payloads, err := payloadsOf(req)
	if err != nil {
		return nil, "", err
	}
	plan.payloads = payloads
	if plan.mode == ModeInTime && len(payloads) == 0 {
		return nil, "", invalid("credential.credentialSubject", "is required for issuanceMode InTime: the claims "+
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
		if err := validateID("credentialDefinitionId", req.CredentialDefinitionID); err != nil {
			return nil, "", err
		}
	case req.Credential == nil:
		return nil, "", invalid("credentialDefinitionId", "credentialDefinitionId or credential (with type) is required")
	case typeVCT == "":
		return nil, "", invalid("credential.type", "is required without credentialDefinitionId: the credential type "+
			"(a string, or an array whose last element is the vct)")
	default:
		if err := ValidateVCT(typeVCT); err != nil {
			return nil, "", invalid("credential.type", "the last element %s", err.Error())
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
		return nil, "", invalid("individualId", "give credentialOfferEndpoint or individualId, not both")
	case req.CredentialOfferEndpoint != "":
		if err := ValidateOfferEndpoint("credentialOfferEndpoint", req.CredentialOfferEndpoint); err != nil {
			return nil, "", err
		}
	case req.IndividualID != "":
		if err := validateID("individualId", req.IndividualID); err != nil {
			return nil, "", err
		}
	}
	return plan, typeVCT, nil
}

// payloadsOf collects credential (when it has claims) and credentials[] in that order.
func payloadsOf(req IssueRequest) ([]CredentialPayload, error) {
	var out []CredentialPayload
	if c := req.Credential; c != nil && c.CredentialSubject != nil {
		out = append(out, CredentialPayload{CredentialSubject: c.CredentialSubject, CredentialMetadata: c.CredentialMetadata})
	} else if c != nil && c.CredentialMetadata != nil {
		return nil, invalid("credential.credentialSubject", "is required when credentialMetadata is given")
	}
	for i, c := range req.Credentials {
		if c.CredentialSubject == nil {
			return nil, invalid(fmt.Sprintf("credentials[%d].credentialSubject", i), "is required: an object of claims")
		}
		if c.Type != nil {
			return nil, invalid(fmt.Sprintf("credentials[%d].type", i), "is not allowed: every credential of one "+
				"exchange has the type of credential.type or of the definition")
		}
		out = append(out, CredentialPayload{CredentialSubject: c.CredentialSubject, CredentialMetadata: c.CredentialMetadata})
	}
	if len(out) > MaxCredentialsPerExchange {
		return nil, invalid("credentials", "holds more than %d credentials; split them over several exchanges", MaxCredentialsPerExchange)
	}
	if err := checkDataSize(req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkDataSize refuses payloads whose JSON together exceeds MaxCredentialDataBytes (ErrTooLarge).
func checkDataSize(req IssueRequest, payloads []CredentialPayload) error {
	field := "credential"
	if len(req.Credentials) > 0 {
		field = "credentials"
	}
	total := 0
	for _, p := range payloads {
		b, err := json.Marshal(p)
		if err != nil {
			return invalid(field, "holds a value that cannot be encoded as JSON")
		}
		total += len(b)
	}
	if total > MaxCredentialDataBytes {
		return tooLarge(field, "the claims and metadata of this exchange take %d bytes, more than the %d KiB "+
			"an exchange keeps; move large data such as images out of the claims (e.g. to a URI) or split the "+
			"credentials over several exchanges", total, MaxCredentialDataBytes>>10)
	}
	return nil
}

// checkSubjects refuses empty subjects and claims the issuer sets itself.
func checkSubjects(req IssueRequest, payloads []CredentialPayload) error {
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
			return invalid(field, "must hold at least one claim")
		}
		for name := range p.CredentialSubject {
			if IsReservedClaim(name) {
				return invalid(field+"."+name, "is set by the issuer and cannot be a subject claim")
			}
			if name == "" {
				return invalid(field, "has a claim with an empty name")
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
			return nil, invalid("credential.type", "must not be empty")
		}
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, invalid("credential.type", "must not be an empty array")
		}
		out := make([]string, len(t))
		for i, el := range t {
			s, ok := el.(string)
			if !ok || s == "" {
				return nil, invalid(fmt.Sprintf("credential.type[%d]", i), "must be a non-empty string")
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, invalid("credential.type", "must be a string or an array of strings")
	}
}

// dynamicDefinition is the definition of an issue request without one: every top-level subject claim
// selectively disclosable.
func dynamicDefinition(vct string, payloads []CredentialPayload) CredentialDefinition {
	names := map[string]bool{}
	for _, p := range payloads {
		for k := range p.CredentialSubject {
			names[k] = true
		}
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	claims := make([]Claim, 0, len(keys))
	for _, k := range keys {
		claims = append(claims, Claim{Path: []any{k}, LimitDisclosure: true})
	}
	return CredentialDefinition{DefinitionSpec: DefinitionSpec{Label: vct, CredentialFormat: FormatSDJWT, VCT: vct,
		ExpirationInDays: DynamicExpirationInDays, Claims: claims, Display: []Display{}}}
}

// validateUserPin accepts "" (no tx_code) or 1..12 printable characters without spaces.
func validateUserPin(pin string) error {
	if pin == "" {
		return nil
	}
	n := 0
	for _, r := range pin {
		n++
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return invalid("userPin", "must be printable characters without spaces")
		}
	}
	if n > MaxUserPinLength {
		return invalid("userPin", "is longer than %d characters", MaxUserPinLength)
	}
	return nil
}

// OfferURL is the credential_offer_uri of an offer id.
func OfferURL(issuerURL, offerID string) string {
	return strings.TrimRight(issuerURL, "/") + "/credential-offer/" + offerID
}

// OfferDeepLink is the offer by reference: <scheme>?credential_offer_uri=<url-encoded offer URL>.
func OfferDeepLink(scheme, offerURL string) string {
	return scheme + "?credential_offer_uri=" + url.QueryEscape(offerURL)
}

// OfferIDFromDeepLink extracts the offer id of a record's credentialOffer (the metadata function derives the
// pre-authorized code from it).
func OfferIDFromDeepLink(link string) (string, error) {
	_, q, ok := strings.Cut(link, "?")
	if !ok {
		return "", errors.New("offer deep link has no query")
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return "", fmt.Errorf("offer deep link query: %w", err)
	}
	u := v.Get("credential_offer_uri")
	i := strings.LastIndex(u, "/credential-offer/")
	if i < 0 {
		return "", errors.New("offer deep link has no credential_offer_uri of this issuer")
	}
	return u[i+len("/credential-offer/"):], nil
}
