// Package dcql is the Digital Credentials Query Language of OpenID4VP 1.0 (section 6) as this issuer uses it when
// it is the verifier of a dynamic credential request: the query an organisation stores (Parse and Validate, on the
// way in, every fault an error naming the member) and the check that what a holder presented satisfies it
// (Evaluate, section 6.4 and 8.6 "VP Token Validation"). Only SD-JWT VC presentations (format dc+sd-jwt) are
// verified by this issuer, so a query for another format is refused when it is stored. No I/O.
package dcql

import (
	"fmt"
	"math"
	"regexp"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// FormatSDJWTVC is the credential format identifier of SD-JWT VC (OpenID4VP 1.0 appendix B.3).
const FormatSDJWTVC = "dc+sd-jwt"

// Limits of a stored query: far above any real request, low enough that evaluating one stays cheap.
const (
	MaxCredentialQueries = 20
	MaxClaimQueries      = 64
	MaxPathLength        = 16
	MaxValues            = 64
	MaxOptions           = 16
)

// Query is a DCQL query (section 6). Members this issuer does not know are ignored, as section 6 requires; the
// stored document is kept as the organisation sent it and is what the wallet receives.
type Query struct {
	Credentials    []CredentialQuery `json:"credentials"`
	CredentialSets []CredentialSet   `json:"credential_sets,omitempty"`
}

// CredentialQuery asks for one credential (section 6.1).
type CredentialQuery struct {
	ID                                string             `json:"id"`
	Format                            string             `json:"format"`
	Multiple                          bool               `json:"multiple,omitempty"`
	Meta                              *Meta              `json:"meta"`
	TrustedAuthorities                []TrustedAuthority `json:"trusted_authorities,omitempty"`
	RequireCryptographicHolderBinding *bool              `json:"require_cryptographic_holder_binding,omitempty"`
	Claims                            []ClaimQuery       `json:"claims,omitempty"`
	ClaimSets                         [][]string         `json:"claim_sets,omitempty"`
}

// Meta holds the format-specific constraints; for dc+sd-jwt the accepted vct values (appendix B.3.5).
type Meta struct {
	VCTValues []string `json:"vct_values"`
}

// TrustedAuthority is a trusted authorities query (section 6.1.1). It helps the wallet choose; the issuer's own
// trust decision does not depend on it.
type TrustedAuthority struct {
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// CredentialSet says which combinations of credential queries satisfy the request (section 6.2).
type CredentialSet struct {
	Options  [][]string `json:"options"`
	Required *bool      `json:"required,omitempty"`
}

// ClaimQuery asks for one claim by its claims path pointer (sections 6.3 and 7), optionally with expected values.
type ClaimQuery struct {
	ID     string `json:"id,omitempty"`
	Path   []any  `json:"path"`
	Values []any  `json:"values,omitempty"`
}

// idPattern is what section 6.1 allows in a credential or claim query id.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Parse reads a stored or submitted query (strict JSON: no repeated member names) and validates it; field prefixes
// every error's field ("dcqlQuery").
func Parse(raw []byte, field string) (*Query, error) {
	var q Query
	if err := strictjson.Unmarshal(raw, &q); err != nil {
		return nil, jsonError(field, err)
	}
	if err := q.Validate(field); err != nil {
		return nil, err
	}
	return &q, nil
}

// jsonError names the member of a strict JSON error under field.
func jsonError(field string, err error) error {
	if e, ok := err.(*strictjson.Error); ok {
		return validation.Invalid(field+validation.PointerField(e.Path), "%s", e.Reason)
	}
	return validation.Invalid(field, "is not a JSON object")
}

// Validate checks the query as section 6 defines it and as this issuer can verify it: SD-JWT VC credential
// queries with vct_values, key binding required, claim paths and values well formed, claim_sets and
// credential_sets naming existing ids.
func (q *Query) Validate(field string) error {
	if len(q.Credentials) == 0 {
		return validation.Invalid(field+".credentials", "is required: a non-empty array of credential queries")
	}
	if len(q.Credentials) > MaxCredentialQueries {
		return validation.Invalid(field+".credentials", "holds more than %d credential queries", MaxCredentialQueries)
	}
	ids := map[string]bool{}
	for i := range q.Credentials {
		f := fmt.Sprintf("%s.credentials[%d]", field, i)
		c := &q.Credentials[i]
		if err := c.validate(f); err != nil {
			return err
		}
		if ids[c.ID] {
			return validation.Invalid(f+".id", "repeats the id of another credential query; each id must be unique")
		}
		ids[c.ID] = true
	}
	if q.CredentialSets != nil && len(q.CredentialSets) == 0 {
		return validation.Invalid(field+".credential_sets", "must be a non-empty array when present")
	}
	for i, s := range q.CredentialSets {
		f := fmt.Sprintf("%s.credential_sets[%d].options", field, i)
		if len(s.Options) == 0 || len(s.Options) > MaxOptions {
			return validation.Invalid(f, "must be a non-empty array of at most %d options", MaxOptions)
		}
		for j, opt := range s.Options {
			if len(opt) == 0 {
				return validation.Invalid(fmt.Sprintf("%s[%d]", f, j), "must be a non-empty array of credential query ids")
			}
			for k, id := range opt {
				if !ids[id] {
					return validation.Invalid(fmt.Sprintf("%s[%d][%d]", f, j, k), "names no credential query of this query")
				}
			}
		}
	}
	return nil
}

func (c *CredentialQuery) validate(f string) error {
	if !idPattern.MatchString(c.ID) {
		return validation.Invalid(f+".id", "is required: letters, digits, '_' and '-' only")
	}
	switch c.Format {
	case FormatSDJWTVC:
	case "":
		return validation.Invalid(f+".format", "is required: %q", FormatSDJWTVC)
	default:
		return validation.Invalid(f+".format", "must be %q: this issuer verifies SD-JWT VC presentations only", FormatSDJWTVC)
	}
	if c.Meta == nil {
		return validation.Invalid(f+".meta", "is required: {\"vct_values\": [...]}")
	}
	if len(c.Meta.VCTValues) == 0 {
		return validation.Invalid(f+".meta.vct_values", "is required: a non-empty array of the accepted vct values")
	}
	for i, v := range c.Meta.VCTValues {
		if v == "" || !validation.Printable(v) {
			return validation.Invalid(fmt.Sprintf("%s.meta.vct_values[%d]", f, i), "must be a non-empty printable string")
		}
	}
	if c.RequireCryptographicHolderBinding != nil && !*c.RequireCryptographicHolderBinding {
		return validation.Invalid(f+".require_cryptographic_holder_binding", "must be true or absent: a presentation "+
			"without key binding could be replayed by anyone who saw it, so this issuer requires key binding")
	}
	if c.TrustedAuthorities != nil && len(c.TrustedAuthorities) == 0 {
		return validation.Invalid(f+".trusted_authorities", "must be a non-empty array when present")
	}
	for i, ta := range c.TrustedAuthorities {
		tf := fmt.Sprintf("%s.trusted_authorities[%d]", f, i)
		if ta.Type == "" {
			return validation.Invalid(tf+".type", "is required")
		}
		if len(ta.Values) == 0 {
			return validation.Invalid(tf+".values", "is required: a non-empty array of strings")
		}
	}
	if c.Claims != nil && len(c.Claims) == 0 {
		return validation.Invalid(f+".claims", "must be a non-empty array when present")
	}
	if len(c.Claims) > MaxClaimQueries {
		return validation.Invalid(f+".claims", "holds more than %d claim queries", MaxClaimQueries)
	}
	claimIDs := map[string]bool{}
	for i := range c.Claims {
		cf := fmt.Sprintf("%s.claims[%d]", f, i)
		cl := &c.Claims[i]
		if err := cl.validate(cf, c.ClaimSets != nil); err != nil {
			return err
		}
		if cl.ID != "" {
			if claimIDs[cl.ID] {
				return validation.Invalid(cf+".id", "repeats the id of another claim query of this credential query")
			}
			claimIDs[cl.ID] = true
		}
	}
	if c.ClaimSets != nil {
		if len(c.Claims) == 0 {
			return validation.Invalid(f+".claim_sets", "needs claims: claim_sets names claim query ids")
		}
		if len(c.ClaimSets) == 0 || len(c.ClaimSets) > MaxOptions {
			return validation.Invalid(f+".claim_sets", "must be a non-empty array of at most %d options", MaxOptions)
		}
		for i, set := range c.ClaimSets {
			if len(set) == 0 {
				return validation.Invalid(fmt.Sprintf("%s.claim_sets[%d]", f, i), "must be a non-empty array of claim query ids")
			}
			for j, id := range set {
				if !claimIDs[id] {
					return validation.Invalid(fmt.Sprintf("%s.claim_sets[%d][%d]", f, i, j), "names no claim query of this credential query")
				}
			}
		}
	}
	return nil
}

func (cl *ClaimQuery) validate(f string, idRequired bool) error {
	if cl.ID != "" && !idPattern.MatchString(cl.ID) {
		return validation.Invalid(f+".id", "must be letters, digits, '_' and '-' only")
	}
	if cl.ID == "" && idRequired {
		return validation.Invalid(f+".id", "is required when claim_sets is present")
	}
	if err := ValidatePath(cl.Path, f+".path"); err != nil {
		return err
	}
	if cl.Values != nil && len(cl.Values) == 0 {
		return validation.Invalid(f+".values", "must be a non-empty array when present")
	}
	if len(cl.Values) > MaxValues {
		return validation.Invalid(f+".values", "holds more than %d values", MaxValues)
	}
	for i, v := range cl.Values {
		switch x := v.(type) {
		case string, bool:
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return validation.Invalid(fmt.Sprintf("%s.values[%d]", f, i), "must be a string, an integer or a boolean")
			}
		default:
			return validation.Invalid(fmt.Sprintf("%s.values[%d]", f, i), "must be a string, an integer or a boolean")
		}
	}
	return nil
}

// ValidatePath checks a claims path pointer (section 7): a non-empty array of strings, nulls and non-negative
// integers.
func ValidatePath(path []any, field string) error {
	if len(path) == 0 {
		return validation.Invalid(field, "is required: a non-empty array of claim names, null (every element) and indexes")
	}
	if len(path) > MaxPathLength {
		return validation.Invalid(field, "is longer than %d elements", MaxPathLength)
	}
	for i, el := range path {
		switch x := el.(type) {
		case nil:
		case string:
			if x == "" {
				return validation.Invalid(fmt.Sprintf("%s[%d]", field, i), "must not be an empty string")
			}
		case float64:
			if x < 0 || x != math.Trunc(x) || x > math.MaxInt32 {
				return validation.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be a non-negative integer index")
			}
		default:
			return validation.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be a string, null or a non-negative integer")
		}
	}
	return nil
}
