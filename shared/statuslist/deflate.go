package statuslist

import (
	"encoding/binary"
	"hash/adler32"
	"math/bits"
	"slices"
)

// This file is a DEFLATE (RFC 1951) compressor in the ZLIB (RFC 1950) format, tuned like zlib's best level
// (lazy matching, chains of 4096, nice length 258) and, like zlib, writing the whole list as one final block of the
// cheapest type (stored, fixed or dynamic Huffman). The standard library's compress/zlib cannot be used for `lst`:
// it always ends a stream with an extra empty stored block, so it can never produce the draft's example values
// (e.g. "eNrbuRgAAhcBXQ"), which the reference zlib, pako and every other implementation produce byte for byte.
// Decoding uses the standard library's inflater.

const (
	windowSize  = 1 << 15
	minMatch    = 3
	maxMatch    = 258
	hashBits    = 15
	maxChain    = 4096 // zlib level 9
	goodMatch   = 32   // zlib level 9: search a quarter of the chain once a match this good is pending
	tooFar      = 4096 // zlib: a 3-byte match farther than this costs more than its literals
	maxStored   = 65535
	endOfBlock  = 256
	numLitLen   = 286
	numDist     = 30
	numCodeLen  = 19
	maxLitBits  = 15
	maxCodeBits = 7
)

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// codeLenOrder is the order in which the code length code lengths are sent (RFC 1951 section 3.2.7).
	codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// lz77Token is a literal byte (dist 0, value in length) or a back reference of length 3..258 at distance 1..32768.
type lz77Token struct {
	length uint16
	dist   uint16 // 0 for a literal; DEFLATE distances are at most 32768
}

// compressZlib returns data compressed as a ZLIB stream with one final DEFLATE block.
func compressZlib(data []byte) []byte {
	tokens := lz77(data, true)
	out := make([]byte, 0, 2+len(tokens)+64)
	// CMF 0x78: deflate with a 32 KiB window; FLG 0xDA: FLEVEL 3 (maximum compression), no dictionary, check bits.
	out = append(out, 0x78, 0xDA)
	out = deflateBlock(out, data, tokens)
	return binary.BigEndian.AppendUint32(out, adler32.Checksum(data))
}

// lz77 parses data into literals and matches with zlib's lazy evaluation (deflate_slow). skipRuns enables the run
// shortcut of the match search, which gives the same result faster; the plain walk remains for tests.
func lz77(data []byte, skipRuns bool) []lz77Token {
	n := len(data)
	tokens := make([]lz77Token, 0, n/64+16)
	head := make([]int32, 1<<hashBits)
	for i := range head {
		head[i] = -1
	}
	prev := make([]int32, n)
	// runStart and runEnd delimit the run of equal bytes around each position. Status lists are long runs of
	// zero bytes, and a hash chain through a run visits every position of it; which of them gives the best match
	// follows from the run's bounds (see longest), so a run costs one comparison instead of one per position.
	runStart := make([]int32, n)
	runEnd := make([]int32, n)
	for p := 1; p < n; p++ {
		if data[p] == data[p-1] {
			runStart[p] = runStart[p-1]
		} else {
			runStart[p] = int32(p)
		}
	}
	for p := n - 1; p >= 0; p-- {
		if p+1 < n && data[p] == data[p+1] {
			runEnd[p] = runEnd[p+1]
		} else {
			runEnd[p] = int32(p + 1)
		}
	}
	insert := func(i int) int {
		v := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16
		h := (v * 0x1e35a7bd) >> (32 - hashBits)
		cand := head[h]
		prev[i] = cand
		head[h] = int32(i)
		return int(cand)
	}
	// longest returns the longest match for position i along the hash chain starting at cand, exactly as a plain
	// walk of the chain would (same length, nearest distance, same chain and window limits).
	longest := func(i, cand, prevLen int) (int, int) {
		best := max(prevLen, minMatch-1)
		bestDist := 0
		chain := maxChain
		if prevLen >= goodMatch {
			chain >>= 2
		}
		maxLen := min(maxMatch, n-i)
		if best >= maxLen {
			return 0, 0
		}
		// When i starts a run of at least three bytes b, every chain entry inside another run of b is followed in
		// the chain by the positions before it in that run, down to the run's start s. For an entry c' of the
		// run [s, e) the match is min(e-c', li) bytes long, except at c' = e-li where it may go on past the run:
		// the best entry of the run, and the nearest with that length, is e-li clamped to [s, c].
		li := min(int(runEnd[i])-i, maxLen)
		runs := skipRuns && li >= minMatch
		try := func(c int) bool {
			if data[c+best] != data[i+best] || data[c] != data[i] {
				return false
			}
			l := matchLen(data[c:c+maxLen], data[i:i+maxLen])
			if l > best {
				best, bestDist = l, i-c
			}
			return best >= maxLen
		}
		for cand >= 0 && i-cand <= windowSize && chain > 0 {
			c := cand
			if runs && data[c] == data[i] && int(runEnd[c])-c >= minMatch {
				s := max(int(runStart[c]), i-windowSize, c-chain+1)
				t := min(max(int(runEnd[c])-li, s), c)
				if try(t) {
					break
				}
				chain -= c - s + 1
				cand = int(prev[s])
				continue
			}
			if try(c) {
				break
			}
			cand = int(prev[c])
			chain--
		}
		if bestDist == 0 {
			return 0, 0
		}
		return best, bestDist
	}

	prevLen, prevDist, pending := 0, 0, false
	for i := 0; i < n; {
		curLen, curDist := 0, 0
		if i+minMatch <= n {
			cand := insert(i)
			if cand >= 0 && prevLen < maxMatch {
				curLen, curDist = longest(i, cand, prevLen)
				if curLen == minMatch && curDist > tooFar {
					curLen, curDist = 0, 0
				}
			}
		}
		switch {
		case prevLen >= minMatch && curLen <= prevLen:
			tokens = append(tokens, lz77Token{length: uint16(prevLen), dist: uint16(prevDist)})
			end := i - 1 + prevLen
			for j := i + 1; j < end && j+minMatch <= n; j++ {
				insert(j)
			}
			i = end
			prevLen, prevDist, pending = 0, 0, false
		case pending:
			tokens = append(tokens, lz77Token{length: uint16(data[i-1])})
			prevLen, prevDist = curLen, curDist
			i++
		default:
			prevLen, prevDist, pending = curLen, curDist, true
			i++
		}
	}
	if pending {
		tokens = append(tokens, lz77Token{length: uint16(data[n-1])})
	}
	return tokens
}

// matchLen is the length of the common prefix of a and b (len(a) == len(b)), compared eight bytes at a time.
func matchLen(a, b []byte) int {
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])
		if x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < len(a) && a[i] == b[i]; i++ {
	}
	return i
}

func lengthCode(l int) int {
	if l == maxMatch {
		return 28
	}
	c := 0
	for c+1 < 28 && int(lengthBase[c+1]) <= l {
		c++
	}
	return c
}

func distCode(d int) int {
	c := 0
	for c+1 < numDist && int(distBase[c+1]) <= d {
		c++
	}
	return c
}

// deflateBlock appends data as one final block of the cheapest type, chosen as zlib's _tr_flush_block does.
func deflateBlock(out, data []byte, tokens []lz77Token) []byte {
	litFreq := make([]int, numLitLen)
	distFreq := make([]int, numDist)
	extraBits := 0
	for _, t := range tokens {
		if t.dist == 0 {
			litFreq[t.length]++
			continue
		}
		lc, dc := lengthCode(int(t.length)), distCode(int(t.dist))
		litFreq[257+lc]++
		distFreq[dc]++
		extraBits += int(lengthExtra[lc]) + int(distExtra[dc])
	}
	litFreq[endOfBlock] = 1

	fixedLit, fixedDist := fixedLengths()
	dynLit := huffmanLengths(litFreq, maxLitBits)
	dynDist := huffmanLengths(distFreq, maxLitBits)
	header := newDynamicHeader(dynLit, dynDist)

	fixedCost := 3 + extraBits + treeCost(litFreq, fixedLit) + treeCost(distFreq, fixedDist)
	dynCost := 3 + extraBits + treeCost(litFreq, dynLit) + treeCost(distFreq, dynDist) + header.cost()
	fixedBytes, dynBytes := (fixedCost+7)/8, (dynCost+7)/8
	storedBytes := len(data) + 5*max(1, (len(data)+maxStored-1)/maxStored)

	w := bitWriter{out: out}
	switch {
	case storedBytes <= min(fixedBytes, dynBytes):
		for off := 0; off < len(data) || off == 0; off += maxStored {
			chunk := data[off:min(off+maxStored, len(data))]
			final := off+maxStored >= len(data)
			w.writeBits(boolBit(final), 3) // BTYPE 00
			w.alignToByte()
			w.out = binary.LittleEndian.AppendUint16(w.out, uint16(len(chunk)))
			w.out = binary.LittleEndian.AppendUint16(w.out, ^uint16(len(chunk)))
			w.out = append(w.out, chunk...)
		}
	case fixedBytes <= dynBytes:
		w.writeBits(1|1<<1, 3) // BFINAL, BTYPE 01
		w.writeTokens(tokens, canonicalCodes(fixedLit), fixedLit, canonicalCodes(fixedDist), fixedDist)
	default:
		w.writeBits(1|2<<1, 3) // BFINAL, BTYPE 10
		header.write(&w)
		w.writeTokens(tokens, canonicalCodes(dynLit), dynLit, canonicalCodes(dynDist), dynDist)
	}
	w.alignToByte()
	return w.out
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func treeCost(freq []int, lengths []uint8) int {
	c := 0
	for s, f := range freq {
		c += f * int(lengths[s])
	}
	return c
}

// fixedLengths are the code lengths of the fixed Huffman codes (RFC 1951 section 3.2.6).
func fixedLengths() ([]uint8, []uint8) {
	lit := make([]uint8, 288)
	for s := range lit {
		switch {
		case s < 144:
			lit[s] = 8
		case s < 256:
			lit[s] = 9
		case s < 280:
			lit[s] = 7
		default:
			lit[s] = 8
		}
	}
	dist := make([]uint8, numDist)
	for s := range dist {
		dist[s] = 5
	}
	return lit, dist
}

// huffmanLengths returns the code lengths of a Huffman code for freq, none longer than maxBits. Unused symbols get
// length 0.
func huffmanLengths(freq []int, maxBits int) []uint8 {
	lengths := make([]uint8, len(freq))
	var syms []int
	weights := make([]int, len(freq))
	for s, f := range freq {
		if f > 0 {
			syms = append(syms, s)
			weights[s] = f
		}
	}
	// Like zlib's build_tree, force at least two codes, so that every tree is a complete code: some inflaters
	// reject a one-code tree, and a block without matches still sends one bit per distance code.
	maxCode := -1
	if len(syms) > 0 {
		maxCode = syms[len(syms)-1]
	}
	for len(syms) < 2 {
		s := 0
		if maxCode < 2 {
			maxCode++
			s = maxCode
		}
		weights[s] = 1
		syms = append(syms, s)
	}
	n := len(syms)
	w := make([]int, 2*n-1)
	parent := make([]int, 2*n-1)
	depth := make([]int, 2*n-1)
	for {
		slices.SortFunc(syms, func(a, b int) int {
			if weights[a] != weights[b] {
				return weights[a] - weights[b]
			}
			return a - b
		})
		for i, s := range syms {
			w[i] = weights[s]
		}
		// Two-queue construction: leaves in ascending weight, internal nodes created in ascending weight.
		leaf, inner, next := 0, n, n
		pick := func() int {
			if leaf < n && (inner >= next || w[leaf] <= w[inner]) {
				leaf++
				return leaf - 1
			}
			inner++
			return inner - 1
		}
		for ; next < 2*n-1; next++ {
			a, b := pick(), pick()
			w[next] = w[a] + w[b]
			parent[a], parent[b] = next, next
		}
		depth[2*n-2] = 0
		deepest := 0
		for k := 2*n - 3; k >= 0; k-- {
			depth[k] = depth[parent[k]] + 1
			if k < n {
				deepest = max(deepest, depth[k])
			}
		}
		if deepest <= maxBits {
			for i, s := range syms {
				lengths[s] = uint8(depth[i])
			}
			return lengths
		}
		// Too deep: flatten the distribution and build again; with all weights 1 the depth is ceil(log2(n)),
		// within every limit DEFLATE sets for its alphabets.
		for _, s := range syms {
			weights[s] = (weights[s] + 1) / 2
		}
	}
}

// canonicalCodes assigns canonical Huffman codes to lengths (RFC 1951 section 3.2.2), bit-reversed because DEFLATE
// packs Huffman codes starting with their most significant bit into a least-significant-bit-first stream.
func canonicalCodes(lengths []uint8) []uint16 {
	var count [maxLitBits + 1]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	var next [maxLitBits + 2]int
	code := 0
	for b := 1; b <= maxLitBits; b++ {
		code = (code + count[b-1]) << 1
		next[b] = code
	}
	codes := make([]uint16, len(lengths))
	for s, l := range lengths {
		if l == 0 {
			continue
		}
		codes[s] = bits.Reverse16(uint16(next[l])) >> (16 - l)
		next[l]++
	}
	return codes
}

// dynamicHeader is the header of a dynamic Huffman block: both trees' code lengths, run-length encoded as zlib's
// send_tree does, and the code length code.
type dynamicHeader struct {
	hlit, hdist, hclen int
	symbols            []codeLenSymbol
	clLengths          []uint8
	clCodes            []uint16
}

type codeLenSymbol struct {
	sym   uint8
	extra uint8 // value of the extra bits of 16, 17, 18
}

func newDynamicHeader(lit, dist []uint8) dynamicHeader {
	hlit := numLitLen
	for hlit > 257 && lit[hlit-1] == 0 {
		hlit--
	}
	hdist := numDist
	for hdist > 1 && dist[hdist-1] == 0 {
		hdist--
	}
	h := dynamicHeader{hlit: hlit, hdist: hdist}
	h.symbols = appendRunLengths(h.symbols, lit[:hlit])
	h.symbols = appendRunLengths(h.symbols, dist[:hdist])
	freq := make([]int, numCodeLen)
	for _, s := range h.symbols {
		freq[s.sym]++
	}
	h.clLengths = huffmanLengths(freq, maxCodeBits)
	h.clCodes = canonicalCodes(h.clLengths)
	h.hclen = numCodeLen
	for h.hclen > 4 && h.clLengths[codeLenOrder[h.hclen-1]] == 0 {
		h.hclen--
	}
	return h
}

// appendRunLengths run-length encodes one tree's code lengths with symbols 16 (repeat previous 3-6 times),
// 17 (3-10 zeros) and 18 (11-138 zeros), following zlib's scan_tree.
func appendRunLengths(dst []codeLenSymbol, lengths []uint8) []codeLenSymbol {
	prevLen := -1
	nextLen := int(lengths[0])
	count, maxCount, minCount := 0, 7, 4
	if nextLen == 0 {
		maxCount, minCount = 138, 3
	}
	for i := range lengths {
		curLen := nextLen
		if i+1 < len(lengths) {
			nextLen = int(lengths[i+1])
		} else {
			nextLen = -1
		}
		count++
		if count < maxCount && curLen == nextLen {
			continue
		}
		switch {
		case count < minCount:
			for ; count > 0; count-- {
				dst = append(dst, codeLenSymbol{sym: uint8(curLen)})
			}
		case curLen != 0:
			if curLen != prevLen {
				dst = append(dst, codeLenSymbol{sym: uint8(curLen)})
				count--
			}
			dst = append(dst, codeLenSymbol{sym: 16, extra: uint8(count - 3)})
		case count <= 10:
			dst = append(dst, codeLenSymbol{sym: 17, extra: uint8(count - 3)})
		default:
			dst = append(dst, codeLenSymbol{sym: 18, extra: uint8(count - 11)})
		}
		count, prevLen = 0, curLen
		switch {
		case nextLen == 0:
			maxCount, minCount = 138, 3
		case curLen == nextLen:
			maxCount, minCount = 6, 3
		default:
			maxCount, minCount = 7, 4
		}
	}
	return dst
}

var codeLenExtraBits = [numCodeLen]int{16: 2, 17: 3, 18: 7}

func (h dynamicHeader) cost() int {
	c := 5 + 5 + 4 + 3*h.hclen
	for _, s := range h.symbols {
		c += int(h.clLengths[s.sym]) + codeLenExtraBits[s.sym]
	}
	return c
}

func (h dynamicHeader) write(w *bitWriter) {
	w.writeBits(uint64(h.hlit-257), 5)
	w.writeBits(uint64(h.hdist-1), 5)
	w.writeBits(uint64(h.hclen-4), 4)
	for _, s := range codeLenOrder[:h.hclen] {
		w.writeBits(uint64(h.clLengths[s]), 3)
	}
	for _, s := range h.symbols {
		w.writeBits(uint64(h.clCodes[s.sym]), uint(h.clLengths[s.sym]))
		if eb := codeLenExtraBits[s.sym]; eb > 0 {
			w.writeBits(uint64(s.extra), uint(eb))
		}
	}
}

// bitWriter packs bits least significant first, as DEFLATE wants.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) writeBits(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

func (w *bitWriter) alignToByte() {
	if w.n > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc, w.n = 0, 0
	}
}

func (w *bitWriter) writeTokens(tokens []lz77Token, litCodes []uint16, litLens []uint8, distCodes []uint16,
	distLens []uint8) {
	for _, t := range tokens {
		if t.dist == 0 {
			w.writeBits(uint64(litCodes[t.length]), uint(litLens[t.length]))
			continue
		}
		lc := lengthCode(int(t.length))
		w.writeBits(uint64(litCodes[257+lc]), uint(litLens[257+lc]))
		if eb := lengthExtra[lc]; eb > 0 {
			w.writeBits(uint64(int(t.length)-int(lengthBase[lc])), uint(eb))
		}
		dc := distCode(int(t.dist))
		w.writeBits(uint64(distCodes[dc]), uint(distLens[dc]))
		if eb := distExtra[dc]; eb > 0 {
			w.writeBits(uint64(int(t.dist)-int(distBase[dc])), uint(eb))
		}
	}
	w.writeBits(uint64(litCodes[endOfBlock]), uint(litLens[endOfBlock]))
}
