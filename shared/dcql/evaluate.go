package dcql

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrNotSatisfied is what Evaluate returns (wrapped, with the reason) when the presentations do not satisfy the
// query. Reasons name credential query and claim query ids and paths of the stored query, never a presented value.
var ErrNotSatisfied = errors.New("the presented credentials do not satisfy the query")

// Presented is one verified presentation of a credential, as Evaluate checks it.
type Presented struct {
	// Typ is the issuer-signed JWT's typ (dc+sd-jwt, or the earlier vc+sd-jwt).
	Typ string
	// VCT is the credential's vct.
	VCT string
	// Claims are the verified claims: disclosed values in place, numbers as json.Number or float64.
	Claims map[string]any
}

// notSatisfied wraps ErrNotSatisfied with a reason.
func notSatisfied(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSatisfied, fmt.Sprintf(format, args...))
}

// Evaluate checks presented (keyed by credential query id, as a 1.0 vp_token is) against the query: no entry the
// query does not ask for, one presentation per query unless multiple, each of the requested format and one of
// the vct values and holding the requested claims (every claim query, or one of the claim_sets) with an expected
// value where values are given, and the credential_sets (or, without them, every credential query) satisfied.
// Values are enforced: this issuer decides on what was presented, unlike a wallet for which they are a hint.
func (q *Query) Evaluate(presented map[string][]Presented) error {
	byID := make(map[string]*CredentialQuery, len(q.Credentials))
	for i := range q.Credentials {
		byID[q.Credentials[i].ID] = &q.Credentials[i]
	}
	for id, list := range presented {
		cq, ok := byID[id]
		if !ok {
			return notSatisfied("the vp_token holds an entry for a credential query id that the query does not have")
		}
		if len(list) == 0 {
			return notSatisfied("credential query %s: the vp_token entry holds no presentation", id)
		}
		if len(list) > 1 && !cq.Multiple {
			return notSatisfied("credential query %s: %d presentations, and the query allows one (multiple is false)", id, len(list))
		}
		for i := range list {
			if err := cq.satisfiedBy(&list[i]); err != nil {
				return fmt.Errorf("credential query %s: %w", id, err)
			}
		}
	}
	if len(q.CredentialSets) == 0 {
		for _, cq := range q.Credentials {
			if _, ok := presented[cq.ID]; !ok {
				return notSatisfied("credential query %s: no presentation (every credential query is required)", cq.ID)
			}
		}
		return nil
	}
	for i, set := range q.CredentialSets {
		if set.Required != nil && !*set.Required {
			continue
		}
		if !anyOption(set.Options, presented) {
			return notSatisfied("credential set %d: no option is presented in full", i)
		}
	}
	return nil
}

// anyOption reports whether every id of one of options has presentations.
func anyOption(options [][]string, presented map[string][]Presented) bool {
	for _, opt := range options {
		all := true
		for _, id := range opt {
			if _, ok := presented[id]; !ok {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// satisfiedBy checks one presentation against the credential query.
func (c *CredentialQuery) satisfiedBy(p *Presented) error {
	if p.Typ != FormatSDJWTVC && p.Typ != "vc+sd-jwt" {
		return notSatisfied("the presentation is not of format %s", c.Format)
	}
	vctOK := false
	for _, v := range c.Meta.VCTValues {
		if v == p.VCT {
			vctOK = true
			break
		}
	}
	if !vctOK {
		return notSatisfied("the credential's vct is not one of meta.vct_values")
	}
	if len(c.Claims) == 0 {
		return nil
	}
	if len(c.ClaimSets) == 0 {
		for i := range c.Claims {
			if err := c.Claims[i].satisfiedBy(p.Claims); err != nil {
				return err
			}
		}
		return nil
	}
	byID := make(map[string]*ClaimQuery, len(c.Claims))
	for i := range c.Claims {
		byID[c.Claims[i].ID] = &c.Claims[i]
	}
	for _, set := range c.ClaimSets {
		ok := true
		for _, id := range set {
			if byID[id].satisfiedBy(p.Claims) != nil {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
	return notSatisfied("no option of claim_sets is disclosed in full")
}

// satisfiedBy checks that the claim is disclosed (and, with values, has one of them).
func (cl *ClaimQuery) satisfiedBy(claims map[string]any) error {
	selected, err := Select(claims, cl.Path)
	if err != nil {
		return notSatisfied("claim %s is not disclosed", pathString(cl.Path))
	}
	if len(cl.Values) == 0 {
		return nil
	}
	for _, v := range selected {
		for _, want := range cl.Values {
			if sameValue(v, want) {
				return nil
			}
		}
	}
	return notSatisfied("claim %s does not have one of the expected values", pathString(cl.Path))
}

// ErrPath is a claims path pointer that selects nothing or meets the wrong kind of value (section 7.1.1).
var ErrPath = errors.New("the claims path pointer selects no claim")

// Select processes a claims path pointer against JSON-based claims (section 7.1.1) and returns the selected
// values; ErrPath when processing aborts or selects nothing.
func Select(claims map[string]any, path []any) ([]any, error) {
	selected := []any{claims}
	for _, comp := range path {
		var next []any
		switch c := comp.(type) {
		case string:
			for _, el := range selected {
				obj, ok := el.(map[string]any)
				if !ok {
					return nil, ErrPath
				}
				if v, ok := obj[c]; ok {
					next = append(next, v)
				}
			}
		case nil:
			for _, el := range selected {
				arr, ok := el.([]any)
				if !ok {
					return nil, ErrPath
				}
				next = append(next, arr...)
			}
		case float64:
			idx := int(c)
			if c < 0 || float64(idx) != c {
				return nil, ErrPath
			}
			for _, el := range selected {
				arr, ok := el.([]any)
				if !ok {
					return nil, ErrPath
				}
				if idx < len(arr) {
					next = append(next, arr[idx])
				}
			}
		default:
			return nil, ErrPath
		}
		selected = next
	}
	if len(selected) == 0 {
		return nil, ErrPath
	}
	return selected, nil
}

// sameValue compares a presented value with an expected one: same JSON type and value (section 6.3); numbers by
// their value, whichever Go type holds them.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case float64:
		switch g := got.(type) {
		case float64:
			return g == w
		case json.Number:
			if i, err := g.Int64(); err == nil {
				return math.Abs(w) <= 1<<53 && float64(i) == w && int64(w) == i
			}
			f, err := g.Float64()
			return err == nil && f == w
		}
	}
	return false
}

// pathString prints a stored claims path pointer for a reason (names from the organisation's query, not values).
func pathString(path []any) string {
	b, err := json.Marshal(path)
	if err != nil {
		return "(path)"
	}
	return string(b)
}
