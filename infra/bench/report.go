package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// figure is one measured value.
type figure struct {
	name  string
	value float64
	unit  string
	note  string
}

// goal is one target the figures are held to.
type goal struct {
	name   string
	target string
	actual string
	met    bool
	// known is false when a figure the goal needs was not measured.
	known bool
}

// figures is an ordered set of figures by name.
type figures struct {
	list []figure
	idx  map[string]int
}

func (f *figures) add(name string, value float64, unit, note string) {
	if f.idx == nil {
		f.idx = map[string]int{}
	}
	if i, ok := f.idx[name]; ok {
		f.list[i] = figure{name, value, unit, note}
		return
	}
	f.idx[name] = len(f.list)
	f.list = append(f.list, figure{name, value, unit, note})
}

func (f *figures) get(name string) (float64, bool) {
	i, ok := f.idx[name]
	if !ok {
		return 0, false
	}
	return f.list[i].value, true
}

// withPrefix are the figures whose name starts with prefix, in order.
func (f *figures) withPrefix(prefix string) []figure {
	var out []figure
	for _, x := range f.list {
		if strings.HasPrefix(x.name, prefix) {
			out = append(out, x)
		}
	}
	return out
}

// Goals of issue 7 (docs/benchmarks.md).
const (
	goalIssueOverSign   = 2.5
	goalJSOverIssue     = 5.0
	goalFlowDynamoCalls = 12
	// goalFlowRequestCalls: the request path of a flow makes no more AWS calls than before the events came from
	// the table's stream (10 DynamoDB and 1 KMS Sign; the publisher's PutEvents are not on it).
	goalFlowRequestCalls = 11
	goalKMSSignPerCred   = 1
	// goalAuthcodeExtraCalls are the DynamoDB calls the authorization code flow adds to the pre-authorized one:
	// PAR (read the offer, put the request), the authorization endpoint (read the request, turn it into a session)
	// and the holder's answer (read the session and the offer, write the code).
	goalAuthcodeExtraCalls = 7
	// goalAuthcodeSigns: the ID token request object and the credential.
	goalAuthcodeSigns = 2
	goalColdStartMS   = 50.0
	goalBootstrapMB   = 15.0
)

// evaluate holds the figures to the goals; a goal whose figures are missing is reported as not met.
func evaluate(f *figures) []goal {
	var goals []goal
	ratio := func(name, num, den, target string, ok func(r float64) bool) {
		a, okA := f.get(num)
		b, okB := f.get(den)
		g := goal{name: name, target: target, known: okA && okB && b > 0}
		if g.known {
			r := a / b
			g.actual = fmt.Sprintf("%.2fx", r)
			g.met = ok(r)
		}
		goals = append(goals, g)
	}
	ratio("issuance vs one ES256 signature", "sdjwt_issue_us", "es256_sign_us", fmt.Sprintf("< %.1fx", goalIssueOverSign),
		func(r float64) bool { return r < goalIssueOverSign })
	ratio("mdoc issuance vs one ES256 sig.", "mdoc_issue_us", "es256_sign_us", fmt.Sprintf("< %.1fx", goalIssueOverSign),
		func(r float64) bool { return r < goalIssueOverSign })
	ratio("JWT VC issuance vs one ES256 sig.", "jwtvc_issue_us", "es256_sign_us", fmt.Sprintf("< %.1fx", goalIssueOverSign),
		func(r float64) bool { return r < goalIssueOverSign })
	ratio("@sd-jwt/sd-jwt-vc vs issuance", "sdjwt_js_issue_us", "sdjwt_issue_us", fmt.Sprintf(">= %.0fx faster", goalJSOverIssue),
		func(r float64) bool { return r >= goalJSOverIssue })
	single := func(name, fig, target string, ok func(v float64) bool, format string) {
		v, known := f.get(fig)
		g := goal{name: name, target: target, known: known}
		if known {
			g.actual = fmt.Sprintf(format, v)
			g.met = ok(v)
		}
		goals = append(goals, g)
	}
	single("DynamoDB calls per full flow", "flow_dynamodb_calls", fmt.Sprintf("<= %d", goalFlowDynamoCalls),
		func(v float64) bool { return v <= goalFlowDynamoCalls }, "%.0f")
	dpopCalls, okD := f.get("flow_dpop_dynamodb_calls")
	bearerCalls, okB := f.get("flow_dynamodb_calls")
	dg := goal{name: "DynamoDB calls per full flow with DPoP", target: "== the flow without", known: okD && okB}
	if dg.known {
		dg.actual = fmt.Sprintf("%.0f vs %.0f", dpopCalls, bearerCalls)
		dg.met = dpopCalls <= bearerCalls
	}
	goals = append(goals, dg)
	single("AWS calls of a flow's requests", "flow_request_aws_calls", fmt.Sprintf("<= %d", goalFlowRequestCalls),
		func(v float64) bool { return v <= goalFlowRequestCalls }, "%.0f")
	single("KMS Sign per credential", "flow_kms_sign_calls", fmt.Sprintf("== %d", goalKMSSignPerCred),
		func(v float64) bool { return v == goalKMSSignPerCred }, "%.2f")
	acCalls, okA := f.get("authcode_flow_dynamodb_calls")
	ag := goal{name: "DynamoDB calls per auth. code flow", target: fmt.Sprintf("<= pre-authorized + %d", goalAuthcodeExtraCalls),
		known: okA && okB}
	if ag.known {
		ag.actual = fmt.Sprintf("%.0f vs %.0f", acCalls, bearerCalls)
		ag.met = acCalls <= bearerCalls+goalAuthcodeExtraCalls
	}
	goals = append(goals, ag)
	single("KMS Sign per auth. code flow", "authcode_flow_kms_sign_calls", fmt.Sprintf("== %d", goalAuthcodeSigns),
		func(v float64) bool { return v == goalAuthcodeSigns }, "%.0f")
	cold := f.withPrefix("coldstart_")
	g := goal{name: "every cold start", target: fmt.Sprintf("< %.0f ms", goalColdStartMS), known: len(cold) > 0, met: len(cold) > 0}
	worst := math.Inf(-1)
	for _, c := range cold {
		if c.value >= goalColdStartMS {
			g.met = false
		}
		if c.value > worst {
			worst = c.value
			g.actual = fmt.Sprintf("max %.1f ms (%s)", c.value, strings.TrimSuffix(strings.TrimPrefix(c.name, "coldstart_"), "_ms"))
		}
	}
	goals = append(goals, g)
	single("every bootstrap (linux/arm64)", "bootstrap_max_mb", fmt.Sprintf("< %.0f MB", goalBootstrapMB),
		func(v float64) bool { return v < goalBootstrapMB }, "max %.2f MB")
	return goals
}

// printFigures writes the machine-readable lines, `BENCH <name> <value> <unit>`.
func printFigures(w io.Writer, f *figures) {
	for _, x := range f.list {
		fmt.Fprintf(w, "BENCH %s %s %s\n", x.name, formatValue(x.value), x.unit)
	}
}

func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// printTable writes the human table: the figures with their notes, then each goal with PASS or MISS.
func printTable(w io.Writer, f *figures, goals []goal) {
	fmt.Fprintf(w, "\n%-34s %12s  %-8s %s\n", "figure", "value", "unit", "note")
	for _, x := range f.list {
		fmt.Fprintf(w, "%-34s %12s  %-8s %s\n", x.name, formatValue(x.value), x.unit, x.note)
	}
	fmt.Fprintf(w, "\n%-38s %-22s %-28s %s\n", "goal", "target", "measured", "result")
	for _, g := range goals {
		res, actual := "MISS", g.actual
		if g.met {
			res = "PASS"
		}
		if !g.known {
			actual = "not measured"
		}
		fmt.Fprintf(w, "%-38s %-22s %-28s %s\n", g.name, g.target, actual, res)
	}
}
