package sdjwt

import (
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jws"
)

// Limits bound what Parse and Verify accept.
type Limits struct {
	// MaxBytes is the largest accepted serialization.
	MaxBytes int
	// MaxDisclosures is the largest accepted number of disclosures.
	MaxDisclosures int
}

// DefaultLimits fit the admin API's 256 KiB body limit with room for encoding overhead.
var DefaultLimits = Limits{MaxBytes: 512 << 10, MaxDisclosures: 1024}

// Parsed is a structurally valid, unverified SD-JWT (or SD-JWT+KB) in compact serialization.
type Parsed struct {
	// JWT is the issuer-signed JWT.
	JWT string
	// Header is the issuer-signed JWT's JOSE header (unverified).
	Header map[string]any
	// Payload is the issuer-signed JWT's payload as signed, with digests (unverified).
	Payload map[string]any
	// Disclosures are the disclosures in the order they appear.
	Disclosures []Disclosure
	// KeyBindingJWT is the KB-JWT, empty when absent.
	KeyBindingJWT string
	// values are the decoded disclosure values, parallel to Disclosures.
	values []any
	// presentation is the serialization up to and including the last '~', the input of sd_hash.
	presentation string
}

// Parse splits and decodes a compact SD-JWT with DefaultLimits. It checks structure only:
// base64url, JSON (no duplicate members, bounded nesting), disclosure shape, and duplicate
// disclosures. Signatures and digests are checked by Verify.
func Parse(s string) (*Parsed, error) { return parseWithLimits(s, DefaultLimits) }

func parseWithLimits(s string, lim Limits) (*Parsed, error) {
	if len(s) > lim.MaxBytes {
		return nil, fmt.Errorf("parse sd-jwt: %w: %d bytes", ErrTooLarge, len(s))
	}
	last := strings.LastIndexByte(s, '~')
	if last < 0 {
		return nil, fmt.Errorf("parse sd-jwt: %w: no '~' separator", ErrMalformed)
	}
	p := &Parsed{presentation: s[:last+1], KeyBindingJWT: s[last+1:]}
	first := strings.IndexByte(s, '~')
	p.JWT = s[:first]
	var err error
	if p.Header, p.Payload, err = decodeJWT(p.JWT); err != nil {
		return nil, fmt.Errorf("parse sd-jwt: issuer-signed jwt: %w", err)
	}
	if p.KeyBindingJWT != "" {
		if _, _, err := decodeJWT(p.KeyBindingJWT); err != nil {
			return nil, fmt.Errorf("parse sd-jwt: key binding jwt: %w", err)
		}
	}
	if first == last {
		return p, nil
	}
	middle := s[first+1 : last]
	n := strings.Count(middle, "~") + 1
	if n > lim.MaxDisclosures {
		return nil, fmt.Errorf("parse sd-jwt: %w: %d disclosures", ErrTooLarge, n)
	}
	p.Disclosures = make([]Disclosure, 0, n)
	p.values = make([]any, 0, n)
	seen := make(map[string]struct{}, n)
	for i := 0; i < n; i++ {
		enc := middle
		if j := strings.IndexByte(middle, '~'); j >= 0 {
			enc, middle = middle[:j], middle[j+1:]
		}
		if _, dup := seen[enc]; dup {
			return nil, fmt.Errorf("parse sd-jwt: disclosure %d: %w", i, ErrDuplicateDisclosure)
		}
		seen[enc] = struct{}{}
		d, v, err := parseDisclosure(enc)
		if err != nil {
			return nil, fmt.Errorf("parse sd-jwt: disclosure %d: %w", i, err)
		}
		p.Disclosures = append(p.Disclosures, d)
		p.values = append(p.values, v)
	}
	return p, nil
}

// decodeJWT decodes a compact JWS's header and payload (both JSON objects, decoded strictly) without verifying it;
// jwx splits it.
func decodeJWT(jwt string) (map[string]any, map[string]any, error) {
	h, pl, sig, err := jws.SplitCompactString(jwt)
	if err != nil || len(h) == 0 || len(pl) == 0 || len(sig) == 0 {
		return nil, nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	if _, err := b64.DecodeString(string(sig)); err != nil {
		return nil, nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	header, err := decodeObject(string(h))
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	payload, err := decodeObject(string(pl))
	if err != nil {
		return nil, nil, fmt.Errorf("payload: %w", err)
	}
	return header, payload, nil
}

func decodeObject(seg string) (map[string]any, error) {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	v, err := decodeStrict(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return m, nil
}
