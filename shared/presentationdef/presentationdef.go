// Package presentationdef is the presentation definition an organisation stores with the admin API (API.md,
// "Presentation definitions"): what a holder must present over OpenID4VP before the issuer issues in a dynamic
// credential request, as a DIF Presentation Exchange 2.0 definition (shared/pex) or an OpenID4VP 1.0 DCQL query
// (shared/dcql), and the credential issuers (besides this one and ISSUER_TRUST_ANCHORS) whose credentials are
// accepted. Validated on the way in, every fault a *validation.Error naming the field. No I/O.
package presentationdef

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sdjwt-issuer/issuer/shared/dcql"
	"github.com/sdjwt-issuer/issuer/shared/pex"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Limits of a stored definition.
const (
	// MaxBytes bounds the JSON of the query or definition: an exchange keeps a copy in its one DynamoDB item.
	MaxBytes          = 32 << 10
	MaxLabelLength    = 200
	MaxTrustedIssuers = 50
	maxIssuerURLLen   = 2048
)

// Kinds of definition.
const (
	KindPresentationExchange = "presentation_definition"
	KindDCQL                 = "dcql_query"
)

// Spec is what the organisation sends: a label, exactly one of presentationDefinition (DIF Presentation Exchange
// 2.0) and dcqlQuery (OpenID4VP 1.0), and optionally the trusted issuers.
type Spec struct {
	Label                  string          `json:"label"`
	PresentationDefinition json.RawMessage `json:"presentationDefinition,omitempty"`
	DCQLQuery              json.RawMessage `json:"dcqlQuery,omitempty"`
	TrustedIssuers         []string        `json:"trustedIssuers"`
}

// Definition is a stored presentation definition.
type Definition struct {
	ID string `json:"presentationDefinitionId"`
	Spec
	CreatedAt int64 `json:"createdAt"`
	UpdatedAt int64 `json:"updatedAt"`
	// Version increments on every write; the store's conditional writes compare it.
	Version int64 `json:"-"`
	// CreatedNanos orders definitions created within the same second (not rendered).
	CreatedNanos int64 `json:"-"`
}

// Normalize validates the spec and brings it into its canonical form (the query or definition compacted, the
// trusted issuers an empty list rather than nil). The error is a *validation.Error naming the field.
func (s *Spec) Normalize() error {
	s.Label = strings.TrimSpace(s.Label)
	switch {
	case s.Label == "":
		return validation.Invalid("label", "is required: a human-readable name of the presentation definition")
	case len(s.Label) > MaxLabelLength || !validation.Printable(s.Label):
		return validation.Invalid("label", "must be printable text of at most %d characters", MaxLabelLength)
	}
	pe, dq := present(s.PresentationDefinition), present(s.DCQLQuery)
	switch {
	case pe && dq:
		return validation.Invalid("dcqlQuery", "give presentationDefinition or dcqlQuery, not both")
	case !pe && !dq:
		return validation.Invalid("presentationDefinition", "is required: a DIF Presentation Exchange 2.0 definition "+
			"(presentationDefinition) or an OpenID4VP 1.0 DCQL query (dcqlQuery)")
	case pe:
		out, err := compactObject("presentationDefinition", s.PresentationDefinition)
		if err != nil {
			return err
		}
		if _, err := pex.Parse(out, "presentationDefinition"); err != nil {
			return err
		}
		s.PresentationDefinition, s.DCQLQuery = out, nil
	default:
		out, err := compactObject("dcqlQuery", s.DCQLQuery)
		if err != nil {
			return err
		}
		if _, err := dcql.Parse(out, "dcqlQuery"); err != nil {
			return err
		}
		s.DCQLQuery, s.PresentationDefinition = out, nil
	}
	if len(s.TrustedIssuers) > MaxTrustedIssuers {
		return validation.Invalid("trustedIssuers", "holds more than %d issuers", MaxTrustedIssuers)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(s.TrustedIssuers))
	for i, iss := range s.TrustedIssuers {
		field := fmt.Sprintf("trustedIssuers[%d]", i)
		if err := ValidateIssuer(field, iss); err != nil {
			return err
		}
		if seen[iss] {
			return validation.Invalid(field, "repeats another entry")
		}
		seen[iss] = true
		out = append(out, iss)
	}
	s.TrustedIssuers = out
	return nil
}

// present reports whether a raw member was given (absent and null are not).
func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// compactObject checks that raw is a JSON object of bounded size and returns it compacted.
func compactObject(field string, raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if t[0] != '{' {
		return nil, validation.Invalid(field, "must be a JSON object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, t); err != nil {
		return nil, validation.Invalid(field, "must be a JSON object")
	}
	if b.Len() > MaxBytes {
		return nil, validation.TooLarge(field, "takes %d bytes, more than the %d KiB a presentation definition may hold",
			b.Len(), MaxBytes>>10)
	}
	return b.Bytes(), nil
}

// ValidateIssuer checks a credential issuer identifier (SD-JWT VC `iss`): an https URL with a host and no query,
// fragment or user info; http only for a loopback host (local test issuers).
func ValidateIssuer(field, iss string) error {
	return validation.HTTPSURL(field, iss, maxIssuerURLLen, false, "https://issuer.example")
}

// Kind says which language the definition is written in.
func (s *Spec) Kind() string {
	if present(s.DCQLQuery) {
		return KindDCQL
	}
	return KindPresentationExchange
}

// Query parses the stored DCQL query (nil for a Presentation Exchange definition).
func (s *Spec) Query() (*dcql.Query, error) {
	if !present(s.DCQLQuery) {
		return nil, nil
	}
	return dcql.Parse(s.DCQLQuery, "dcqlQuery")
}

// PresentationExchange parses the stored Presentation Exchange definition (nil for a DCQL query).
func (s *Spec) PresentationExchange() (*pex.Definition, error) {
	if !present(s.PresentationDefinition) {
		return nil, nil
	}
	return pex.Parse(s.PresentationDefinition, "presentationDefinition")
}
