package statuslist

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// The examples of draft-ietf-oauth-status-list, section "Status List" (bits 1) and "Further Examples" (bits 2).
var draftVectors = []struct {
	name     string
	bits     int
	statuses []Status
	bytes    []byte
	lst      string
}{
	{
		name:     "1 bit",
		bits:     1,
		statuses: []Status{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1},
		bytes:    []byte{0xb9, 0xa3},
		lst:      "eNrbuRgAAhcBXQ",
	},
	{
		name:     "2 bits",
		bits:     2,
		statuses: []Status{1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3},
		bytes:    []byte{0xc9, 0x44, 0xf9},
		lst:      "eNo76fITAAPfAgc",
	},
}

func TestDraftVectorsEncode(t *testing.T) {
	for _, v := range draftVectors {
		t.Run(v.name, func(t *testing.T) {
			l, err := New(v.bits, len(v.statuses))
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range v.statuses {
				if err := l.Set(i, s); err != nil {
					t.Fatalf("Set(%d, %d): %v", i, s, err)
				}
			}
			if got := l.Bytes(); !bytes.Equal(got, v.bytes) {
				t.Errorf("bytes = %x, want %x", got, v.bytes)
			}
			// Any valid ZLIB stream is a valid lst: ours is checked by decoding it (with our decoder and the
			// standard library's inflater), not by byte equality with the draft's (the reference zlib's).
			lst := l.Encode()
			if got := inflate(t, lst); !bytes.Equal(got, v.bytes) {
				t.Errorf("inflate(lst) = %x, want %x", got, v.bytes)
			}
			back, err := Decode(v.bits, lst)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range v.statuses {
				if got, err := back.Get(i); err != nil || got != want {
					t.Errorf("Get(%d) = %d, %v; want %d", i, got, err, want)
				}
			}
		})
	}
}

func TestDraftVectorsDecode(t *testing.T) {
	for _, v := range draftVectors {
		t.Run(v.name, func(t *testing.T) {
			l, err := Decode(v.bits, v.lst)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Bytes(); !bytes.Equal(got, v.bytes) {
				t.Errorf("bytes = %x, want %x", got, v.bytes)
			}
			if l.Len() != len(v.statuses) {
				t.Errorf("Len = %d, want %d", l.Len(), len(v.statuses))
			}
			for i, want := range v.statuses {
				if got, err := l.Get(i); err != nil || got != want {
					t.Errorf("Get(%d) = %d, %v; want %d", i, got, err, want)
				}
			}
		})
	}
}

func TestSetGetBitOrder(t *testing.T) {
	tests := []struct {
		bits int
		idx  int
		s    Status
		want []byte
	}{
		{bits: 1, idx: 0, s: 1, want: []byte{0x01, 0x00}},
		{bits: 1, idx: 7, s: 1, want: []byte{0x80, 0x00}},
		{bits: 1, idx: 8, s: 1, want: []byte{0x00, 0x01}},
		{bits: 2, idx: 0, s: Invalid, want: []byte{0x01, 0x00}},
		{bits: 2, idx: 0, s: Suspended, want: []byte{0x02, 0x00}},
		{bits: 2, idx: 3, s: Suspended, want: []byte{0x80, 0x00}},
		{bits: 2, idx: 5, s: 3, want: []byte{0x00, 0x0c}},
		{bits: 4, idx: 1, s: 0xA, want: []byte{0xa0, 0x00}},
		{bits: 4, idx: 2, s: 0xF, want: []byte{0x00, 0x0f}},
		{bits: 8, idx: 1, s: 0xFE, want: []byte{0x00, 0xfe}},
	}
	for _, tt := range tests {
		l, err := New(tt.bits, 16/tt.bits)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Set(tt.idx, tt.s); err != nil {
			t.Fatalf("bits %d Set(%d): %v", tt.bits, tt.idx, err)
		}
		if got := l.Bytes(); !bytes.Equal(got, tt.want) {
			t.Errorf("bits %d Set(%d, %d): bytes %x, want %x", tt.bits, tt.idx, tt.s, got, tt.want)
		}
		for i := range l.Len() {
			want := Valid
			if i == tt.idx {
				want = tt.s
			}
			if got, _ := l.Get(i); got != want {
				t.Errorf("bits %d: Get(%d) = %d, want %d", tt.bits, i, got, want)
			}
		}
		// Overwriting with VALID clears only that entry's bits.
		if err := l.Set(tt.idx, Valid); err != nil {
			t.Fatal(err)
		}
		if got := l.Bytes(); !bytes.Equal(got, make([]byte, 2)) {
			t.Errorf("bits %d: after reset bytes %x, want zeros", tt.bits, got)
		}
	}
}

func TestBounds(t *testing.T) {
	l, err := New(2, 100)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		run  func() error
	}{
		{"get negative", ErrIndexOutOfRange, func() error { _, err := l.Get(-1); return err }},
		{"get at len", ErrIndexOutOfRange, func() error { _, err := l.Get(100); return err }},
		{"get last", nil, func() error { _, err := l.Get(99); return err }},
		{"set at len", ErrIndexOutOfRange, func() error { return l.Set(100, Invalid) }},
		{"set negative", ErrIndexOutOfRange, func() error { return l.Set(-1, Invalid) }},
		{"set status 4 in 2 bits", ErrStatusOutOfRange, func() error { return l.Set(0, 4) }},
		{"set status 3 in 2 bits", nil, func() error { return l.Set(0, 3) }},
		{"new bits 3", ErrInvalidBits, func() error { _, err := New(3, 8); return err }},
		{"new bits 0", ErrInvalidBits, func() error { _, err := New(0, 8); return err }},
		{"new size 0", ErrInvalidSize, func() error { _, err := New(2, 0); return err }},
		{"new size too large", ErrInvalidSize, func() error { _, err := New(8, DefaultMaxBytes+1); return err }},
		{"from empty bytes", ErrInvalidSize, func() error { _, err := FromBytes(2, nil); return err }},
		{"from bytes bits 16", ErrInvalidBits, func() error { _, err := FromBytes(16, []byte{1}); return err }},
		{"decode bits 5", ErrInvalidBits, func() error { _, err := Decode(5, "eNrbuRgAAhcBXQ"); return err }},
		{"decode padded", ErrMalformedList, func() error { _, err := Decode(1, "eNrbuRgAAhcBXQ=="); return err }},
		{"decode std base64", ErrMalformedList, func() error { _, err := Decode(1, "eNo+"); return err }},
		{"decode not zlib", ErrMalformedList, func() error { _, err := Decode(1, "AAAA"); return err }},
		{"decode bad checksum", ErrMalformedList, func() error { _, err := Decode(1, "eNrbuRgAAhcBXA"); return err }},
		{"decode truncated", ErrMalformedList, func() error { _, err := Decode(1, "eNrbuRgAAhc"); return err }},
		{"decode empty list", ErrMalformedList, func() error { _, err := Decode(1, zlibB64(t, nil)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if tt.err == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
		})
	}
}

func zlibB64(t testing.TB, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestDecompressionBound(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		opts    []DecodeOption
		wantErr error
	}{
		{"at the bound", 1 << 16, []DecodeOption{WithMaxBytes(1 << 16)}, nil},
		{"one byte over", 1<<16 + 1, []DecodeOption{WithMaxBytes(1 << 16)}, ErrListTooLarge},
		{"bomb over the default bound", DefaultMaxBytes + 1<<20, nil, ErrListTooLarge},
		{"zero bound", 8, []DecodeOption{WithMaxBytes(0)}, ErrInvalidSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lst := zlibB64(t, make([]byte, tt.size))
			l, err := Decode(2, lst, tt.opts...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode of %d bytes (lst %d chars): error %v, want %v", tt.size, len(lst), err, tt.wantErr)
			}
			if err == nil && l.Len() != tt.size*4 {
				t.Fatalf("Len = %d, want %d", l.Len(), tt.size*4)
			}
		})
	}
}

// inflate decompresses a ZLIB stream with the standard library, the reference decoder of the round trip tests.
func inflate(t testing.TB, lst string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(lst)
	if err != nil {
		t.Fatalf("base64url: %v", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("zlib header: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		bits    int
		size    int
		density float64 // share of entries set to a non-zero status
	}{
		{"1 bit tiny", 1, 8, 0.5},
		{"2 bits empty", 2, 4, 0},
		{"2 bits 1k sparse", 2, 1000, 0.01},
		{"2 bits 131072 sparse", 2, 1 << 17, 0.001},
		{"2 bits 131072 dense", 2, 1 << 17, 0.5},
		{"2 bits 300k full random", 2, 300_000, 1},
		{"4 bits 10k", 4, 10_000, 0.2},
		{"8 bits 70k random (stored blocks)", 8, 70_000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.bits, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]Status, tt.size)
			for i := range want {
				if rng.Float64() < tt.density {
					want[i] = Status(rng.IntN(1 << tt.bits))
					if err := l.Set(i, want[i]); err != nil {
						t.Fatal(err)
					}
				}
			}
			lst := l.Encode()
			if got := inflate(t, lst); !bytes.Equal(got, l.Bytes()) {
				t.Fatalf("stdlib inflate of our lst differs from the list bytes")
			}
			back, err := Decode(tt.bits, lst)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				if got, err := back.Get(i); err != nil || got != w {
					t.Fatalf("Get(%d) = %d, %v; want %d", i, got, err, w)
				}
			}
			t.Logf("%d entries, %d bytes -> lst %d chars", tt.size, len(l.Bytes()), len(lst))
		})
	}
}

func TestCompressRepetitive(t *testing.T) {
	// Patterns that exercise long matches, lazy matching, far distances and run-length encoded trees.
	tests := []struct {
		name string
		data []byte
	}{
		{"zeros 1MiB", make([]byte, 1<<20)},
		{"period 3", bytes.Repeat([]byte{1, 2, 3}, 50_000)},
		{"period 40000 (beyond the window)", bytes.Repeat(randomBytes(40_000, 7), 3)},
		{"text-like", bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog "), 2000)},
		{"one byte", []byte{0x42}},
		{"all byte values", func() []byte {
			b := make([]byte, 256*40)
			for i := range b {
				b[i] = byte(i * 7)
			}
			return b
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := FromBytes(8, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			lst := l.Encode()
			if got := inflate(t, lst); !bytes.Equal(got, tt.data) {
				t.Fatalf("round trip differs")
			}
		})
	}
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestFromBytesCopies(t *testing.T) {
	src := []byte{0x01, 0x02}
	l, err := FromBytes(2, src)
	if err != nil {
		t.Fatal(err)
	}
	src[0] = 0xff
	if got, _ := l.Get(0); got != Invalid {
		t.Fatalf("FromBytes shares the caller's slice: Get(0) = %d", got)
	}
	out := l.Bytes()
	out[0] = 0xff
	if got, _ := l.Get(0); got != Invalid {
		t.Fatalf("Bytes shares the list's slice: Get(0) = %d", got)
	}
	if l.Len() != 8 || l.Bits() != 2 {
		t.Fatalf("Len, Bits = %d, %d; want 8, 2", l.Len(), l.Bits())
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range draftVectors {
		f.Add(v.bits, v.lst)
	}
	f.Add(2, "eNrbuRgAAhcBXA")
	f.Add(1, "")
	f.Add(8, "eJzt0DEBAAAAwqD1T20NDyiAAgAAAAAAAAAAAAAAAAD4GTB0AAE")
	f.Fuzz(func(t *testing.T, bits int, lst string) {
		l, err := Decode(bits, lst, WithMaxBytes(1<<20))
		if err != nil {
			return
		}
		if l.Len() <= 0 || l.Len() != len(l.Bytes())*8/bits {
			t.Fatalf("decoded list of %d bytes has Len %d", len(l.Bytes()), l.Len())
		}
		if _, err := l.Get(l.Len() - 1); err != nil {
			t.Fatalf("Get(last): %v", err)
		}
		if _, err := l.Get(l.Len()); !errors.Is(err, ErrIndexOutOfRange) {
			t.Fatalf("Get(Len) error %v", err)
		}
		// What decodes re-encodes to the same bytes.
		again, err := Decode(bits, l.Encode())
		if err != nil || !bytes.Equal(again.Bytes(), l.Bytes()) {
			t.Fatalf("re-encode round trip failed: %v", err)
		}
	})
}

func FuzzEncode(f *testing.F) {
	f.Add([]byte{0xb9, 0xa3})
	f.Add(make([]byte, 1000))
	f.Add(bytes.Repeat([]byte{0, 0, 0, 4}, 300))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		l, err := FromBytes(8, data)
		if err != nil {
			return
		}
		if got := inflate(t, l.Encode()); !bytes.Equal(got, data) {
			t.Fatalf("stdlib inflate of our encoding differs")
		}
	})
}

// BenchmarkEncode100k encodes and compresses a 100,000-entry 2-bit list with 1% of its entries revoked or
// suspended, the work of re-signing one status list after a change.
func BenchmarkEncode100k(b *testing.B) {
	l, err := New(2, 100_000)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		if err := l.Set(rng.IntN(100_000), Status(1+rng.IntN(2))); err != nil {
			b.Fatal(err)
		}
	}
	var lst string
	b.ReportAllocs()
	for b.Loop() {
		lst = l.Encode()
	}
	b.ReportMetric(float64(len(lst)), "lst-bytes")
}

// BenchmarkDecode100k decodes the same list, the work of a relying party or of a self-check.
func BenchmarkDecode100k(b *testing.B) {
	l, err := New(2, 100_000)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		if err := l.Set(rng.IntN(100_000), Status(1+rng.IntN(2))); err != nil {
			b.Fatal(err)
		}
	}
	lst := l.Encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(2, lst); err != nil {
			b.Fatal(err)
		}
	}
}
