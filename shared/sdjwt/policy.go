package sdjwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// PathKind says what a claim path element selects.
type PathKind uint8

const (
	// PathName selects an object member by name.
	PathName PathKind = iota + 1
	// PathIndex selects one array element by index.
	PathIndex
	// PathAll selects every element of an array (JSON null in a path).
	PathAll
)

// PathElement is one step of a ClaimPath.
type PathElement struct {
	// Kind says which of Name and Index is meaningful.
	Kind PathKind
	// Name is the member name for PathName.
	Name string
	// Index is the element index for PathIndex.
	Index int
}

// Name returns a path element selecting the member name.
func Name(name string) PathElement { return PathElement{Kind: PathName, Name: name} }

// Index returns a path element selecting array element i.
func Index(i int) PathElement { return PathElement{Kind: PathIndex, Index: i} }

// AllElements returns a path element selecting every array element.
func AllElements() PathElement { return PathElement{Kind: PathAll} }

// ClaimPath is a claim path as in OID4VCI claims metadata and the admin API: strings name object
// members, null means every element of an array, a non-negative integer one element.
type ClaimPath []PathElement

// String renders the path for error messages, e.g. address.street_address or nationalities[*].
func (p ClaimPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch e.Kind {
		case PathName:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.Name)
		case PathIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		case PathAll:
			b.WriteString("[*]")
		default:
			b.WriteString("[?]")
		}
	}
	return b.String()
}

// MarshalJSON encodes the path as a JSON array of strings, nulls and integers.
func (p ClaimPath) MarshalJSON() ([]byte, error) {
	out := make([]any, len(p))
	for i, e := range p {
		switch e.Kind {
		case PathName:
			out[i] = e.Name
		case PathIndex:
			out[i] = e.Index
		case PathAll:
			out[i] = nil
		default:
			return nil, fmt.Errorf("%w: path element %d has no kind", ErrInvalidPolicy, i)
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes a JSON array of strings, nulls and non-negative integers.
func (p *ClaimPath) UnmarshalJSON(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var raw []any
	if err := d.Decode(&raw); err != nil {
		return fmt.Errorf("%w: path must be an array of strings, nulls and non-negative integers", ErrInvalidPolicy)
	}
	path, err := ParseClaimPath(raw)
	if err != nil {
		return err
	}
	*p = path
	return nil
}

// ParseClaimPath converts a decoded JSON path (strings, nil, integers as json.Number, float64 or
// int) into a ClaimPath.
func ParseClaimPath(raw []any) (ClaimPath, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: empty path", ErrInvalidPolicy)
	}
	path := make(ClaimPath, len(raw))
	for i, v := range raw {
		switch x := v.(type) {
		case nil:
			path[i] = AllElements()
		case string:
			path[i] = Name(x)
		case json.Number:
			n, err := strconv.Atoi(string(x))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: path element %d is not a non-negative integer", ErrInvalidPolicy, i)
			}
			path[i] = Index(n)
		case float64:
			if x < 0 || x != math.Trunc(x) || x > math.MaxInt32 {
				return nil, fmt.Errorf("%w: path element %d is not a non-negative integer", ErrInvalidPolicy, i)
			}
			path[i] = Index(int(x))
		case int:
			if x < 0 {
				return nil, fmt.Errorf("%w: path element %d is negative", ErrInvalidPolicy, i)
			}
			path[i] = Index(x)
		default:
			return nil, fmt.Errorf("%w: path element %d has type %T", ErrInvalidPolicy, i, v)
		}
	}
	return path, nil
}

// ClaimRule is one entry of a credential definition's claims: the claim at Path is selectively
// disclosable when LimitDisclosure is true.
type ClaimRule struct {
	// Path locates the claim in the credential subject.
	Path ClaimPath `json:"path"`
	// LimitDisclosure makes the claim an SD-JWT disclosure.
	LimitDisclosure bool `json:"limitDisclosure"`
}

// neverDisclosable are the SD-JWT VC claims that are never selectively disclosable, plus the
// SD-JWT structural names. A policy naming any of them at the top level is rejected.
var neverDisclosable = map[string]bool{
	"iss": true, "vct": true, "iat": true, "nbf": true, "exp": true, "cnf": true, "status": true,
	"vct#integrity": true, sdKey: true, sdAlgKey: true, ellipsis: true,
}

// IsStructuralName reports whether name is one of SD-JWT's structural member names (_sd, _sd_alg, ...), which
// verifiers interpret at every depth, byte for byte: a claim value carrying one would let whoever wrote it plant
// digests of their own disclosures under the issuer's signature. Claims may use them nowhere.
func IsStructuralName(name string) bool { return name == sdKey || name == sdAlgKey || name == ellipsis }

// IsReservedClaim reports whether a top-level claim name is set by the issuer and never
// selectively disclosable (iss, vct, iat, nbf, exp, cnf, status, vct#integrity, _sd, _sd_alg, ...).
func IsReservedClaim(name string) bool { return neverDisclosable[name] }

// Policy is a compiled disclosure policy. The zero value and nil discloses nothing selectively.
// A Policy is immutable and safe for concurrent use.
type Policy struct {
	root *node
}

// node is the policy for one position in the claim tree.
type node struct {
	sd       bool             // the value here is its own disclosure
	members  map[string]*node // rules for object members
	all      *node            // rule for every array element
	elements map[int]*node    // rules for single array elements
}

// NewPolicy validates and compiles claim rules. Paths must be non-empty, start with a claim name
// and never name a reserved claim; structural names (_sd, _sd_alg, ...) are rejected anywhere.
// Rules with LimitDisclosure false still shape the tree (they are accepted and documented) but
// change nothing: claims no rule marks are issued in the clear.
func NewPolicy(rules []ClaimRule) (*Policy, error) {
	root := &node{}
	for i, r := range rules {
		if len(r.Path) == 0 {
			return nil, fmt.Errorf("%w: rule %d has an empty path", ErrInvalidPolicy, i)
		}
		if r.Path[0].Kind != PathName {
			return nil, fmt.Errorf("%w: rule %d: path %s must start with a claim name", ErrInvalidPolicy, i, r.Path)
		}
		if IsReservedClaim(r.Path[0].Name) {
			return nil, fmt.Errorf("%w: rule %d: claim %q is never selectively disclosable", ErrInvalidPolicy, i, r.Path[0].Name)
		}
		n := root
		for j, e := range r.Path {
			switch e.Kind {
			case PathName:
				if e.Name == sdKey || e.Name == sdAlgKey || e.Name == ellipsis {
					return nil, fmt.Errorf("%w: rule %d: path %s uses reserved name %q", ErrInvalidPolicy, i, r.Path, e.Name)
				}
				if n.all != nil || n.elements != nil {
					return nil, fmt.Errorf("%w: rule %d: path %s treats an array as an object", ErrInvalidPolicy, i, r.Path)
				}
				if n.members == nil {
					n.members = make(map[string]*node)
				}
				next := n.members[e.Name]
				if next == nil {
					next = &node{}
					n.members[e.Name] = next
				}
				n = next
			case PathIndex, PathAll:
				if j == 0 || n.members != nil {
					return nil, fmt.Errorf("%w: rule %d: path %s treats an object as an array", ErrInvalidPolicy, i, r.Path)
				}
				if e.Kind == PathAll {
					if n.all == nil {
						n.all = &node{}
					}
					n = n.all
					break
				}
				if e.Index < 0 {
					return nil, fmt.Errorf("%w: rule %d: negative index in path %s", ErrInvalidPolicy, i, r.Path)
				}
				if n.elements == nil {
					n.elements = make(map[int]*node)
				}
				next := n.elements[e.Index]
				if next == nil {
					next = &node{}
					n.elements[e.Index] = next
				}
				n = next
			default:
				return nil, fmt.Errorf("%w: rule %d: path element %d has no kind", ErrInvalidPolicy, i, j)
			}
		}
		if r.LimitDisclosure {
			n.sd = true
		}
	}
	return &Policy{root: root}, nil
}

// AllTopLevel returns the policy used when no credential definition exists: every top-level
// claim of subject is selectively disclosable. Reserved names are skipped (IssueVC rejects them).
func AllTopLevel(subject map[string]any) *Policy {
	root := &node{members: make(map[string]*node, len(subject))}
	for name := range subject {
		if !IsReservedClaim(name) {
			root.members[name] = &node{sd: true}
		}
	}
	return &Policy{root: root}
}

func (p *Policy) rootNode() *node {
	if p == nil {
		return nil
	}
	return p.root
}

// Check reports whether subject fits the policy, as IssueVC will find it: every claim the policy has member rules
// for is an object, every claim it has element rules for (an index or null) is an array. The error wraps
// ErrInvalidClaims, names the claim path (never a value) and says what to send instead; call it when claims
// are accepted, so that a misfit is refused then rather than when the wallet asks for the credential.
func (p *Policy) Check(subject map[string]any) error {
	if err := checkObject(subject, p.rootNode(), 0); err != nil {
		return fmt.Errorf("check claims: %w", err)
	}
	return nil
}

func checkObject(obj map[string]any, n *node, depth int) error {
	if n == nil || len(n.members) == 0 {
		return nil
	}
	if depth > maxJSONDepth {
		return fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
	}
	names := make([]string, 0, len(n.members))
	for name := range n.members {
		names = append(names, name)
	}
	slices.Sort(names) // the order IssueVC meets them in, so both report the same claim first
	for _, name := range names {
		v, ok := obj[name]
		if !ok {
			continue
		}
		if err := checkValue(v, n.members[name], depth+1); err != nil {
			return atClaim(err, Name(name))
		}
	}
	return nil
}

func checkValue(v any, n *node, depth int) error {
	if !n.hasRules() {
		return nil
	}
	if err := n.misfit(v); err != nil {
		return err
	}
	switch x := v.(type) {
	case map[string]any:
		return checkObject(x, n, depth)
	case []any:
		if depth > maxJSONDepth {
			return fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
		}
		for i, el := range x {
			if err := checkValue(el, n.element(i), depth+1); err != nil {
				return atClaim(err, Index(i))
			}
		}
	}
	return nil
}

// hasRules reports whether the policy says anything about the members or elements of the value at n.
func (n *node) hasRules() bool {
	return n != nil && (n.members != nil || n.all != nil || n.elements != nil)
}

// misfit explains why v cannot carry n's member or element rules, or returns nil when it can.
func (n *node) misfit(v any) error {
	const fix = "or change the credential definition's claim paths"
	wantArray := n.all != nil || n.elements != nil
	switch v.(type) {
	case map[string]any:
		if wantArray {
			return fmt.Errorf("%w: the disclosure policy has rules for elements of it but it is an object: send an "+
				"array here, %s", ErrInvalidClaims, fix)
		}
		return nil
	case []any:
		if n.members != nil {
			return fmt.Errorf("%w: the disclosure policy has rules for members of it but it is an array: send an "+
				"object here, %s", ErrInvalidClaims, fix)
		}
		return nil
	}
	return fmt.Errorf("%w: the disclosure policy has rules for members or elements of it but it is %s: send an "+
		"object or array here, %s", ErrInvalidClaims, kindOf(v), fix)
}

// kindOf names the JSON kind of a claim value, for error messages (never the value itself).
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.RawMessage:
		return "raw JSON"
	case float64, float32, int, int64, int32, uint, uint64, uint32, json.Number:
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// ClaimError locates an error in the claim tree of a credential: Path is the claim, never its value.
type ClaimError struct {
	// Path is the claim the error is about.
	Path ClaimPath
	// Err is what is wrong with it (wraps ErrInvalidClaims).
	Err error
}

// Error names the claim path and the cause.
func (e *ClaimError) Error() string { return "claim " + e.Path.String() + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ClaimError) Unwrap() error { return e.Err }

// atClaim adds a path element in front of err's claim path (errors bubble up from the deepest claim).
func atClaim(err error, el PathElement) error {
	if ce, ok := err.(*ClaimError); ok {
		ce.Path = append(ClaimPath{el}, ce.Path...)
		return ce
	}
	return &ClaimError{Path: ClaimPath{el}, Err: err}
}

// member returns the rule for object member name, or nil.
func (n *node) member(name string) *node {
	if n == nil {
		return nil
	}
	return n.members[name]
}

// element returns the rule for array element i: the "every element" rule merged with a rule for
// that index, or nil.
func (n *node) element(i int) *node {
	if n == nil {
		return nil
	}
	one := n.elements[i]
	switch {
	case one == nil:
		return n.all
	case n.all == nil:
		return one
	default:
		return mergeNodes(n.all, one)
	}
}

func mergeNodes(a, b *node) *node {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	m := &node{sd: a.sd || b.sd, all: mergeNodes(a.all, b.all)}
	if len(a.members)+len(b.members) > 0 {
		m.members = make(map[string]*node, len(a.members)+len(b.members))
		for k, v := range a.members {
			m.members[k] = v
		}
		for k, v := range b.members {
			m.members[k] = mergeNodes(m.members[k], v)
		}
	}
	if len(a.elements)+len(b.elements) > 0 {
		m.elements = make(map[int]*node, len(a.elements)+len(b.elements))
		for k, v := range a.elements {
			m.elements[k] = v
		}
		for k, v := range b.elements {
			m.elements[k] = mergeNodes(m.elements[k], v)
		}
	}
	return m
}

// Names of the disclosure mapping (the history record's disclosureMapping).
const (
	// MappingFlag is the member that carries a claim's own selective disclosure flag.
	MappingFlag = "limitedDisclosure"
	// MappingItems is the member that lists the mappings of an array's elements, by index.
	MappingItems = "items"
)

// DisclosureMapping returns the history record view of which claims of subject are selectively
// disclosable. Each claim name maps to {"limitedDisclosure": bool} plus the mappings of its own
// members when it is an object; an array maps to {"limitedDisclosure": bool, "items": [...]},
// one mapping per element in order (an element that is an object also carries its members).
// The flag is written last, so a claim literally named limitedDisclosure cannot mask it.
func (p *Policy) DisclosureMapping(subject map[string]any) map[string]any {
	return mappingObject(subject, p.rootNode(), 0)
}

func mappingObject(obj map[string]any, n *node, depth int) map[string]any {
	out := make(map[string]any, len(obj))
	for name, v := range obj {
		out[name] = mappingValue(v, n.member(name), depth+1)
	}
	return out
}

func mappingValue(v any, n *node, depth int) map[string]any {
	var m map[string]any
	if depth <= maxJSONDepth {
		switch x := v.(type) {
		case map[string]any:
			m = mappingObject(x, n, depth)
		case []any:
			items := make([]any, len(x))
			for i, el := range x {
				items[i] = mappingValue(el, n.element(i), depth+1)
			}
			m = map[string]any{MappingItems: items}
		}
	}
	if m == nil {
		m = make(map[string]any, 1)
	}
	m[MappingFlag] = n != nil && n.sd
	return m
}
