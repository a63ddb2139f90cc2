package oid4vci

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// ClaimPath is a claims path pointer (OpenID4VCI 1.0 appendix C): a non-empty array whose elements are a claim name
// (string), null (every element of an array) or a non-negative array index (int).
type ClaimPath []any

// ClaimDisplay is how a claim is shown for one locale.
type ClaimDisplay struct {
	Name   string `json:"name,omitempty"`
	Locale string `json:"locale,omitempty"`
}

// ClaimDescription describes one claim of a credential configuration, as credential_metadata.claims lists it.
type ClaimDescription struct {
	Path      ClaimPath      `json:"path"`
	Mandatory bool           `json:"mandatory,omitempty"`
	Display   []ClaimDisplay `json:"display,omitempty"`
}

// NormalizeClaimPath checks a path decoded from JSON (numbers arrive as float64 or json.Number) and returns it with
// every index as an int. The error says which element is wrong.
func NormalizeClaimPath(path []any) (ClaimPath, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("claim path must be a non-empty array")
	}
	out := make(ClaimPath, len(path))
	for i, el := range path {
		switch v := el.(type) {
		case nil:
			out[i] = nil
		case string:
			if v == "" {
				return nil, fmt.Errorf("claim path element %d is an empty claim name", i)
			}
			out[i] = v
		case int:
			if v < 0 {
				return nil, fmt.Errorf("claim path element %d is a negative index", i)
			}
			out[i] = v
		case float64:
			if v < 0 || v != math.Trunc(v) || v > math.MaxInt32 {
				return nil, fmt.Errorf("claim path element %d must be a claim name, null or a non-negative integer", i)
			}
			out[i] = int(v)
		case json.Number:
			n, err := v.Int64()
			if err != nil || n < 0 || n > math.MaxInt32 {
				return nil, fmt.Errorf("claim path element %d must be a claim name, null or a non-negative integer", i)
			}
			out[i] = int(n)
		default:
			return nil, fmt.Errorf("claim path element %d must be a claim name, null or a non-negative integer", i)
		}
	}
	return out, nil
}

// ValidateClaims applies the processing rules of OpenID4VCI 1.0 appendix B.3 to a claims list: every path is valid,
// no claim is described twice, no array is addressed both with null and with an index, and no claim is used both as
// an object and as an array. Claims descriptions that break these rules make wallets abort, so definitions are
// checked before they reach the metadata.
func ValidateClaims(claims []ClaimDescription) ([]ClaimDescription, error) {
	out := make([]ClaimDescription, len(claims))
	seen := make(map[string]int, len(claims))
	kinds := map[string]string{} // path prefix -> the kinds of element seen right after it
	for i, c := range claims {
		path, err := NormalizeClaimPath(c.Path)
		if err != nil {
			return nil, fmt.Errorf("claim %d: %w", i, err)
		}
		key := pathKey(path)
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("claim %d describes the same path as claim %d", i, j)
		}
		seen[key] = i
		for k := range path {
			prefix := pathKey(path[:k])
			kind := elementKind(path[k])
			if !strings.Contains(kinds[prefix], kind) {
				kinds[prefix] += kind
			}
			if set := kinds[prefix]; len(set) > 1 {
				return nil, fmt.Errorf("claim %d: %s", i, kindConflict(set))
			}
		}
		c.Path = path
		out[i] = c
	}
	return out, nil
}

func elementKind(el any) string {
	switch el.(type) {
	case string:
		return "o"
	case nil:
		return "n"
	default:
		return "i"
	}
}

func kindConflict(set string) string {
	if strings.Contains(set, "o") {
		return "a claim is addressed both as an object (by name) and as an array (by null or index)"
	}
	return "an array is addressed both with null (all elements) and with a specific index"
}

func pathKey(path ClaimPath) string {
	b, err := json.Marshal([]any(path))
	if err != nil { // unreachable: paths hold only strings, nil and ints
		return fmt.Sprint([]any(path))
	}
	return string(b)
}

// draft13Reserved are the member names of a draft-13 claim description; a claim with such a name cannot be expressed
// in the draft-13 nested claims object.
func draft13Reserved(name string) bool {
	return name == "mandatory" || name == "value_type" || name == "display"
}

// draft13Claims converts validated claims descriptions into the nested claims object of draft 13
// ({"address": {"street_address": {"display": [...]}}}) and the top-level display order. Null and index elements are
// dropped: draft 13 describes array elements with the array's own entry.
func draft13Claims(claims []ClaimDescription) (map[string]any, []string) {
	root := map[string]any{}
	var order []string
	described := map[string]bool{}
	for _, c := range claims {
		node := root
		var names []string
		ok := true
		for _, el := range c.Path {
			name, isName := el.(string)
			if !isName {
				continue
			}
			if draft13Reserved(name) {
				ok = false
				break
			}
			names = append(names, name)
			child, exists := node[name].(map[string]any)
			if !exists {
				child = map[string]any{}
				node[name] = child
				if len(names) == 1 {
					order = append(order, name)
				}
			}
			node = child
		}
		if !ok || len(names) == 0 {
			continue
		}
		key := strings.Join(names, "\x00")
		if described[key] {
			continue // the first description of a node wins (an array before its elements)
		}
		described[key] = true
		if c.Mandatory {
			node["mandatory"] = true
		}
		if len(c.Display) > 0 {
			node["display"] = c.Display
		}
	}
	return root, order
}
