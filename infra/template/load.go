// Package template reads template.yaml, the SAM template that maps every route of the API to its function.
// The local gateway takes its routes from here (Routes), and the package's tests check the template against
// docs/design.md, the Makefile and shared/store.TableDefinition.
package template

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// goformationMu serialises template parsing: goformation registers its YAML tag resolvers in a package-level
// map on every parse, which is a data race when two goroutines parse at once.
var goformationMu sync.Mutex

// symbolicIntrinsics keeps references readable instead of resolving them. goformation resolves Ref only to
// parameter defaults and turns Fn::GetAtt into null, which would hide exactly what the tests check (which
// resource a policy names). Every reference becomes the Fn::Sub spelling of itself: Ref X is "${X}",
// Fn::GetAtt [X, Arn] is "${X.Arn}", and Fn::Sub strings are kept as written. The one exception is a Ref to a
// Number parameter with a default: it resolves to that number, because goformation's typed properties (e.g.
// RetentionInDays) do not accept a string there. openRaw shows such a Ref as written.
func symbolicIntrinsics() *intrinsics.ProcessorOptions {
	return &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        symbolicRef,
			"Fn::GetAtt": symbolicGetAtt,
			"Fn::Sub":    symbolicSub,
		},
	}
}

func symbolicRef(_ string, input interface{}, template interface{}) interface{} {
	name, ok := input.(string)
	if !ok {
		return nil
	}
	if def, ok := numberParameterDefault(template, name); ok {
		return def
	}
	return "${" + name + "}"
}

// numberParameterDefault returns the default of the template's parameter name when it is a Number parameter.
func numberParameterDefault(template interface{}, name string) (float64, bool) {
	root, ok := template.(map[string]interface{})
	if !ok {
		return 0, false
	}
	params, ok := root["Parameters"].(map[string]interface{})
	if !ok {
		return 0, false
	}
	param, ok := params[name].(map[string]interface{})
	if !ok || param["Type"] != "Number" {
		return 0, false
	}
	def, ok := param["Default"].(float64)
	return def, ok
}

func symbolicGetAtt(_ string, input interface{}, _ interface{}) interface{} {
	switch v := input.(type) {
	case string:
		return "${" + v + "}"
	case []interface{}:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			s, ok := p.(string)
			if !ok {
				return nil
			}
			parts = append(parts, s)
		}
		return "${" + strings.Join(parts, ".") + "}"
	}
	return nil
}

func symbolicSub(_ string, input interface{}, _ interface{}) interface{} {
	switch v := input.(type) {
	case string:
		return v
	case []interface{}:
		if len(v) > 0 {
			if s, ok := v[0].(string); ok {
				return s
			}
		}
	}
	return nil
}

// open parses the SAM template at path with references kept symbolic (see symbolicIntrinsics).
func open(path string) (*cloudformation.Template, error) {
	goformationMu.Lock()
	defer goformationMu.Unlock()
	t, err := goformation.OpenWithOptions(path, symbolicIntrinsics())
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return t, nil
}

// openRaw parses the SAM template at path into plain maps and slices, for properties goformation does not model
// and for checks that must see a list exactly as written. With nil options intrinsic functions stay in their long
// form ({"Ref": "X"}, {"Fn::GetAtt": ["X", "Arn"]}); with symbolicIntrinsics() they read as in open.
func openRaw(path string, options *intrinsics.ProcessorOptions) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	if options == nil {
		options = &intrinsics.ProcessorOptions{NoProcess: true}
	}
	goformationMu.Lock()
	processed, err := intrinsics.ProcessYAML(data, options)
	goformationMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	var raw map[string]interface{}
	if err := json.Unmarshal(processed, &raw); err != nil {
		return nil, fmt.Errorf("decode template %s: %w", path, err)
	}
	return raw, nil
}
