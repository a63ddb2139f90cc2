package template

import (
	"fmt"
	"sort"
	"strings"
)

// EventRule is one `Type: EventBridgeRule` event of the template: events on a bus matching Pattern go to a function.
type EventRule struct {
	// FunctionLogicalID is the logical ID of the function the rule invokes.
	FunctionLogicalID string
	// EventName is the event's key under the function's Events.
	EventName string
	// EventBus is the bus as written, e.g. "${EventBus}" for !Ref EventBus; empty for the default bus.
	EventBus string
	// Pattern is the EventBridge event pattern, e.g. {"detail-type": ["DeferredCredentialReady", ...]}.
	Pattern map[string]interface{}
}

// EventRules returns every EventBridge rule event of the SAM template at templatePath, sorted by function and
// event name, so that a local event bus delivers exactly what the deployed rules would.
func EventRules(templatePath string) ([]EventRule, error) {
	t, err := open(templatePath)
	if err != nil {
		return nil, fmt.Errorf("read event rules: %w", err)
	}
	var rules []EventRule
	for id, fn := range t.GetAllServerlessFunctionResources() {
		for name, ev := range fn.Events {
			if ev.Type != "EventBridgeRule" {
				continue
			}
			if ev.Properties == nil || ev.Properties.EventBridgeRuleEvent == nil {
				return nil, fmt.Errorf("read event rules: %s event %s: not a valid EventBridgeRule event", id, name)
			}
			p := ev.Properties.EventBridgeRuleEvent
			pattern, ok := p.Pattern.(map[string]interface{})
			if !ok || len(pattern) == 0 {
				return nil, fmt.Errorf("read event rules: %s event %s: Pattern must be a non-empty map", id, name)
			}
			bus := ""
			if p.EventBusName != nil {
				bus = *p.EventBusName
			}
			rules = append(rules, EventRule{FunctionLogicalID: id, EventName: name, EventBus: bus, Pattern: pattern})
		}
	}
	sort.Slice(rules, func(i, j int) bool {
		if rules[i].FunctionLogicalID != rules[j].FunctionLogicalID {
			return rules[i].FunctionLogicalID < rules[j].FunctionLogicalID
		}
		return rules[i].EventName < rules[j].EventName
	})
	return rules, nil
}

// ResolveParameters returns a copy of rules whose pattern values "${Name}" (a Ref to a template parameter, as
// EventRules reads it) are replaced by values[Name], as CloudFormation would with the stack's parameters. A
// parameter the rules reference but values lacks is an error: such a rule would silently match nothing.
func ResolveParameters(rules []EventRule, values map[string]string) ([]EventRule, error) {
	out := make([]EventRule, len(rules))
	for i, r := range rules {
		p, err := resolveValue(r.Pattern, values)
		if err != nil {
			return nil, fmt.Errorf("rule %s of %s: %w", r.EventName, r.FunctionLogicalID, err)
		}
		r.Pattern = p.(map[string]interface{})
		out[i] = r
	}
	return out, nil
}

func resolveValue(v interface{}, values map[string]string) (interface{}, error) {
	switch x := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, e := range x {
			r, err := resolveValue(e, values)
			if err != nil {
				return nil, err
			}
			m[k] = r
		}
		return m, nil
	case []interface{}:
		l := make([]interface{}, len(x))
		for i, e := range x {
			r, err := resolveValue(e, values)
			if err != nil {
				return nil, err
			}
			l[i] = r
		}
		return l, nil
	case string:
		if name, ok := strings.CutPrefix(x, "${"); ok && strings.HasSuffix(name, "}") {
			name = strings.TrimSuffix(name, "}")
			val, found := values[name]
			if !found || val == "" {
				return nil, fmt.Errorf("the pattern references parameter %s, which has no value", name)
			}
			return val, nil
		}
	}
	return v, nil
}
