package statuslist

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// The run shortcut of the match search must not change the parse: it is an optimisation of the plain chain walk.
func TestLZ77RunShortcutMatchesPlainWalk(t *testing.T) {
	sparse := func(n int, density float64, seed uint64) []byte {
		rng := rand.New(rand.NewPCG(seed, 1))
		b := make([]byte, n)
		for i := range b {
			if rng.Float64() < density {
				b[i] = byte(1 << (2 * rng.IntN(4)) * (1 + rng.IntN(2)))
			}
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"draft 1 bit", []byte{0xb9, 0xa3}},
		{"zeros", make([]byte, 100_000)},
		{"sparse 1%", sparse(25_000, 0.01, 1)},
		{"sparse 5%", sparse(32_768, 0.05, 2)},
		{"sparse 0.1% beyond the window", sparse(200_000, 0.001, 3)},
		{"runs of ones and zeros", bytes.Repeat(append(make([]byte, 300), bytes.Repeat([]byte{1}, 17)...), 200)},
		{"short runs", bytes.Repeat([]byte{0, 0, 0, 5, 5, 5, 5, 0, 0, 0, 0, 0, 7}, 3000)},
		{"random", randomBytes(50_000, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, plain := lz77(tt.data, true), lz77(tt.data, false)
			if !slices.Equal(fast, plain) {
				t.Fatalf("parses differ: %d tokens with the shortcut, %d without", len(fast), len(plain))
			}
		})
	}
}

func TestHuffmanLengthsLimit(t *testing.T) {
	// Fibonacci frequencies make the deepest possible Huffman tree; the lengths must still respect the limit and
	// satisfy Kraft's equality (a complete prefix code).
	tests := []struct {
		name    string
		freq    []int
		maxBits int
	}{
		{"fibonacci 30 symbols, 15 bits", fibonacci(30), 15},
		{"fibonacci 19 symbols, 7 bits", fibonacci(19), 7},
		{"one symbol", []int{0, 0, 5}, 15},
		{"no symbol", []int{0, 0, 0}, 15},
		{"two equal", []int{3, 3}, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lengths := huffmanLengths(tt.freq, tt.maxBits)
			kraft := 0.0
			for s, l := range lengths {
				if int(l) > tt.maxBits {
					t.Fatalf("symbol %d has length %d > %d", s, l, tt.maxBits)
				}
				if tt.freq[s] > 0 && l == 0 {
					t.Fatalf("used symbol %d has no code", s)
				}
				if l > 0 {
					kraft += 1 / float64(uint(1)<<l)
				}
			}
			if kraft != 1 {
				t.Fatalf("Kraft sum %v, want 1 (lengths %v)", kraft, lengths)
			}
		})
	}
}

func fibonacci(n int) []int {
	f := make([]int, n)
	a, b := 1, 1
	for i := range f {
		f[i] = a
		a, b = b, a+b
	}
	return f
}
