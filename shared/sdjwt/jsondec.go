package sdjwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// decodeStrict decodes one JSON value with json.Number numbers, rejecting duplicate object
// members, nesting beyond maxJSONDepth and trailing data. Different parsers resolve duplicate
// members differently, so a verifier that accepted them could be shown claims the signer never saw.
//
// It scans the structure first (member names, depth), lets encoding/json check the syntax,
// then decodes the value knowing it is valid: token by token decoding through encoding/json cost
// more than the signature check it precedes.
func decodeStrict(data []byte) (any, error) {
	if err := checkMembers(data); err != nil {
		return nil, err
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
	d := validDecoder{memberScan{data: data}}
	return d.value()
}

// validDecoder decodes JSON that json.Valid accepted and checkMembers passed into the values
// encoding/json decodes with UseNumber: map[string]any, []any, string, json.Number, bool and
// nil. Strings with escapes or non-ASCII bytes are decoded by encoding/json itself. It returns
// errInvalidJSON rather than panic should its input break those preconditions.
type validDecoder struct {
	memberScan
}

// value decodes the value at c.i.
func (d *validDecoder) value() (any, error) {
	switch d.next() {
	case '{':
		d.i++
		m := make(map[string]any)
		if d.next() == '}' {
			d.i++
			return m, nil
		}
		for {
			if d.next() != '"' {
				return nil, errInvalidJSON
			}
			name, err := d.string()
			if err != nil {
				return nil, err
			}
			if d.next() != ':' {
				return nil, errInvalidJSON
			}
			d.i++
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			m[name] = v
			switch d.next() {
			case ',':
				d.i++
			case '}':
				d.i++
				return m, nil
			default:
				return nil, errInvalidJSON
			}
		}
	case '[':
		d.i++
		a := make([]any, 0)
		if d.next() == ']' {
			d.i++
			return a, nil
		}
		for {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			switch d.next() {
			case ',':
				d.i++
			case ']':
				d.i++
				return a, nil
			default:
				return nil, errInvalidJSON
			}
		}
	case '"':
		return d.string()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		start := d.i
		for d.i < len(d.data) {
			switch d.data[d.i] {
			case '-', '+', '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				d.i++
				continue
			}
			break
		}
		if d.i == start {
			return nil, errInvalidJSON
		}
		return json.Number(d.data[start:d.i]), nil
	}
}

// literal consumes word at c.i.
func (d *validDecoder) literal(word string) error {
	if !bytes.HasPrefix(d.data[d.i:], []byte(word)) {
		return errInvalidJSON
	}
	d.i += len(word)
	return nil
}

// string decodes the string at c.i.
func (d *validDecoder) string() (string, error) {
	s, decoded, err := d.str()
	if err != nil {
		return "", err
	}
	if decoded {
		return string(s), nil
	}
	if !bytes.ContainsRune(s, '\\') && utf8.Valid(s) { // quoted, no escapes, valid UTF-8
		return string(s[1 : len(s)-1]), nil
	}
	var out string
	if err := json.Unmarshal(s, &out); err != nil {
		return "", errInvalidJSON
	}
	return out, nil
}

// errInvalidJSON is what the structure scan reports for input that is not JSON.
var errInvalidJSON = fmt.Errorf("%w: invalid JSON", ErrMalformed)

// checkMembers scans data as one JSON value followed by white space and reports nesting deeper
// than maxJSONDepth (ErrTooLarge) and objects with two members of the same name, as
// encoding/json decodes names (ErrMalformed). It checks the structure (brackets, commas, colons,
// strings) but not the scalars' spelling, which json.Valid checks after it; it never panics on
// any input.
func checkMembers(data []byte) error {
	c := memberScan{data: data}
	if err := c.value(0); err != nil {
		return err
	}
	c.space()
	if c.i != len(c.data) {
		return fmt.Errorf("%w: trailing data after JSON value", ErrMalformed)
	}
	return nil
}

// memberScan is the cursor of checkMembers.
type memberScan struct {
	data []byte
	i    int
}

// space skips JSON white space.
func (c *memberScan) space() {
	for c.i < len(c.data) {
		switch c.data[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte, or 0 at the end.
func (c *memberScan) next() byte {
	c.space()
	if c.i >= len(c.data) {
		return 0
	}
	return c.data[c.i]
}

// value scans the value at c.i, nested depth deep.
func (c *memberScan) value(depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("%w: JSON nested deeper than %d", ErrTooLarge, maxJSONDepth)
	}
	switch c.next() {
	case 0:
		return errInvalidJSON
	case '{':
		return c.object(depth)
	case '[':
		c.i++
		if c.next() == ']' {
			c.i++
			return nil
		}
		for {
			if err := c.value(depth + 1); err != nil {
				return err
			}
			switch c.next() {
			case ',':
				c.i++
			case ']':
				c.i++
				return nil
			default:
				return errInvalidJSON
			}
		}
	case '"':
		_, _, err := c.str()
		return err
	case '}', ']', ',', ':':
		return errInvalidJSON
	default: // a number, true, false or null, spelled right or not: json.Valid tells
		for c.i < len(c.data) {
			switch c.data[c.i] {
			case ',', ']', '}', ':', '"', '[', '{', ' ', '\t', '\n', '\r':
				return nil
			}
			c.i++
		}
		return nil
	}
}

// maxLinearMembers is the member count up to which names are compared pairwise; larger objects
// use a set.
const maxLinearMembers = 16

// object scans the object at c.i, checking its member names.
func (c *memberScan) object(depth int) error {
	c.i++ // '{'
	if c.next() == '}' {
		c.i++
		return nil
	}
	var small [maxLinearMembers][]byte
	names := small[:0]
	var set map[string]struct{}
	for {
		if c.next() != '"' {
			return errInvalidJSON
		}
		name, decoded, err := c.str()
		if err != nil {
			return err
		}
		if !decoded {
			if name, err = decodeName(name); err != nil {
				return err
			}
		}
		if dup := c.seen(name, &names, &set); dup {
			return fmt.Errorf("%w: duplicate JSON member %q", ErrMalformed, name)
		}
		if c.next() != ':' {
			return errInvalidJSON
		}
		c.i++
		if err := c.value(depth + 1); err != nil {
			return err
		}
		switch c.next() {
		case ',':
			c.i++
		case '}':
			c.i++
			return nil
		default:
			return errInvalidJSON
		}
	}
}

// seen records name among the object's member names and reports whether it was there already.
func (c *memberScan) seen(name []byte, names *[][]byte, set *map[string]struct{}) bool {
	if *set == nil {
		for _, n := range *names {
			if bytes.Equal(n, name) {
				return true
			}
		}
		if len(*names) < maxLinearMembers {
			*names = append(*names, name)
			return false
		}
		*set = make(map[string]struct{}, 2*maxLinearMembers)
		for _, n := range *names {
			(*set)[string(n)] = struct{}{}
		}
	}
	if _, ok := (*set)[string(name)]; ok {
		return true
	}
	(*set)[string(name)] = struct{}{}
	return false
}

// str reads the JSON string at c.i. It returns its contents as they are when they are plain
// ASCII without escapes (decoded true), and else the whole quoted string for decodeName.
func (c *memberScan) str() (s []byte, decoded bool, err error) {
	start := c.i
	c.i++ // '"'
	plain := true
	for c.i < len(c.data) {
		switch b := c.data[c.i]; {
		case b == '"':
			c.i++
			if plain {
				return c.data[start+1 : c.i-1], true, nil
			}
			return c.data[start:c.i], false, nil
		case b == '\\':
			plain = false
			c.i += 2
		case b < 0x20:
			return nil, false, errInvalidJSON
		default:
			if b >= utf8.RuneSelf {
				plain = false
			}
			c.i++
		}
	}
	return nil, false, errInvalidJSON
}

// decodeName decodes a quoted JSON string with escapes or non-ASCII bytes as encoding/json does
// (invalid UTF-8 becomes U+FFFD), so that names equal after decoding count as duplicates.
func decodeName(quoted []byte) ([]byte, error) {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, errInvalidJSON
	}
	return []byte(s), nil
}
