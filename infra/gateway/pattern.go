package gateway

import (
	"encoding/json"
	"fmt"
	"strings"
)

// EventBridge event patterns (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
// a pattern is an object whose keys name event fields; a value is a nested pattern (for object fields) or an
// array of matchers, any one of which must match. Supported matchers: exact values (string, number, boolean,
// null), and objects with prefix, suffix, equals-ignore-case, wildcard, anything-but (a value, a list or a
// prefix/suffix), exists and numeric.

// matchPattern reports whether event (the EventBridge event as decoded JSON) matches pattern.
func matchPattern(pattern map[string]any, event map[string]any) bool {
	for key, want := range pattern {
		value, present := event[key]
		switch w := want.(type) {
		case map[string]any:
			obj, ok := value.(map[string]any)
			if !ok || !matchPattern(w, obj) {
				return false
			}
		case []any:
			if !matchField(w, value, present) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// matchField reports whether any matcher accepts the field's value (any element, when the field is an array).
func matchField(matchers []any, value any, present bool) bool {
	values := []any{value}
	if arr, ok := value.([]any); ok {
		values = arr
	}
	for _, m := range matchers {
		if ops, ok := m.(map[string]any); ok {
			if e, ok := ops["exists"].(bool); ok && len(ops) == 1 {
				if e == present {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, v := range values {
			if matchValue(m, v) {
				return true
			}
		}
	}
	return false
}

func matchValue(matcher, value any) bool {
	ops, ok := matcher.(map[string]any)
	if !ok {
		return equalJSON(matcher, value)
	}
	for op, arg := range ops {
		if !matchOperator(op, arg, value) {
			return false
		}
	}
	return len(ops) > 0
}

func matchOperator(op string, arg, value any) bool {
	s, isString := value.(string)
	switch op {
	case "prefix":
		if inner, ok := arg.(map[string]any); ok {
			p, _ := inner["equals-ignore-case"].(string)
			return isString && strings.HasPrefix(strings.ToLower(s), strings.ToLower(p))
		}
		p, _ := arg.(string)
		return isString && strings.HasPrefix(s, p)
	case "suffix":
		if inner, ok := arg.(map[string]any); ok {
			p, _ := inner["equals-ignore-case"].(string)
			return isString && strings.HasSuffix(strings.ToLower(s), strings.ToLower(p))
		}
		p, _ := arg.(string)
		return isString && strings.HasSuffix(s, p)
	case "equals-ignore-case":
		p, _ := arg.(string)
		return isString && strings.EqualFold(s, p)
	case "wildcard":
		p, _ := arg.(string)
		return isString && wildcard(p, s)
	case "anything-but":
		switch a := arg.(type) {
		case []any:
			for _, x := range a {
				if equalJSON(x, value) {
					return false
				}
			}
			return true
		case map[string]any:
			for inner, innerArg := range a {
				if matchOperator(inner, innerArg, value) {
					return false
				}
			}
			return true
		default:
			return !equalJSON(a, value)
		}
	case "numeric":
		return matchNumeric(arg, value)
	}
	return false
}

func matchNumeric(arg, value any) bool {
	n, ok := value.(float64)
	cond, okc := arg.([]any)
	if !ok || !okc || len(cond)%2 != 0 || len(cond) == 0 {
		return false
	}
	for i := 0; i < len(cond); i += 2 {
		op, _ := cond[i].(string)
		bound, ok := cond[i+1].(float64)
		if !ok {
			return false
		}
		var pass bool
		switch op {
		case "<":
			pass = n < bound
		case "<=":
			pass = n <= bound
		case "=":
			pass = n == bound
		case ">":
			pass = n > bound
		case ">=":
			pass = n >= bound
		}
		if !pass {
			return false
		}
	}
	return true
}

// wildcard matches s against p where * stands for any run of characters.
func wildcard(p, s string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// equalJSON compares two decoded JSON scalars; numbers compare by value whatever their Go type.
func equalJSON(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch a.(type) {
	case string, bool, nil:
		return a == b
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

var knownOperators = map[string]bool{"prefix": true, "suffix": true, "equals-ignore-case": true, "wildcard": true,
	"anything-but": true, "exists": true, "numeric": true}

// checkPattern rejects patterns this emulation cannot evaluate, so a rule is never silently ignored.
func checkPattern(pattern map[string]any) error {
	if len(pattern) == 0 {
		return fmt.Errorf("event pattern is empty")
	}
	for key, v := range pattern {
		switch w := v.(type) {
		case map[string]any:
			if err := checkPattern(w); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		case []any:
			if len(w) == 0 {
				return fmt.Errorf("%s: empty list of matchers", key)
			}
			for _, m := range w {
				ops, ok := m.(map[string]any)
				if !ok {
					continue
				}
				for op := range ops {
					if !knownOperators[op] {
						return fmt.Errorf("%s: matcher %q is not supported by the local event bus", key, op)
					}
				}
			}
		default:
			return fmt.Errorf("%s: must be a list of matchers or a nested pattern, not %T", key, v)
		}
	}
	return nil
}
