package template

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	readmeFile    = "../../README.md"
	samconfigFile = "../../samconfig.toml"
)

var (
	paramRowRe     = regexp.MustCompile("(?m)^\\| `(\\w+)` \\| ([^|]*) \\|")
	overridesRe    = regexp.MustCompile(`--parameter-overrides\s+((?:\w+=\S+\s*)+)`)
	overridePairRe = regexp.MustCompile(`(\w+)=(\S+)`)
	ssmPutNameRe   = regexp.MustCompile(`aws ssm put-parameter --name (\S+)`)
	cliFlagRe      = regexp.MustCompile(`sam deploy[^\n]*--(stack-name|capabilities|region)\s+(\S+)`)
	tomlStringRe   = regexp.MustCompile(`(?m)^(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"`)
	tomlOverrideRe = regexp.MustCompile(`(\w+)=\\"([^"\\]*)\\"`)
	stackMentionRe = regexp.MustCompile("stack name `([^`]+)`")
	explainedRe    = regexp.MustCompile(`(?m)^#\s+(?:or\s+)?([A-Z][A-Za-z]+)\s{2,}\S`)
)

// section returns the markdown section that starts with heading, up to the next heading of the same level.
func section(doc, heading string) string {
	i := strings.Index(doc, heading+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(heading):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// required is the default text of a template parameter without a default.
const required = "required"

// checkDeployDocs compares README.md's "Deploy with SAM" section and samconfig.toml with the template's parameters
// (name -> default as text, required for none): the parameter table lists exactly the template's parameters with
// their defaults, the commands pass only template parameters and put the SSM parameter they deploy with (on the
// command line or from samconfig), the stack name and CLI flags agree with samconfig, and samconfig's
// parameter_overrides name only template parameters, set every required one, and (with its comments) explain
// every parameter.
func checkDeployDocs(readme, samconfig string, params map[string]string) []string {
	var problems []string
	sec := section(readme, "## Deploy with SAM")
	if sec == "" {
		return []string{`README.md has no "## Deploy with SAM" section`}
	}
	toml := map[string]string{}
	for _, m := range tomlStringRe.FindAllStringSubmatch(samconfig, -1) {
		toml[m[1]] = m[2]
	}
	stack := toml["stack_name"]
	if stack == "" {
		problems = append(problems, "samconfig.toml has no stack_name")
	}

	// The parameter table, both ways.
	listed := map[string]bool{}
	for _, m := range paramRowRe.FindAllStringSubmatch(sec, -1) {
		name, def := m[1], strings.TrimSpace(m[2])
		want, ok := params[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("README lists parameter %s, which template.yaml lacks", name))
		case want == required && def != required:
			problems = append(problems, fmt.Sprintf("README gives %s the default %q; template.yaml has none (required)", name, def))
		case want == "" && !strings.HasPrefix(def, "empty"):
			problems = append(problems, fmt.Sprintf("README gives %s the default %q; template.yaml has none (empty)", name, def))
		case want != "" && strings.Trim(def, "`") != want:
			problems = append(problems, fmt.Sprintf("README gives %s the default %q; template.yaml has %q", name, def, want))
		}
		listed[name] = true
	}
	for name := range params {
		if !listed[name] {
			problems = append(problems, fmt.Sprintf("template parameter %s is missing from README's parameter table", name))
		}
	}

	// samconfig.toml's parameters: what a plain `sam deploy` passes.
	deployed := map[string]string{}
	overrides := map[string]bool{}
	for _, m := range tomlOverrideRe.FindAllStringSubmatch(toml["parameter_overrides"], -1) {
		if _, ok := params[m[1]]; !ok {
			problems = append(problems, fmt.Sprintf("samconfig.toml overrides parameter %s, which template.yaml lacks", m[1]))
		}
		overrides[m[1]] = true
		deployed[m[1]] = m[2]
	}
	for name, def := range params {
		if def == required && !overrides[name] {
			problems = append(problems, fmt.Sprintf("samconfig.toml does not set the required parameter %s", name))
		}
	}

	// The commands (a --parameter-overrides replaces samconfig's list).
	for _, m := range overridesRe.FindAllStringSubmatch(sec, -1) {
		for _, p := range overridePairRe.FindAllStringSubmatch(m[1], -1) {
			if strings.Contains(m[0], "AdminApiKeyHashes=") {
				continue // the inline alternative, not the SSM flow
			}
			if _, ok := params[p[1]]; !ok {
				problems = append(problems, fmt.Sprintf("README deploys with parameter %s, which template.yaml lacks", p[1]))
			}
			deployed[p[1]] = strings.Trim(p[2], "`")
		}
	}
	puts := ssmPutNameRe.FindAllStringSubmatch(sec, -1)
	if len(puts) == 0 {
		problems = append(problems, "README does not show how to put the admin key hashes into SSM")
	}
	for _, m := range puts {
		if deployed["AdminApiKeyHashesParameter"] != m[1] {
			problems = append(problems, fmt.Sprintf("README puts SSM parameter %s but deploys with AdminApiKeyHashesParameter=%q",
				m[1], deployed["AdminApiKeyHashesParameter"]))
		}
		if stack != "" && !strings.HasPrefix(m[1], "/"+stack+"/") {
			problems = append(problems, fmt.Sprintf("README's SSM parameter %s is not under the stack name /%s/", m[1], stack))
		}
	}
	for _, m := range cliFlagRe.FindAllStringSubmatch(sec, -1) {
		key := strings.ReplaceAll(m[1], "-", "_")
		if got, ok := toml[key]; ok && got != m[2] {
			problems = append(problems, fmt.Sprintf("README deploys with --%s %s, samconfig.toml has %s", m[1], m[2], got))
		}
	}
	for _, m := range stackMentionRe.FindAllStringSubmatch(sec, -1) {
		if m[1] != stack {
			problems = append(problems, fmt.Sprintf("README names the stack %q, samconfig.toml's stack_name is %q", m[1], stack))
		}
	}

	// Each parameter not overridden has a line of its own in the comments: "#   [or ]Name   what it is".
	explained := map[string]bool{}
	for _, m := range explainedRe.FindAllStringSubmatch(samconfig, -1) {
		if _, ok := params[m[1]]; !ok {
			problems = append(problems, fmt.Sprintf("samconfig.toml explains parameter %s, which template.yaml lacks", m[1]))
		}
		explained[m[1]] = true
	}
	for name := range params {
		if !overrides[name] && !explained[name] {
			problems = append(problems, fmt.Sprintf("samconfig.toml neither sets nor explains parameter %s", name))
		}
	}
	sort.Strings(problems)
	return problems
}

// templateParameters is every parameter of the template with its default as text ("" for none).
func templateParameters(t *testing.T) map[string]string {
	t.Helper()
	tpl, err := open(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, p := range tpl.Parameters {
		switch d := p.Default.(type) {
		case nil:
			out[name] = required
		case string:
			out[name] = d
		case float64:
			out[name] = strconv.FormatFloat(d, 'f', -1, 64)
		default:
			out[name] = fmt.Sprint(d)
		}
	}
	return out
}

// TestREADMEDeploySection checks README.md's deploy section and samconfig.toml against template.yaml, and that
// the check catches each way they can drift apart.
func TestREADMEDeploySection(t *testing.T) {
	readme, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	samconfig, err := os.ReadFile(samconfigFile)
	if err != nil {
		t.Fatal(err)
	}
	params := templateParameters(t)
	for _, p := range checkDeployDocs(string(readme), string(samconfig), params) {
		t.Error(p)
	}

	drifts := []struct {
		name               string
		file               string // "readme", "samconfig" or "template"
		old, new, mentions string
	}{
		{"README lists a parameter the template lacks", "readme", "| `Stage` |", "| `StageName` |", "StageName"},
		{"README misses a parameter", "readme", "| `EventSource` | `sdjwt-issuer` | `source` of the events the issuer publishes |\n", "", "EventSource"},
		{"README's default differs", "readme", "| `Stage` | `prod` |", "| `Stage` | `live` |", "Stage"},
		{"README deploys with an unknown parameter", "readme", "sam deploy                                       # samconfig.toml",
			"sam deploy --parameter-overrides AdminKeysParameter=x # samconfig.toml", "AdminKeysParameter"},
		{"README puts another SSM parameter than samconfig deploys with", "readme", "--name /sdjwt-issuer/admin-api-key-hashes",
			"--name /sdjwt-issuer/admin-keys", "/sdjwt-issuer/admin-keys"},
		{"README lists a required parameter with a default", "readme", "| `CompletionEventSource` | required |", "| `CompletionEventSource` | `com.example.hr` |", "CompletionEventSource"},
		{"samconfig misses a required parameter", "samconfig", ` CompletionEventSource=\"com.example.hr\"`, "", "CompletionEventSource"},
		{"README names another stack", "readme", "stack name `sdjwt-issuer`", "stack name `issuer`", "issuer"},
		{"template gains a parameter", "template", "", "", "NewParameter"},
		{"samconfig overrides an unknown parameter", "samconfig", `EventSource=\"sdjwt-issuer\"`, `Source=\"sdjwt-issuer\"`, "Source"},
		{"samconfig forgets a parameter", "samconfig", "#   or AdminApiKeyHashes        the hashes", "#   or the hashes themselves", "AdminApiKeyHashes"},
		{"samconfig explains a parameter the template lacks", "samconfig", "#   EventSource ", "#   EventSources", "EventSources"},
		{"samconfig's stack differs from the README's SSM names", "samconfig", `stack_name = "sdjwt-issuer"`, `stack_name = "issuer-prod"`, "issuer-prod"},
	}
	for _, d := range drifts {
		t.Run(d.name, func(t *testing.T) {
			r, s, p := string(readme), string(samconfig), map[string]string{}
			for k, v := range params {
				p[k] = v
			}
			switch d.file {
			case "readme":
				if !strings.Contains(r, d.old) {
					t.Fatalf("README.md does not contain %q: update this case", d.old)
				}
				r = strings.Replace(r, d.old, d.new, 1)
			case "samconfig":
				if !strings.Contains(s, d.old) {
					t.Fatalf("samconfig.toml does not contain %q: update this case", d.old)
				}
				s = strings.Replace(s, d.old, d.new, 1)
			case "template":
				p[d.mentions] = ""
			}
			problems := checkDeployDocs(r, s, p)
			caught := false
			for _, pr := range problems {
				if strings.Contains(pr, d.mentions) {
					caught = true
				}
			}
			if !caught {
				t.Errorf("no problem mentions %q: %v", d.mentions, problems)
			}
		})
	}
}
