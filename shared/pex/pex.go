// Package pex is DIF Presentation Exchange 2.0 as this issuer uses it when it is the verifier of a dynamic
// credential request with a wallet of an OpenID4VP draft: the presentation definition an organisation stores
// (Parse, validated on the way in with every fault an error naming the member) and the check that a wallet's
// presentation_submission and its verified credentials satisfy it (Evaluate). Field paths are RFC 9535 JSONPath
// (github.com/theory/jsonpath), filters JSON Schema (github.com/santhosh-tekuri/jsonschema, never loading a
// remote or local document). Only SD-JWT VC presentations are verified by this issuer. No I/O.
package pex

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/theory/jsonpath"

	"github.com/sdjwt-issuer/issuer/shared/strictjson"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Formats are the claim format designations (Presentation Exchange registry) of SD-JWT VC this issuer verifies:
// vc+sd-jwt of the drafts and the later dc+sd-jwt.
var Formats = []string{"vc+sd-jwt", "dc+sd-jwt"}

// Limits of a stored definition.
const (
	MaxInputDescriptors = 20
	MaxFields           = 64
	MaxPaths            = 8
	MaxPathLength       = 256
)

// Definition is a presentation definition (Presentation Exchange 2.0 section 5). Members this issuer does not
// know are ignored; members whose meaning it cannot verify are refused when the definition is stored.
type Definition struct {
	ID                     string            `json:"id"`
	Name                   string            `json:"name,omitempty"`
	Purpose                string            `json:"purpose,omitempty"`
	Format                 map[string]any    `json:"format,omitempty"`
	InputDescriptors       []InputDescriptor `json:"input_descriptors"`
	SubmissionRequirements jsontext.Value    `json:"submission_requirements,omitempty"`
	Frame                  jsontext.Value    `json:"frame,omitempty"`
}

// InputDescriptor describes one credential the holder must present.
type InputDescriptor struct {
	ID          string         `json:"id"`
	Name        string         `json:"name,omitempty"`
	Purpose     string         `json:"purpose,omitempty"`
	Format      map[string]any `json:"format,omitempty"`
	Group       []string       `json:"group,omitempty"`
	Constraints *Constraints   `json:"constraints"`

	fields []compiledField
}

// Constraints are what the credential of an input descriptor must hold.
type Constraints struct {
	LimitDisclosure string         `json:"limit_disclosure,omitempty"`
	Fields          []Field        `json:"fields,omitempty"`
	Statuses        jsontext.Value `json:"statuses,omitempty"`
	SubjectIsIssuer jsontext.Value `json:"subject_is_issuer,omitempty"`
	IsHolder        jsontext.Value `json:"is_holder,omitempty"`
	SameSubject     jsontext.Value `json:"same_subject,omitempty"`
}

// Field is one constraint: a claim found at one of the paths, valid against the filter when there is one.
type Field struct {
	ID             string         `json:"id,omitempty"`
	Path           []string       `json:"path"`
	Purpose        string         `json:"purpose,omitempty"`
	Name           string         `json:"name,omitempty"`
	Filter         jsontext.Value `json:"filter,omitempty"`
	Optional       bool           `json:"optional,omitempty"`
	IntentToRetain bool           `json:"intent_to_retain,omitempty"`
	Predicate      string         `json:"predicate,omitempty"`
}

// compiledField is a field ready to evaluate.
type compiledField struct {
	field  *Field
	paths  []*jsonpath.Path
	filter *jsonschema.Schema
}

// Parse reads a stored or submitted definition (strict JSON) and validates it; field prefixes every error's field
// ("presentationDefinition").
func Parse(raw []byte, field string) (*Definition, error) {
	var d Definition
	if err := strictjson.Unmarshal(raw, &d); err != nil {
		var e *strictjson.Error
		if errors.As(err, &e) {
			return nil, validation.Invalid(field+validation.PointerField(e.Path), "%s", e.Reason)
		}
		return nil, validation.Invalid(field, "is not a JSON object")
	}
	if err := d.validate(field); err != nil {
		return nil, err
	}
	return &d, nil
}

func (d *Definition) validate(f string) error {
	if d.ID == "" || !validation.Printable(d.ID) {
		return validation.Invalid(f+".id", "is required: a non-empty string naming the definition")
	}
	if len(d.SubmissionRequirements) > 0 {
		return validation.Invalid(f+".submission_requirements", "is not supported: every input descriptor is "+
			"required; remove submission_requirements and list only the descriptors the holder must satisfy")
	}
	if len(d.Frame) > 0 {
		return validation.Invalid(f+".frame", "is not supported (JSON-LD framing): remove it")
	}
	if err := checkFormat(d.Format, f+".format"); err != nil {
		return err
	}
	if len(d.InputDescriptors) == 0 {
		return validation.Invalid(f+".input_descriptors", "is required: a non-empty array of input descriptors")
	}
	if len(d.InputDescriptors) > MaxInputDescriptors {
		return validation.Invalid(f+".input_descriptors", "holds more than %d input descriptors", MaxInputDescriptors)
	}
	ids := map[string]bool{}
	for i := range d.InputDescriptors {
		df := fmt.Sprintf("%s.input_descriptors[%d]", f, i)
		in := &d.InputDescriptors[i]
		if in.ID == "" || !validation.Printable(in.ID) {
			return validation.Invalid(df+".id", "is required: a non-empty string")
		}
		if ids[in.ID] {
			return validation.Invalid(df+".id", "repeats the id of another input descriptor; each must be unique")
		}
		ids[in.ID] = true
		if err := checkFormat(in.Format, df+".format"); err != nil {
			return err
		}
		if err := in.compile(df); err != nil {
			return err
		}
	}
	return nil
}

// checkFormat accepts no format, or one that names an SD-JWT VC designation.
func checkFormat(format map[string]any, field string) error {
	if format == nil {
		return nil
	}
	for _, name := range Formats {
		if _, ok := format[name]; ok {
			return nil
		}
	}
	return validation.Invalid(field, "names no format this issuer verifies: include \"vc+sd-jwt\" (or \"dc+sd-jwt\"), "+
		"the SD-JWT VC designations")
}

// compile validates the constraints and prepares the paths and filters.
func (in *InputDescriptor) compile(df string) error {
	c := in.Constraints
	if c == nil {
		return validation.Invalid(df+".constraints", "is required: {\"fields\": [...]} with at least the field that names the credential type ($.vct)")
	}
	cf := df + ".constraints"
	switch c.LimitDisclosure {
	case "", "required", "preferred":
	default:
		return validation.Invalid(cf+".limit_disclosure", "must be \"required\" or \"preferred\"")
	}
	for name, v := range map[string]jsontext.Value{"statuses": c.Statuses, "subject_is_issuer": c.SubjectIsIssuer,
		"is_holder": c.IsHolder, "same_subject": c.SameSubject} {
		if len(v) > 0 {
			return validation.Invalid(cf+"."+name, "is not supported: remove it (the issuer checks every credential's "+
				"status list and key binding itself)")
		}
	}
	if len(c.Fields) == 0 {
		return validation.Invalid(cf+".fields", "is required: a non-empty array of fields")
	}
	if len(c.Fields) > MaxFields {
		return validation.Invalid(cf+".fields", "holds more than %d fields", MaxFields)
	}
	in.fields = make([]compiledField, len(c.Fields))
	for i := range c.Fields {
		ff := fmt.Sprintf("%s.fields[%d]", cf, i)
		fl := &c.Fields[i]
		if fl.Predicate != "" {
			return validation.Invalid(ff+".predicate", "is not supported: remove it and disclose the claim")
		}
		if len(fl.Path) == 0 || len(fl.Path) > MaxPaths {
			return validation.Invalid(ff+".path", "is required: a non-empty array of at most %d JSONPath expressions", MaxPaths)
		}
		cfd := compiledField{field: fl}
		for j, p := range fl.Path {
			if len(p) > MaxPathLength {
				return validation.Invalid(fmt.Sprintf("%s.path[%d]", ff, j), "is longer than %d characters", MaxPathLength)
			}
			jp, err := jsonpath.Parse(p)
			if err != nil {
				return validation.Invalid(fmt.Sprintf("%s.path[%d]", ff, j), "is not a JSONPath expression (RFC 9535), e.g. \"$.vct\"")
			}
			cfd.paths = append(cfd.paths, jp)
		}
		if len(fl.Filter) > 0 {
			sch, err := compileFilter(fl.Filter)
			if err != nil {
				return validation.Invalid(ff+".filter", "is not a JSON Schema this issuer can evaluate: %s", err.Error())
			}
			cfd.filter = sch
		}
		in.fields[i] = cfd
	}
	return nil
}

// refuseLoader keeps filters self-contained: a $ref to any document is an error, never a file or network read.
type refuseLoader struct{}

func (refuseLoader) Load(string) (any, error) {
	return nil, errors.New("$ref to another document")
}

// compileFilter compiles a filter as JSON Schema (draft 7 unless it names another, as Presentation Exchange 2.0
// does).
func compileFilter(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, errors.New("not JSON")
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("a filter must be a JSON object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(refuseLoader{})
	const loc = "urn:sdjwt-issuer:pex-filter"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, errors.New("not a schema")
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, errors.New("the schema does not compile")
	}
	return sch, nil
}
