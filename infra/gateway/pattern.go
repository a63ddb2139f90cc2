package gateway

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// The local bus evaluates only the part of EventBridge's pattern language
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html) that template.yaml's rules
// use: a pattern is an object whose keys are envelope fields of the event (source, detail-type) and whose values
// are non-empty lists of strings; an event matches when each named field equals one of its strings (exact,
// case-sensitive match, as EventBridge compares strings). Every other construct (content filters such as prefix
// or anything-but, numbers, nested detail patterns) is refused by compilePattern, so a rule the local bus could
// not evaluate like EventBridge is reported instead of silently delivering too much or too little. Extend this
// together with a template rule that needs more.

// patternFields are the envelope fields a local pattern may name, with how to read each from an event.
var patternFields = map[string]func(events.CloudWatchEvent) string{
	"source":      func(e events.CloudWatchEvent) string { return e.Source },
	"detail-type": func(e events.CloudWatchEvent) string { return e.DetailType },
}

// eventPattern is a compiled pattern: for each named field, the values it accepts.
type eventPattern map[string][]string

// compilePattern checks a template pattern (as template.EventRules decodes it) against the supported subset.
func compilePattern(raw map[string]any) (eventPattern, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("event pattern is empty")
	}
	p := eventPattern{}
	for key, v := range raw {
		if _, ok := patternFields[key]; !ok {
			return nil, fmt.Errorf("%s: the local event bus matches only the fields %s; extend infra/gateway/pattern.go "+
				"before a rule uses another", key, strings.Join(supportedFields(), " and "))
		}
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("%s: must be a non-empty list of exact values, like [\"DeferredCredentialReady\"]", key)
		}
		for _, m := range list {
			s, ok := m.(string)
			if !ok {
				return nil, fmt.Errorf("%s: the local event bus matches only exact string values, not %T (%v): "+
					"extend infra/gateway/pattern.go before a rule uses content filters", key, m, m)
			}
			p[key] = append(p[key], s)
		}
	}
	return p, nil
}

// matches reports whether every field the pattern names equals one of its values.
func (p eventPattern) matches(ev events.CloudWatchEvent) bool {
	for key, values := range p {
		got := patternFields[key](ev)
		found := false
		for _, v := range values {
			if v == got {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func supportedFields() []string {
	out := make([]string, 0, len(patternFields))
	for k := range patternFields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
