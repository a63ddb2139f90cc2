package template

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Preflight is how API Gateway answers a CORS preflight (OPTIONS) on one resource path: the mock integration of
// an options operation in the API's DefinitionBody, with the status and the static response headers its
// integration response maps (values of the form 'text' in method.response.header.<Name>).
type Preflight struct {
	// Path is the resource path, e.g. "/token".
	Path string
	// Status is the integration response's status code.
	Status int
	// Headers are the response headers, by name.
	Headers map[string]string
}

// Preflights returns the preflight answers of every API's DefinitionBody in the template at templatePath, sorted
// by path. Only mock integrations with static header values are understood; anything else fails, naming the path.
func Preflights(templatePath string) ([]Preflight, error) {
	raw, err := openRaw(templatePath, symbolicIntrinsics())
	if err != nil {
		return nil, fmt.Errorf("read preflights: %w", err)
	}
	resources, _ := raw["Resources"].(map[string]interface{})
	var out []Preflight
	for _, res := range resources {
		r, _ := res.(map[string]interface{})
		if r["Type"] != "AWS::Serverless::Api" {
			continue
		}
		props, _ := r["Properties"].(map[string]interface{})
		body, _ := props["DefinitionBody"].(map[string]interface{})
		paths, _ := body["paths"].(map[string]interface{})
		for path, ops := range paths {
			o, _ := ops.(map[string]interface{})
			opt, ok := o["options"].(map[string]interface{})
			if !ok {
				continue
			}
			p, err := preflightOf(path, opt)
			if err != nil {
				return nil, fmt.Errorf("read preflights: %w", err)
			}
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func preflightOf(path string, op map[string]interface{}) (Preflight, error) {
	integ, _ := op["x-amazon-apigateway-integration"].(map[string]interface{})
	if integ["type"] != "mock" {
		return Preflight{}, fmt.Errorf("OPTIONS %s: only mock integrations answer preflights", path)
	}
	responses, _ := integ["responses"].(map[string]interface{})
	def, _ := responses["default"].(map[string]interface{})
	status, err := strconv.Atoi(fmt.Sprint(def["statusCode"]))
	if err != nil || status < 200 || status > 299 {
		return Preflight{}, fmt.Errorf("OPTIONS %s: the default integration response needs a 2xx statusCode", path)
	}
	params, _ := def["responseParameters"].(map[string]interface{})
	p := Preflight{Path: path, Status: status, Headers: map[string]string{}}
	for k, v := range params {
		name, ok := strings.CutPrefix(k, "method.response.header.")
		s, _ := v.(string)
		if !ok || len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
			return Preflight{}, fmt.Errorf("OPTIONS %s: response parameter %s must be a static 'value' of a header", path, k)
		}
		p.Headers[name] = s[1 : len(s)-1]
	}
	return p, nil
}
