package sdjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Signer is the issuer's signing key as sdjwt needs it. shared/keys implements it for AWS KMS and
// for a local P-256 key.
type Signer interface {
	KeyID() string                                  // RFC 7638 JWK thumbprint of the public key
	CryptoSigner(ctx context.Context) crypto.Signer // signs a SHA-256 digest; bound to ctx (KMS calls)
}

// Format is the SD-JWT VC media type carried in the JWS typ header.
type Format string

const (
	// FormatDCSDJWT is the current SD-JWT VC type (OID4VCI 1.0).
	FormatDCSDJWT Format = "dc+sd-jwt"
	// FormatVCSDJWT is the type of SD-JWT VC drafts before 06, as OID4VCI draft 13 wallets expect.
	FormatVCSDJWT Format = "vc+sd-jwt"
)

// StatusReference points at the credential's entry in a Token Status List.
type StatusReference struct {
	// Index is the credential's index in the list (idx).
	Index int64
	// URI is the status list token's URI (uri).
	URI string
}

// VC is an SD-JWT VC to issue.
type VC struct {
	// Issuer is the iss claim, the credential issuer identifier.
	Issuer string
	// Type is the vct claim.
	Type string
	// IssuedAt is iat; required.
	IssuedAt time.Time
	// NotBefore is nbf; zero omits it.
	NotBefore time.Time
	// Expiry is exp; zero omits it.
	Expiry time.Time
	// HolderKey is the holder's public key placed in cnf.jwk; nil omits cnf.
	HolderKey jwk.Key
	// Status is the status list reference; nil omits status.
	Status *StatusReference
	// Claims are the credential subject's claims, as decoded from JSON.
	Claims map[string]any
	// Policy says which claims are selectively disclosable; nil issues every claim in the clear.
	Policy *Policy
}

// Issued is an issued SD-JWT VC.
type Issued struct {
	// SDJWT is the compact serialization JWT~D1~...~Dn~.
	SDJWT string
	// JWT is the issuer-signed JWT alone.
	JWT string
	// Disclosures are the credential's disclosures in the order of SDJWT.
	Disclosures []Disclosure
}

// SaltSource supplies disclosure salts, for reproducible test vectors. The issuer asks for salts
// in the order it creates disclosures: depth first, object members in sorted name order, array
// elements in index order, a disclosable value's own nested disclosures before the value itself.
type SaltSource interface {
	// NextSalt returns the next salt as it appears in the disclosure (base64url of 16+ random bytes).
	NextSalt() (string, error)
}

// Option configures IssueVC.
type Option func(*issueConfig)

type issueConfig struct {
	format     Format
	rand       io.Reader
	salts      SaltSource
	decoysMin  int
	decoysMax  int
	spacedJSON bool
}

// Default number of decoy digests per _sd array: drawn uniformly from [DefaultMinDecoys,
// DefaultMaxDecoys] with crypto/rand, so the array length does not reveal the claim count.
const (
	DefaultMinDecoys = 1
	DefaultMaxDecoys = 3
	maxDecoys        = 64
)

// WithFormat sets the typ header (FormatDCSDJWT by default).
func WithFormat(f Format) Option { return func(c *issueConfig) { c.format = f } }

// WithRand replaces crypto/rand as the source of salts and decoys (tests and vectors only).
func WithRand(r io.Reader) Option { return func(c *issueConfig) { c.rand = r } }

// WithSaltSource takes salts from s instead of the random source (test vectors only).
func WithSaltSource(s SaltSource) Option { return func(c *issueConfig) { c.salts = s } }

// WithDecoys adds exactly n decoy digests to every _sd array (0 disables decoys).
func WithDecoys(n int) Option {
	return func(c *issueConfig) { c.decoysMin, c.decoysMax = n, n }
}

// WithDecoyRange adds between lo and hi decoy digests (uniformly random) to every _sd array.
func WithDecoyRange(lo, hi int) Option {
	return func(c *issueConfig) { c.decoysMin, c.decoysMax = lo, hi }
}

// WithSpacedJSON encodes disclosures with ", " and ": " separators, as the RFC 9901 examples do,
// so that their disclosures can be reproduced byte for byte.
func WithSpacedJSON() Option { return func(c *issueConfig) { c.spacedJSON = true } }

// IssueVC builds, signs and serialises an SD-JWT VC.
func IssueVC(ctx context.Context, s Signer, vc VC, opts ...Option) (*Issued, error) {
	cfg := issueConfig{format: FormatDCSDJWT, rand: rand.Reader, decoysMin: DefaultMinDecoys, decoysMax: DefaultMaxDecoys}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.format != FormatDCSDJWT && cfg.format != FormatVCSDJWT {
		return nil, fmt.Errorf("issue credential: %w: unsupported format %q", ErrInvalidClaims, cfg.format)
	}
	if cfg.decoysMin < 0 || cfg.decoysMax < cfg.decoysMin || cfg.decoysMax > maxDecoys {
		return nil, fmt.Errorf("issue credential: %w: decoy range [%d, %d]", ErrInvalidClaims, cfg.decoysMin, cfg.decoysMax)
	}
	if s == nil {
		return nil, fmt.Errorf("issue credential: %w: no signer", ErrSignature)
	}
	b, payload, err := buildPayload(vc, &cfg)
	if err != nil {
		return nil, fmt.Errorf("issue credential: %w", err)
	}
	iss, err := b.signAndSerialize(ctx, s, string(cfg.format), payload)
	if err != nil {
		return nil, fmt.Errorf("issue credential: %w", err)
	}
	return iss, nil
}

// signAndSerialize signs payload as a compact ES256 JWS with kid and typ headers and returns the
// credential. The JWS is assembled here rather than through jwx: the header is fixed, and jwx's
// generic header handling cost more than everything else but the signature.
//
// Everything the result holds is one string: JWT~D1~...~Dn~ (the SD-JWT), then the salts and
// digests the builder kept; the JWT and every Disclosure string are slices of it. The signing
// input is base64url-encoded a chunk at a time straight into that string and into the hash.
func (b *builder) signAndSerialize(ctx context.Context, s Signer, typ string, payload []byte) (*Issued, error) {
	cs := s.CryptoSigner(ctx)
	if cs == nil {
		return nil, fmt.Errorf("sign credential: %w: signer has no key", ErrSignature)
	}
	var hdrBuf [160]byte
	hdr := appendProtectedHeader(hdrBuf[:0], s.KeyID(), typ)
	jwtLen := b64.EncodedLen(len(hdr)) + 1 + b64.EncodedLen(len(payload)) + 1 + es256SigB64Len
	var out strings.Builder
	out.Grow(jwtLen + 1 + len(b.arena) + len(b.tail))
	h := sha256.New()
	// chunk holds the base64url of up to chunkIn input bytes; chunkIn is a multiple of 3, so
	// the chunks' encodings concatenate to the encoding of the whole.
	const chunkIn = 768
	var chunk [chunkIn / 3 * 4]byte
	write := func(p []byte) {
		out.Write(p)
		h.Write(p)
	}
	for rest := hdr; len(rest) > 0; rest = rest[min(len(rest), chunkIn):] {
		write(b64.AppendEncode(chunk[:0], rest[:min(len(rest), chunkIn)]))
	}
	write([]byte{'.'})
	for rest := payload; len(rest) > 0; rest = rest[min(len(rest), chunkIn):] {
		write(b64.AppendEncode(chunk[:0], rest[:min(len(rest), chunkIn)]))
	}
	var digest [sha256.Size]byte
	sig, err := signES256(cs, h.Sum(digest[:0]))
	if err != nil {
		return nil, fmt.Errorf("sign credential: %w", err)
	}
	out.WriteByte('.')
	out.Write(b64.AppendEncode(chunk[:0], sig[:]))
	out.WriteByte('~')
	out.Write(b.arena)
	out.Write(b.tail)
	all := out.String()
	sdLen := jwtLen + 1 + len(b.arena)
	return &Issued{SDJWT: all[:sdLen], JWT: all[:jwtLen], Disclosures: b.finish(all, jwtLen+1, sdLen)}, nil
}

// buildPayload validates vc and returns the builder holding the disclosures and the JWT
// payload JSON.
func buildPayload(vc VC, cfg *issueConfig) (*builder, []byte, error) {
	if vc.Issuer == "" {
		return nil, nil, fmt.Errorf("%w: iss is empty", ErrInvalidClaims)
	}
	if vc.Type == "" {
		return nil, nil, fmt.Errorf("%w: vct is empty", ErrInvalidClaims)
	}
	if vc.IssuedAt.IsZero() {
		return nil, nil, fmt.Errorf("%w: iat is not set", ErrInvalidClaims)
	}
	if !vc.Expiry.IsZero() && !vc.Expiry.After(vc.IssuedAt) {
		return nil, nil, fmt.Errorf("%w: exp is not after iat", ErrInvalidClaims)
	}
	for name := range vc.Claims {
		if IsReservedClaim(name) {
			return nil, nil, fmt.Errorf("%w: claim %q is set by the issuer and cannot be a subject claim", ErrInvalidClaims, name)
		}
	}

	// The registered claims are written by hand (fixed order, no reflection); the subject
	// claims follow through the policy-driven encoder, which appends _sd and _sd_alg last.
	b := &builder{enc: jsonEncoder{spaced: cfg.spacedJSON}, salts: cfg.salts, cfg: cfg}
	root := vc.Policy.rootNode()
	if err := b.prepareRandom(vc.Claims, root); err != nil {
		return nil, nil, err
	}
	// The payload, plus the free space in which disclosures are built (see builder).
	dst := make([]byte, 0, 2048)
	dst = append(dst, `{"iss":`...)
	dst = appendString(dst, vc.Issuer)
	dst = append(dst, `,"vct":`...)
	dst = appendString(dst, vc.Type)
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, vc.IssuedAt.Unix(), 10)
	if !vc.NotBefore.IsZero() {
		dst = append(dst, `,"nbf":`...)
		dst = strconv.AppendInt(dst, vc.NotBefore.Unix(), 10)
	}
	if !vc.Expiry.IsZero() {
		dst = append(dst, `,"exp":`...)
		dst = strconv.AppendInt(dst, vc.Expiry.Unix(), 10)
	}
	if vc.HolderKey != nil {
		dst = append(dst, `,"cnf":{"jwk":`...)
		var err error
		if dst, err = appendHolderJWK(dst, vc.HolderKey); err != nil {
			return nil, nil, err
		}
		dst = append(dst, '}')
	}
	if vc.Status != nil {
		if vc.Status.Index < 0 || vc.Status.URI == "" {
			return nil, nil, fmt.Errorf("%w: status reference needs a non-negative index and a uri", ErrInvalidClaims)
		}
		dst = append(dst, `,"status":{"status_list":{"idx":`...)
		dst = strconv.AppendInt(dst, vc.Status.Index, 10)
		dst = append(dst, `,"uri":`...)
		dst = appendString(dst, vc.Status.URI)
		dst = append(dst, `}}`...)
	}
	dst, err := b.appendObjectBody(dst, vc.Claims, root, true, 0)
	if err != nil {
		return nil, nil, err
	}
	return b, append(dst, '}'), nil
}

// builder encodes a claim tree, turning the positions the policy marks into disclosures.
//
// It allocates per issuance, not per disclosure: the JSON of a disclosure and of its value is
// built in the free space after the caller's output buffer and dropped once encoded; the
// encoded disclosures (arena) and their salts and digests (tail) are copied into the one result
// string at the end (see signAndSerialize); disclosed values go to one value arena; _sd digests
// and object member names are kept on shared stacks that each object truncates back when done.
type builder struct {
	enc    jsonEncoder
	cfg    *issueConfig
	salts  SaltSource
	random []byte // entropy read once up front, consumed front to back

	arena  []byte    // encoded disclosures, each followed by '~': the SD-JWT after JWT~
	tail   []byte    // salts and digests of the disclosures
	values []byte    // the disclosed values' JSON
	recs   []discRec // one per disclosure, in creation order
	digs   []digest  // stack of pending _sd digests, one segment per open object
	keys   []string  // stack of sorted member names, one segment per open object
}

// digest is a base64url SHA-256 digest as it appears in _sd and "...".
type digest [digestB64Len]byte

// digestB64Len is the length of a base64url (unpadded) SHA-256 digest.
const digestB64Len = (digestSize*8 + 5) / 6

// discRec locates one disclosure's parts in the builder's arenas.
type discRec struct {
	name           string
	element        bool
	encAt, encTo   int // arena range of the encoded disclosure
	saltAt, saltTo int // tail range of the salt
	digestAt       int // tail offset of the digest
	valAt, valTo   int // values range of the disclosed value
}

// saltB64Len is the length of a generated salt in the disclosure.
const saltB64Len = (saltBytes*8 + 5) / 6

// prepareRandom counts what the claim tree needs and reads all entropy in one call: 16 bytes per
// salt (unless a SaltSource is set) and, per _sd array, one byte to pick the decoy count plus
// 16 bytes per decoy.
func (b *builder) prepareRandom(claims map[string]any, root *node) error {
	salts, sdArrays := countObject(claims, root, 0)
	// Room for every disclosure without regrowth in the usual case (short values).
	b.recs = make([]discRec, 0, salts)
	b.arena = make([]byte, 0, salts*96)
	b.tail = make([]byte, 0, salts*(saltB64Len+digestB64Len))
	b.values = make([]byte, 0, salts*32)
	b.keys = make([]string, 0, len(claims)+8)
	b.digs = make([]digest, 0, salts+b.cfg.decoysMax*sdArrays)
	need := 0
	if b.salts == nil {
		need += salts * saltBytes
	}
	if b.cfg.decoysMax > 0 {
		need += sdArrays * (1 + b.cfg.decoysMax*saltBytes)
	}
	if need == 0 {
		return nil
	}
	b.random = make([]byte, need)
	if _, err := io.ReadFull(b.cfg.rand, b.random); err != nil {
		return fmt.Errorf("read random: %w", err)
	}
	return nil
}

// countObject returns the number of disclosures and of _sd arrays the object will produce.
func countObject(obj map[string]any, n *node, depth int) (salts, sdArrays int) {
	if n == nil || depth > maxJSONDepth {
		return 0, 0
	}
	hasSD := false
	for name, child := range n.members {
		v, ok := obj[name]
		if !ok {
			continue
		}
		s, a := countValue(v, child, depth+1)
		salts, sdArrays = salts+s, sdArrays+a
		if child.sd {
			salts++
			hasSD = true
		}
	}
	if hasSD {
		sdArrays++
	}
	return salts, sdArrays
}

func countValue(v any, n *node, depth int) (salts, sdArrays int) {
	if n == nil {
		return 0, 0
	}
	switch x := v.(type) {
	case map[string]any:
		return countObject(x, n, depth)
	case []any:
		if depth > maxJSONDepth {
			return 0, 0
		}
		for i, el := range x {
			en := n.element(i)
			if en == nil {
				continue
			}
			s, a := countValue(el, en, depth+1)
			salts, sdArrays = salts+s, sdArrays+a
			if en.sd {
				salts++
			}
		}
	}
	return salts, sdArrays
}

func (b *builder) take(n int) ([]byte, error) {
	if len(b.random) < n {
		return nil, fmt.Errorf("%w: random source exhausted", ErrInvalidClaims)
	}
	out := b.random[:n]
	b.random = b.random[n:]
	return out, nil
}

// finish returns the Disclosures as slices of all, which holds the arena at arenaAt and the
// tail at tailAt.
func (b *builder) finish(all string, arenaAt, tailAt int) []Disclosure {
	if len(b.recs) == 0 {
		return nil
	}
	out := make([]Disclosure, len(b.recs))
	for i, r := range b.recs {
		out[i] = Disclosure{
			Encoded:      all[arenaAt+r.encAt : arenaAt+r.encTo],
			Digest:       all[tailAt+r.digestAt : tailAt+r.digestAt+digestB64Len],
			Salt:         all[tailAt+r.saltAt : tailAt+r.saltTo],
			Name:         r.name,
			ArrayElement: r.element,
			Value:        b.values[r.valAt:r.valTo:r.valTo],
		}
	}
	return out
}

// appendSalt draws the next salt and appends it to dst as a JSON string; rec records it.
func (b *builder) appendSalt(dst []byte, rec *discRec) ([]byte, error) {
	rec.saltAt = len(b.tail)
	if b.salts != nil {
		s, err := b.salts.NextSalt()
		if err != nil {
			return dst, fmt.Errorf("salt source: %w", err)
		}
		b.tail = append(b.tail, s...)
		rec.saltTo = len(b.tail)
		return appendString(dst, s), nil
	}
	raw, err := b.take(saltBytes)
	if err != nil {
		return dst, err
	}
	b.tail = b64.AppendEncode(b.tail, raw)
	rec.saltTo = len(b.tail)
	dst = append(dst, '"')
	dst = append(dst, b.tail[rec.saltAt:]...)
	return append(dst, '"'), nil
}

// appendObjectBody writes the members of obj (without the braces when top is true, after the
// registered claims; with braces otherwise).
func (b *builder) appendObjectBody(dst []byte, obj map[string]any, n *node, top bool, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return dst, fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
	}
	first := !top
	if !top {
		dst = append(dst, '{')
	}
	keysAt, digsAt := len(b.keys), len(b.digs)
	defer func() { b.keys, b.digs = b.keys[:keysAt], b.digs[:digsAt] }()
	for name := range obj {
		b.keys = append(b.keys, name)
	}
	slices.Sort(b.keys[keysAt:])
	for i := keysAt; i < keysAt+len(obj); i++ {
		name := b.keys[i] // b.keys may grow (and move) in the nested calls below
		v := obj[name]
		child := n.member(name)
		if child != nil && child.sd {
			var d digest
			var err error
			if dst, d, err = b.disclose(dst, name, false, v, child, depth); err != nil {
				return dst, atClaim(err, Name(name))
			}
			b.digs = append(b.digs, d)
			continue
		}
		if !first {
			dst = b.enc.comma(dst)
		}
		first = false
		dst = b.enc.colon(appendString(dst, name))
		var err error
		if dst, err = b.appendValue(dst, v, child, depth+1); err != nil {
			return dst, atClaim(err, Name(name))
		}
	}
	if len(b.digs) > digsAt {
		if err := b.addDecoys(); err != nil {
			return dst, err
		}
		digests := b.digs[digsAt:]
		// sorted, so the _sd order reveals nothing of the claim order
		slices.SortFunc(digests, func(x, y digest) int { return bytes.Compare(x[:], y[:]) })
		if !first {
			dst = b.enc.comma(dst)
		}
		first = false
		dst = b.enc.colon(append(dst, `"_sd"`...))
		dst = append(dst, '[')
		for i := range digests {
			if i > 0 {
				dst = b.enc.comma(dst)
			}
			dst = append(dst, '"')
			dst = append(dst, digests[i][:]...)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	}
	if top {
		return append(dst, `,"_sd_alg":"sha-256"`...), nil
	}
	return append(dst, '}'), nil
}

// appendValue writes v, applying rule n to its members or elements.
func (b *builder) appendValue(dst []byte, v any, n *node, depth int) ([]byte, error) {
	if !n.hasRules() {
		return b.enc.appendValue(dst, v, depth)
	}
	if err := n.misfit(v); err != nil {
		return dst, err
	}
	switch x := v.(type) {
	case map[string]any:
		return b.appendObjectBody(dst, x, n, false, depth)
	case []any:
		if depth > maxJSONDepth {
			return dst, fmt.Errorf("%w: nesting deeper than %d", ErrInvalidClaims, maxJSONDepth)
		}
		dst = append(dst, '[')
		for i, el := range x {
			if i > 0 {
				dst = b.enc.comma(dst)
			}
			en := n.element(i)
			if en != nil && en.sd {
				var d digest
				var err error
				if dst, d, err = b.disclose(dst, "", true, el, en, depth); err != nil {
					return dst, atClaim(err, Index(i))
				}
				dst = append(dst, '{')
				dst = b.enc.colon(append(dst, `"..."`...))
				dst = append(dst, '"')
				dst = append(dst, d[:]...)
				dst = append(dst, '"', '}')
				continue
			}
			var err error
			if dst, err = b.appendValue(dst, el, en, depth+1); err != nil {
				return dst, atClaim(err, Index(i))
			}
		}
		return append(dst, ']'), nil
	default: // n.misfit refused every other kind
		return dst, fmt.Errorf("%w: claim of kind %s", ErrInvalidClaims, kindOf(v))
	}
}

// disclose creates the disclosure of v (its nested disclosures first) and returns its digest.
// It builds the disclosure's JSON in the free space after dst and returns dst as it was (the
// same bytes, possibly moved by growth).
func (b *builder) disclose(dst []byte, name string, element bool, v any, n *node, depth int) ([]byte, digest, error) {
	var d digest
	base := len(dst)
	// The value is encoded before the salt is drawn, so nested disclosures get their salts first.
	dst, err := b.appendValue(dst, v, n, depth+1)
	if err != nil {
		return dst[:base], d, err
	}
	valueEnd := len(dst)
	rec := discRec{name: name, element: element}
	dst = append(dst, '[')
	if dst, err = b.appendSalt(dst, &rec); err != nil {
		return dst[:base], d, err
	}
	if !element {
		dst = appendString(b.enc.comma(dst), name)
	}
	dst = b.enc.comma(dst)
	dst = append(dst, dst[base:valueEnd]...)
	dst = append(dst, ']')

	rec.valAt = len(b.values)
	b.values = append(b.values, dst[base:valueEnd]...)
	rec.valTo = len(b.values)
	rec.encAt = len(b.arena)
	b.arena = b64.AppendEncode(b.arena, dst[valueEnd:])
	rec.encTo = len(b.arena)
	b.arena = append(b.arena, '~')
	sum := sha256.Sum256(b.arena[rec.encAt:rec.encTo])
	b64.Encode(d[:], sum[:])
	rec.digestAt = len(b.tail)
	b.tail = append(b.tail, d[:]...)
	b.recs = append(b.recs, rec)
	return dst[:base], d, nil
}

// addDecoys pushes decoy digests onto b.digs: SHA-256 over fresh random salts, encoded as a
// disclosure salt would be, indistinguishable from real digests.
func (b *builder) addDecoys() error {
	if b.cfg.decoysMax == 0 {
		return nil
	}
	pick, err := b.take(1)
	if err != nil {
		return err
	}
	n := b.cfg.decoysMin + int(pick[0])%(b.cfg.decoysMax-b.cfg.decoysMin+1)
	for range n {
		raw, err := b.take(saltBytes)
		if err != nil {
			return err
		}
		var salt [saltB64Len]byte
		b64.Encode(salt[:], raw)
		sum := sha256.Sum256(salt[:])
		var d digest
		b64.Encode(d[:], sum[:])
		b.digs = append(b.digs, d)
	}
	return nil
}
