package template

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"
)

// Repository files the template is checked against, relative to this package.
const (
	templateFile = "../../template.yaml"
	designFile   = "../../docs/design.md"
	makefile     = "../../Makefile"
	repoRoot     = "../.."
)

// fixture is everything one run of the checks reads: the template three ways, and what it must agree with.
type fixture struct {
	tpl      *cloudformation.Template // goformation, references kept symbolic ("${X}", "${X.Arn}")
	resolved map[string]interface{}   // same processing as tpl, as plain maps
	written  map[string]interface{}   // intrinsics in long form, exactly as written
	routes   []Route                  // Routes(templatePath)
	design   design
	targets  map[string]string // Makefile: LogicalId -> functions/<dir> of its build-<LogicalId> target
	root     string            // repository root, for functions/<dir>
	path     string            // the template file
}

// design is what docs/design.md says about functions and routes.
type design struct {
	dirs        map[string]string // LogicalId -> dir (functions/<dir>)
	routes      []Route
	detailTypes map[string][]string // LogicalId -> EventBridge detail-types its rule receives
	streams     map[string]string   // LogicalId -> the table whose stream invokes it
}

func loadFixture(t *testing.T, templatePath string) *fixture {
	t.Helper()
	tpl, err := open(templatePath)
	if err != nil {
		t.Fatalf("open template: %v", err)
	}
	resolved, err := openRaw(templatePath, symbolicIntrinsics())
	if err != nil {
		t.Fatalf("open template: %v", err)
	}
	written, err := openRaw(templatePath, nil)
	if err != nil {
		t.Fatalf("open template: %v", err)
	}
	routes, err := Routes(templatePath)
	if err != nil {
		t.Fatalf("Routes: %v", err)
	}
	d, err := parseDesign(designFile)
	if err != nil {
		t.Fatalf("parse %s: %v", designFile, err)
	}
	targets, err := parseMakefileTargets(makefile)
	if err != nil {
		t.Fatalf("parse %s: %v", makefile, err)
	}
	return &fixture{tpl: tpl, resolved: resolved, written: written, routes: routes, design: d, targets: targets, root: repoRoot,
		path: templatePath}
}

var (
	adminBaseRe  = regexp.MustCompile("Admin base path `A` =\\s*`([^`]+)`")
	routeSpecRe  = regexp.MustCompile(`^((?:GET|POST|PUT|PATCH|DELETE)(?:,\s*(?:GET|POST|PUT|PATCH|DELETE))*)\s+(\S+)`)
	detailTypeRe = regexp.MustCompile(`^EventBridge rule:\s*detail-type\s+(.+)$`)
	streamRe     = regexp.MustCompile(`^DynamoDB stream of (\w+)`)
)

// parseDesign reads the "Functions and routes" table of docs/design.md: `| Logical ID | dir | routes |`, routes
// separated by ";", each "METHOD[, METHOD...] PATH [comment]" with "A/" standing for the admin base path, or
// "EventBridge rule: detail-type X, Y".
func parseDesign(file string) (design, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return design{}, err
	}
	text := string(data)
	m := adminBaseRe.FindStringSubmatch(text)
	if m == nil {
		return design{}, fmt.Errorf("no admin base path definition")
	}
	base := strings.TrimSuffix(m[1], "/")
	d := design{dirs: map[string]string{}, detailTypes: map[string][]string{}, streams: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 3 {
			continue
		}
		id := strings.TrimSpace(cells[0])
		dir := strings.TrimSpace(cells[1])
		if !strings.HasSuffix(id, "Function") || !strings.HasPrefix(dir, "functions/") {
			continue
		}
		d.dirs[id] = strings.TrimPrefix(dir, "functions/")
		for _, spec := range strings.Split(cells[2], ";") {
			spec = strings.TrimSpace(spec)
			if st := streamRe.FindStringSubmatch(spec); st != nil {
				d.streams[id] = st[1]
				continue
			}
			if dt := detailTypeRe.FindStringSubmatch(spec); dt != nil {
				for _, name := range strings.Split(dt[1], ",") {
					d.detailTypes[id] = append(d.detailTypes[id], strings.TrimSpace(name))
				}
				continue
			}
			rm := routeSpecRe.FindStringSubmatch(spec)
			if rm == nil {
				return design{}, fmt.Errorf("%s: cannot read route %q", id, spec)
			}
			p := rm[2]
			if strings.HasPrefix(p, "A/") {
				p = base + p[1:]
			}
			for _, method := range strings.Split(rm[1], ",") {
				d.routes = append(d.routes, Route{Method: strings.TrimSpace(method), Path: p, FunctionLogicalID: id})
			}
		}
	}
	if len(d.dirs) == 0 {
		return design{}, fmt.Errorf("no function table")
	}
	sortRoutes(d.routes)
	return d, nil
}

var (
	samTargetRe = regexp.MustCompile(`\$\(call\s+sam_target,\s*(\w+)\s*,\s*([\w.-]+)\s*\)`)
	ruleRe      = regexp.MustCompile(`(?m)^build-(\w+):.*\n\t.*\./functions/([\w.-]+)`)
)

// parseMakefileTargets finds every build-<LogicalId> target of the Makefile and the ./functions/<dir> it builds,
// whether written out or generated with the sam_target macro.
func parseMakefileTargets(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	targets := map[string]string{}
	for _, m := range samTargetRe.FindAllStringSubmatch(string(data), -1) {
		targets[m[1]] = m[2]
	}
	for _, m := range ruleRe.FindAllStringSubmatch(string(data), -1) {
		targets[m[1]] = m[2]
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no build-<LogicalId> targets")
	}
	return targets, nil
}

func sortRoutes(r []Route) {
	sort.Slice(r, func(i, j int) bool {
		if r[i].Path != r[j].Path {
			return r[i].Path < r[j].Path
		}
		return r[i].Method < r[j].Method
	})
}

// properties returns the Properties of resource id in a parsed template tree, or nil.
func (f *fixture) properties(tree map[string]interface{}, id string) map[string]interface{} {
	res, _ := tree["Resources"].(map[string]interface{})
	r, _ := res[id].(map[string]interface{})
	p, _ := r["Properties"].(map[string]interface{})
	return p
}

// functionIDs lists the template's AWS::Serverless::Function logical IDs, sorted.
func (f *fixture) functionIDs() []string {
	var ids []string
	for id := range f.tpl.GetAllServerlessFunctionResources() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// statement is one IAM policy statement with its actions and resources as lists.
type statement struct {
	where     string
	effect    string
	actions   []string
	resources []string
	raw       map[string]interface{}
}

// statements reads the Statement list of a policy document (a map with "Statement").
func statements(where string, doc interface{}) ([]statement, []string) {
	m, ok := doc.(map[string]interface{})
	if !ok {
		return nil, []string{fmt.Sprintf("%s: not an inline policy document: %v", where, doc)}
	}
	var list []interface{}
	switch s := m["Statement"].(type) {
	case []interface{}:
		list = s
	case map[string]interface{}:
		list = []interface{}{s}
	default:
		return nil, []string{fmt.Sprintf("%s: policy document without Statement", where)}
	}
	var out []statement
	var problems []string
	for i, item := range list {
		st, ok := item.(map[string]interface{})
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: statement %d is not a map", where, i))
			continue
		}
		w := fmt.Sprintf("%s statement %d", where, i)
		if sid, ok := st["Sid"].(string); ok {
			w = fmt.Sprintf("%s statement %s", where, sid)
		}
		for _, forbidden := range []string{"NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := st[forbidden]; ok {
				problems = append(problems, fmt.Sprintf("%s: uses %s", w, forbidden))
			}
		}
		effect, _ := st["Effect"].(string)
		out = append(out, statement{where: w, effect: effect, actions: strs(st["Action"]), resources: strs(st["Resource"]), raw: st})
	}
	return out, problems
}

// strs reads a string or a list of strings; anything else (an unresolved reference) reads as "<?>".
func strs(v interface{}) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []interface{}:
		var out []string
		for _, e := range x {
			out = append(out, strs(e)...)
		}
		return out
	default:
		return []string{"<?>"}
	}
}

// actionMatches says whether an IAM action pattern (wildcards allowed, case-insensitive) covers action.
func actionMatches(pattern, action string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return err == nil && ok
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// functionDir is where a function's code lives, per the Makefile target that builds it.
func (f *fixture) functionDir(id string) string {
	return filepath.Join(f.root, "functions", f.targets[id])
}
