package mdoc

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// FullDate is a calendar date, "YYYY-MM-DD", issued as ISO 18013-5 full-date (CBOR tag 1004), the type of
// birth_date, issue_date and expiry_date in the mDL and PID namespaces.
type FullDate string

// DateTime is a point in time, issued as ISO 18013-5 tdate (CBOR tag 0, RFC 3339 in UTC without fractions).
type DateTime time.Time

// maxValueDepth bounds the nesting of one element value (arrays and maps inside it).
const maxValueDepth = 16

// maxSafeInteger is the largest integer a JSON number carries exactly (2^53).
const maxSafeInteger = 1 << 53

// elementValue turns a claim value, as decoded from JSON or typed by the caller, into the value CBOR encodes:
// JSON numbers that are whole become integers (a float64 holds them exactly up to 2^53), FullDate and
// DateTime become their tagged strings, []byte a byte string. NaN, infinities, invalid UTF-8 and types JSON does
// not produce are refused. path names the position for the error (never the value).
func elementValue(v any, path string, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, fmt.Errorf("%w: %s is nested more than %d levels deep", ErrInvalidDocument, path, maxValueDepth)
	}
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidDocument, path)
		}
		return x, nil
	case float64:
		return number(x, path)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not a number CBOR can hold", ErrInvalidDocument, path)
		}
		return number(f, path)
	case int:
		return int64(x), nil
	case int64, int32, uint32, uint64:
		return x, nil
	case []byte:
		return x, nil
	case FullDate:
		if _, err := time.Parse(time.DateOnly, string(x)); err != nil {
			return nil, fmt.Errorf("%w: %s is not a full-date (YYYY-MM-DD)", ErrInvalidDocument, path)
		}
		return cbor.Tag{Number: tagFullDate, Content: string(x)}, nil
	case DateTime:
		t := time.Time(x)
		if t.IsZero() {
			return nil, fmt.Errorf("%w: %s is a zero date-time", ErrInvalidDocument, path)
		}
		return tdate(t), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := elementValue(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, fmt.Errorf("%w: %s has a member name that is not valid UTF-8", ErrInvalidDocument, path)
			}
			ev, err := elementValue(e, path+"."+k, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: %s has a value of type %T, which an mdoc element cannot hold", ErrInvalidDocument, path, v)
	}
}

// number is a JSON number as CBOR: an integer when it is whole and exact, else a float (encoded in its shortest
// exact form). NaN and infinities have no JSON form and are refused.
func number(f float64, path string) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%w: %s is not a finite number", ErrInvalidDocument, path)
	}
	if f == math.Trunc(f) && math.Abs(f) <= maxSafeInteger {
		return int64(f), nil
	}
	return f, nil
}

// tdate is t as ISO 18013-5 tdate: tag 0 over RFC 3339 in UTC, whole seconds ("fractions of seconds shall not be
// used").
func tdate(t time.Time) cbor.Tag {
	return cbor.Tag{Number: tagDateTime, Content: t.UTC().Truncate(time.Second).Format(time.RFC3339)}
}
