package pex

import (
	"errors"
	"fmt"
	"slices"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/theory/jsonpath"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
)

// ErrNotSatisfied is what Evaluate returns (wrapped, with the reason) when a submission does not satisfy the
// definition. Reasons name input descriptors and fields of the stored definition, never a presented value.
var ErrNotSatisfied = errors.New("the presentation submission does not satisfy the presentation definition")

// ErrSubmission is a presentation_submission that is not well formed.
var ErrSubmission = errors.New("invalid presentation_submission")

// Submission is a wallet's presentation_submission (Presentation Exchange 2.0 section 6).
type Submission struct {
	ID            string       `json:"id"`
	DefinitionID  string       `json:"definition_id"`
	DescriptorMap []Descriptor `json:"descriptor_map"`
}

// Descriptor maps an input descriptor to a presentation in the vp_token.
type Descriptor struct {
	ID         string         `json:"id"`
	Format     string         `json:"format"`
	Path       string         `json:"path"`
	PathNested jsontext.Value `json:"path_nested,omitempty"`
}

// MaxDescriptors bounds a submission's descriptor map.
const MaxDescriptors = 64

// ParseSubmission reads a presentation_submission (strict JSON).
func ParseSubmission(raw []byte) (*Submission, error) {
	var s Submission
	if err := strictjson.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSubmission, err)
	}
	switch {
	case s.ID == "":
		return nil, fmt.Errorf("%w: id is required", ErrSubmission)
	case s.DefinitionID == "":
		return nil, fmt.Errorf("%w: definition_id is required", ErrSubmission)
	case len(s.DescriptorMap) == 0:
		return nil, fmt.Errorf("%w: descriptor_map is required", ErrSubmission)
	case len(s.DescriptorMap) > MaxDescriptors:
		return nil, fmt.Errorf("%w: descriptor_map holds more than %d entries", ErrSubmission, MaxDescriptors)
	}
	for i, d := range s.DescriptorMap {
		if d.ID == "" || d.Format == "" || d.Path == "" {
			return nil, fmt.Errorf("%w: descriptor_map[%d] needs id, format and path", ErrSubmission, i)
		}
		if len(d.PathNested) > 0 {
			return nil, fmt.Errorf("%w: descriptor_map[%d].path_nested is not supported: map the SD-JWT VC itself", ErrSubmission, i)
		}
	}
	return &s, nil
}

// Presented is one verified SD-JWT VC of the vp_token, as Evaluate checks it.
type Presented struct {
	// Typ is the issuer-signed JWT's typ.
	Typ string
	// Claims are the verified claims (numbers as json.Number), vct and iss among them.
	Claims map[string]any
}

func notSatisfied(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSatisfied, fmt.Sprintf(format, args...))
}

// Evaluate checks the submission against the definition and the presentations of the vp_token (single: the
// vp_token was one string, addressed as "$"; else an array addressed as "$[i]"): it names this definition, every
// input descriptor is mapped, every mapped presentation is an SD-JWT VC that satisfies its descriptor's fields, and
// every presentation of the vp_token is mapped. It returns, per input descriptor id, the indexes of the
// presentations mapped to it.
func (d *Definition) Evaluate(sub *Submission, presented []Presented, single bool) (map[string][]int, error) {
	if sub.DefinitionID != d.ID {
		return nil, notSatisfied("definition_id does not name the requested presentation definition")
	}
	byID := make(map[string]*InputDescriptor, len(d.InputDescriptors))
	for i := range d.InputDescriptors {
		byID[d.InputDescriptors[i].ID] = &d.InputDescriptors[i]
	}
	out := map[string][]int{}
	used := make([]bool, len(presented))
	for i, m := range sub.DescriptorMap {
		in, ok := byID[m.ID]
		if !ok {
			return nil, notSatisfied("descriptor_map[%d] names an input descriptor the definition does not have", i)
		}
		if !slices.Contains(Formats, m.Format) {
			return nil, notSatisfied("descriptor_map[%d].format is not an SD-JWT VC format (vc+sd-jwt or dc+sd-jwt)", i)
		}
		idx, err := tokenIndex(m.Path, len(presented), single)
		if err != nil {
			return nil, fmt.Errorf("descriptor_map[%d].path: %w", i, err)
		}
		p := &presented[idx]
		if !slices.Contains(Formats, p.Typ) {
			return nil, notSatisfied("input descriptor %s: the presentation is not an SD-JWT VC", in.ID)
		}
		if err := in.satisfiedBy(p.Claims); err != nil {
			return nil, err
		}
		used[idx] = true
		out[in.ID] = append(out[in.ID], idx)
	}
	for _, in := range d.InputDescriptors {
		if len(out[in.ID]) == 0 {
			return nil, notSatisfied("input descriptor %s: no presentation is mapped to it", in.ID)
		}
	}
	for i, u := range used {
		if !u {
			return nil, notSatisfied("vp_token presentation %d is not in the descriptor_map", i)
		}
	}
	return out, nil
}

// tokenIndex resolves a descriptor path against the vp_token's shape with the JSONPath library: "$" for a single
// presentation, "$[i]" for the i-th of an array. Anything that selects other than exactly one presentation is
// refused.
func tokenIndex(path string, n int, single bool) (int, error) {
	p, err := jsonpath.Parse(path)
	if err != nil {
		return 0, fmt.Errorf("%w: not a JSONPath expression", ErrSubmission)
	}
	var doc any
	if single {
		doc = 0
	} else {
		idx := make([]any, n)
		for i := range idx {
			idx[i] = i
		}
		doc = idx
	}
	nodes := p.Select(doc)
	if len(nodes) != 1 {
		return 0, fmt.Errorf("%w: selects no single presentation of the vp_token", ErrSubmission)
	}
	i, ok := nodes[0].(int)
	if !ok || i < 0 || i >= n {
		return 0, fmt.Errorf("%w: selects no single presentation of the vp_token", ErrSubmission)
	}
	return i, nil
}

// satisfiedBy checks every field that is not optional: one of its paths selects a claim, valid against the filter
// when there is one.
func (in *InputDescriptor) satisfiedBy(claims map[string]any) error {
	for i, f := range in.fields {
		if f.field.Optional {
			continue
		}
		if !f.matches(claims) {
			name := f.field.ID
			if name == "" {
				name = fmt.Sprintf("fields[%d]", i)
			}
			return notSatisfied("input descriptor %s: field %s is not disclosed with a value its filter accepts", in.ID, name)
		}
	}
	return nil
}

func (f *compiledField) matches(claims map[string]any) bool {
	for _, p := range f.paths {
		for _, v := range p.Select(claims) {
			if f.filter == nil || f.filter.Validate(v) == nil {
				return true
			}
		}
	}
	return false
}

// DescriptorIDs lists the ids of the input descriptors, in order.
func (d *Definition) DescriptorIDs() []string {
	out := make([]string, len(d.InputDescriptors))
	for i, in := range d.InputDescriptors {
		out[i] = in.ID
	}
	return out
}
