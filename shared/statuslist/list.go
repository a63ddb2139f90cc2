package statuslist

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"io"
)

// DefaultMaxBytes bounds the decompressed size of a status list Decode accepts unless told otherwise: 16 MiB,
// 64 million entries at 2 bits, far above any list we issue (32 KiB) and small enough that a zip bomb in an `lst`
// cannot exhaust a Lambda's memory.
const DefaultMaxBytes = 16 << 20

// List is a status list: one status of Bits bits per credential index, packed into a byte array with index 0 in
// the least significant bits of byte 0 (draft section "Status List"). The zero value is not usable; build one with
// New, FromBytes or Decode. A List is not safe for concurrent mutation.
type List struct {
	bits int
	size int
	data []byte
}

// New returns an all-VALID list of size entries of bits bits each.
func New(bits, size int) (*List, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("new status list: %w", ErrInvalidBits)
	}
	if size <= 0 || size > DefaultMaxBytes*(8/bits) {
		return nil, fmt.Errorf("new status list of %d entries: %w", size, ErrInvalidSize)
	}
	return &List{bits: bits, size: size, data: make([]byte, ByteLen(bits, size))}, nil
}

// FromBytes returns the list held in a byte array (e.g. as stored); it has len(b)*8/bits entries. b is copied.
func FromBytes(bits int, b []byte) (*List, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("status list from bytes: %w", ErrInvalidBits)
	}
	if len(b) == 0 || len(b) > DefaultMaxBytes {
		return nil, fmt.Errorf("status list from %d bytes: %w", len(b), ErrInvalidSize)
	}
	return &List{bits: bits, size: len(b) * 8 / bits, data: bytes.Clone(b)}, nil
}

// ByteLen is the length of the byte array of a list of entries entries of bits bits (rounded up to whole bytes).
func ByteLen(bits, entries int) int {
	return (entries*bits + 7) / 8
}

func validBits(bits int) bool {
	return bits == 1 || bits == 2 || bits == 4 || bits == 8
}

// Bits is the number of bits per entry.
func (l *List) Bits() int { return l.bits }

// Len is the number of entries; valid indexes are 0 to Len()-1.
func (l *List) Len() int { return l.size }

// Bytes returns a copy of the uncompressed byte array.
func (l *List) Bytes() []byte { return bytes.Clone(l.data) }

// Get returns the status at index idx.
func (l *List) Get(idx int) (Status, error) {
	if idx < 0 || idx >= l.size {
		return 0, fmt.Errorf("get status at %d of %d: %w", idx, l.size, ErrIndexOutOfRange)
	}
	perByte := 8 / l.bits
	shift := uint(idx%perByte) * uint(l.bits)
	mask := byte(1<<l.bits - 1)
	return Status(l.data[idx/perByte] >> shift & mask), nil
}

// Set writes status s at index idx; s must fit in the list's bits.
func (l *List) Set(idx int, s Status) error {
	if idx < 0 || idx >= l.size {
		return fmt.Errorf("set status at %d of %d: %w", idx, l.size, ErrIndexOutOfRange)
	}
	if int(s) >= 1<<l.bits {
		return fmt.Errorf("set status %s in a %d-bit list: %w", s, l.bits, ErrStatusOutOfRange)
	}
	perByte := 8 / l.bits
	shift := uint(idx%perByte) * uint(l.bits)
	mask := byte(1<<l.bits-1) << shift
	b := &l.data[idx/perByte]
	*b = *b&^mask | byte(s)<<shift
	return nil
}

// Encode returns the `lst` value: the byte array compressed by compress/zlib (RFC 1950), base64url-encoded without
// padding. Any valid ZLIB stream is a valid `lst`: the bytes need not equal those of another encoder (the draft's
// examples come from the reference zlib), only decode to the same list.
//
// The default level, not the best: on a 100,000-entry list with 1,000 entries set (BenchmarkEncode100k) it takes
// 0.8 ms for 2,618 bytes where zlib.BestCompression takes 13 ms for 2,158 bytes; every status change and every
// re-signed token encodes the list, and both sizes are three DynamoDB write units.
func (l *List) Encode() string {
	var buf bytes.Buffer
	// NewWriterLevel fails only for an unknown level; Write and Close into a bytes.Buffer cannot fail.
	zw, _ := zlib.NewWriterLevel(&buf, zlib.DefaultCompression)
	_, _ = zw.Write(l.data)
	_ = zw.Close()
	return base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

// DecodeOption tunes Decode.
type DecodeOption func(*decodeConfig)

type decodeConfig struct {
	maxBytes int
}

// WithMaxBytes bounds the decompressed size of the list (default DefaultMaxBytes); a larger list fails with
// ErrListTooLarge before more than n+1 bytes are inflated.
func WithMaxBytes(n int) DecodeOption {
	return func(c *decodeConfig) { c.maxBytes = n }
}

// Decode reads an `lst` value of a list of bits bits per entry: base64url without padding, then ZLIB. The list has
// one entry per bits of the decompressed bytes.
func Decode(bits int, lst string, opts ...DecodeOption) (*List, error) {
	cfg := decodeConfig{maxBytes: DefaultMaxBytes}
	for _, o := range opts {
		o(&cfg)
	}
	if !validBits(bits) {
		return nil, fmt.Errorf("decode status list: %w", ErrInvalidBits)
	}
	if cfg.maxBytes <= 0 {
		return nil, fmt.Errorf("decode status list: bound %d: %w", cfg.maxBytes, ErrInvalidSize)
	}
	compressed, err := base64.RawURLEncoding.DecodeString(lst)
	if err != nil {
		return nil, fmt.Errorf("decode status list: base64url: %w: %w", ErrMalformedList, err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("decode status list: zlib: %w: %w", ErrMalformedList, err)
	}
	defer zr.Close()
	// Reading one byte past the bound tells a list of exactly maxBytes (accepted) from a larger one (refused),
	// and reaching EOF within the bound makes zlib verify the Adler-32 checksum.
	data, err := io.ReadAll(io.LimitReader(zr, int64(cfg.maxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("decode status list: inflate: %w: %w", ErrMalformedList, err)
	}
	if len(data) > cfg.maxBytes {
		return nil, fmt.Errorf("decode status list: more than %d bytes: %w", cfg.maxBytes, ErrListTooLarge)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("decode status list: no entries: %w", ErrMalformedList)
	}
	return &List{bits: bits, size: len(data) * 8 / bits, data: data}, nil
}
