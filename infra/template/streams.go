package template

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// StreamSource is one AWS::Lambda::EventSourceMapping of the template that reads a DynamoDB table's stream: which
// function it invokes and how, so that the local gateway polls DynamoDB Local's stream as Lambda would.
type StreamSource struct {
	// Name is the mapping's logical ID.
	Name string
	// FunctionLogicalID is the function it invokes (FunctionName: !Ref X).
	FunctionLogicalID string
	// Table is the logical ID of the table whose stream it reads (EventSourceArn: !GetAtt X.StreamArn).
	Table string
	// StartingPosition is TRIM_HORIZON or LATEST.
	StartingPosition string
	// BatchSize is the most records per invocation.
	BatchSize int
	// MaximumBatchingWindow is how long records are gathered before an invocation.
	MaximumBatchingWindow time.Duration
	// MaximumRetryAttempts bounds the retries of a failing batch; -1: until the records expire.
	MaximumRetryAttempts int
	// BisectBatchOnFunctionError splits a batch whose invocation failed and retries the halves.
	BisectBatchOnFunctionError bool
	// ReportBatchItemFailures: the function answers partial batch failures (FunctionResponseTypes).
	ReportBatchItemFailures bool
	// Filters are the FilterCriteria patterns, decoded; a record is delivered when one matches.
	Filters []map[string]any
	// OnFailure is the on-failure destination as written, e.g. "${PublisherFailureQueue.Arn}".
	OnFailure string
}

// StreamSources returns every DynamoDB stream event source mapping of the SAM template at templatePath, sorted by
// name.
func StreamSources(templatePath string) ([]StreamSource, error) {
	t, err := open(templatePath)
	if err != nil {
		return nil, fmt.Errorf("read stream sources: %w", err)
	}
	var out []StreamSource
	for name, m := range t.GetAllLambdaEventSourceMappingResources() {
		arn := ""
		if m.EventSourceArn != nil {
			arn = *m.EventSourceArn
		}
		table, ok := strings.CutSuffix(strings.TrimSuffix(strings.TrimPrefix(arn, "${"), "}"), ".StreamArn")
		if !ok || !strings.HasPrefix(arn, "${") {
			continue // not a table's stream
		}
		s := StreamSource{Name: name, Table: table, FunctionLogicalID: strings.TrimSuffix(strings.TrimPrefix(m.FunctionName, "${"), "}"),
			StartingPosition: deref(m.StartingPosition), BatchSize: 100, MaximumRetryAttempts: -1,
			BisectBatchOnFunctionError: m.BisectBatchOnFunctionError != nil && *m.BisectBatchOnFunctionError}
		if m.BatchSize != nil {
			s.BatchSize = *m.BatchSize
		}
		if m.MaximumBatchingWindowInSeconds != nil {
			s.MaximumBatchingWindow = time.Duration(*m.MaximumBatchingWindowInSeconds) * time.Second
		}
		if m.MaximumRetryAttempts != nil {
			s.MaximumRetryAttempts = *m.MaximumRetryAttempts
		}
		for _, rt := range m.FunctionResponseTypes {
			s.ReportBatchItemFailures = s.ReportBatchItemFailures || rt == "ReportBatchItemFailures"
		}
		if m.FilterCriteria != nil {
			for i, f := range m.FilterCriteria.Filters {
				var p map[string]any
				if err := json.Unmarshal([]byte(deref(f.Pattern)), &p); err != nil || len(p) == 0 {
					return nil, fmt.Errorf("read stream sources: %s filter %d: the pattern is not a JSON object", name, i)
				}
				if err := CheckFilter(p); err != nil {
					return nil, fmt.Errorf("read stream sources: %s filter %d: %w", name, i, err)
				}
				s.Filters = append(s.Filters, p)
			}
		}
		if d := m.DestinationConfig; d != nil && d.OnFailure != nil {
			s.OnFailure = deref(d.OnFailure.Destination)
		}
		if s.FunctionLogicalID == "" || s.BatchSize < 1 {
			return nil, fmt.Errorf("read stream sources: %s: no function, or a batch size below 1", name)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CheckFilter reports a filter pattern that FilterMatches cannot evaluate as Lambda would: every leaf must be a
// list of exact values (strings, numbers, booleans) or {"prefix": "..."} objects.
func CheckFilter(pattern map[string]any) error {
	for k, v := range pattern {
		switch x := v.(type) {
		case map[string]any:
			if err := CheckFilter(x); err != nil {
				return fmt.Errorf("%s.%w", k, err)
			}
		case []any:
			if len(x) == 0 {
				return fmt.Errorf("%s: an empty list matches nothing", k)
			}
			for _, e := range x {
				switch m := e.(type) {
				case string, float64, bool:
				case map[string]any:
					if p, ok := m["prefix"].(string); !ok || len(m) != 1 || p == "" {
						return fmt.Errorf("%s: the local filter knows exact values and {\"prefix\": ...} only, not %v: "+
							"extend infra/template/streams.go before the template uses it", k, m)
					}
				default:
					return fmt.Errorf("%s: unsupported value %v", k, e)
				}
			}
		default:
			return fmt.Errorf("%s: want an object or a list of values", k)
		}
	}
	return nil
}

// FilterMatches says whether a stream record (its JSON as Lambda sends it, decoded) matches a filter pattern of
// Lambda event filtering (the EventBridge pattern syntax): every field the pattern names must be there, an object
// matching the nested pattern, a value equal to one of the list's values or starting with one of its prefixes.
func FilterMatches(pattern, record map[string]any) bool {
	for k, want := range pattern {
		got, ok := record[k]
		if !ok {
			return false
		}
		switch w := want.(type) {
		case map[string]any:
			m, ok := got.(map[string]any)
			if !ok || !FilterMatches(w, m) {
				return false
			}
		case []any:
			if !leafMatches(w, got) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// leafMatches says whether got (a value, or a list of values any of which may match) matches one of want.
func leafMatches(want []any, got any) bool {
	if list, ok := got.([]any); ok {
		for _, g := range list {
			if leafMatches(want, g) {
				return true
			}
		}
		return false
	}
	for _, w := range want {
		switch x := w.(type) {
		case map[string]any:
			p, _ := x["prefix"].(string)
			if s, ok := got.(string); ok && p != "" && strings.HasPrefix(s, p) {
				return true
			}
		default:
			if w == got {
				return true
			}
		}
	}
	return false
}
