package statuslist

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Sharding (the numbers are explained in docs/status-lists.md).
//
// Every credential needs an index that is unique and never reused. A single counter would be one DynamoDB item,
// and one item never takes more than PartitionWriteLimit writes per second, so allocation is spread over Shards
// lists that are open at the same time. Each list has a fixed Capacity and its own small counter item; an
// allocator picks one of the open shards at random and increments that list's counter with a conditional
// UpdateItem (ADD next 1, condition next < Capacity): the returned value is a sequence number no other caller
// gets. When a list is full the condition fails and the allocator moves that shard to its next list (the next
// Generation), so lists are never reopened and indexes never reused. The sequence number becomes the index
// through Index, a keyed permutation, so that indexes are not in issuance order (the draft recommends
// non-sequential indexes against linking and observation).
const (
	// DefaultBits is the bit size of our lists: 2 bits hold VALID, INVALID and SUSPENDED.
	DefaultBits = 2
	// DefaultCapacity is the number of entries of a list: 2^17, 32 KiB before compression at 2 bits, a few
	// hundred bytes compressed while few entries are revoked.
	DefaultCapacity = 1 << 17
	// DefaultShards is the number of lists open for allocation at once.
	DefaultShards = 8
	// PartitionWriteLimit is DynamoDB's write throughput limit of one partition, hence of one item, in write
	// units per second; a counter increment of an item under 1 KB costs one unit.
	PartitionWriteLimit = 1000
	// MaxShards bounds the number of shards a layout may use.
	MaxShards = 1000
	// maxListBytes keeps a list's byte array well inside one DynamoDB item (400 KB).
	maxListBytes = 256 << 10
	// maxGeneration bounds list generations so that identifiers stay short.
	maxGeneration = 1_000_000_000
)

// Layout is the shape of the sharded status lists: how many lists are open at once, how many entries each holds
// and how many bits each entry has.
type Layout struct {
	Shards   int
	Capacity int
	Bits     int
}

// DefaultLayout is the layout the issuer uses unless configured otherwise.
func DefaultLayout() Layout {
	return Layout{Shards: DefaultShards, Capacity: DefaultCapacity, Bits: DefaultBits}
}

// Validate checks that the layout can work: 1 to MaxShards shards, a capacity that is a power of two of at least
// 1024 entries (whole bytes, and a domain for the index permutation), valid bits, and a list that fits in one
// DynamoDB item.
func (l Layout) Validate() error {
	switch {
	case l.Shards < 1 || l.Shards > MaxShards:
		return fmt.Errorf("layout with %d shards: %w", l.Shards, ErrInvalidLayout)
	case !validBits(l.Bits):
		return fmt.Errorf("layout with %d bits: %w", l.Bits, ErrInvalidLayout)
	case l.Capacity < 1024 || l.Capacity&(l.Capacity-1) != 0:
		return fmt.Errorf("layout capacity %d is not a power of two >= 1024: %w", l.Capacity, ErrInvalidLayout)
	case l.ListBytes() > maxListBytes:
		return fmt.Errorf("layout list of %d bytes exceeds %d: %w", l.ListBytes(), maxListBytes, ErrInvalidLayout)
	}
	return nil
}

// ListBytes is the size of one list's byte array before compression.
func (l Layout) ListBytes() int { return ByteLen(l.Bits, l.Capacity) }

// MaxAllocationRate is the most index allocations per second the layout sustains: each shard's counter item
// takes at most PartitionWriteLimit increments per second.
func (l Layout) MaxAllocationRate() int { return l.Shards * PartitionWriteLimit }

// ShardsFor returns the number of shards for a peak allocation rate (indexes per second), keeping every counter
// at half of its item limit on average so that the uneven spread of random shard choice stays under the limit.
func ShardsFor(peakPerSecond int) int {
	half := PartitionWriteLimit / 2
	return min(max(1, (peakPerSecond+half-1)/half), MaxShards)
}

// NewList returns an empty (all-VALID) list of the layout.
func (l Layout) NewList() (*List, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return New(l.Bits, l.Capacity)
}

// ListID names one status list: the shard it belongs to and its generation within the shard (a shard's first list
// is generation 0; when it is full, generation 1 opens, and so on). Its text form "<shard>-<generation>" is the
// last segment of the list's URI.
type ListID struct {
	Shard      int
	Generation int
}

// String returns "<shard>-<generation>", e.g. "3-0".
func (id ListID) String() string {
	return strconv.Itoa(id.Shard) + "-" + strconv.Itoa(id.Generation)
}

// Next is the list that replaces id in its shard once id is full.
func (id ListID) Next() ListID { return ListID{Shard: id.Shard, Generation: id.Generation + 1} }

// ParseListID reads the text form of a list id, strictly: two decimal numbers without sign or leading zeros, a
// shard below MaxShards and a generation below one billion. Anything else (e.g. a crafted path segment) fails
// with ErrInvalidListID.
func ParseListID(s string) (ListID, error) {
	shard, gen, ok := strings.Cut(s, "-")
	if !ok {
		return ListID{}, fmt.Errorf("parse status list id: %w", ErrInvalidListID)
	}
	sh, err1 := parseDecimal(shard, MaxShards)
	g, err2 := parseDecimal(gen, maxGeneration)
	if err1 != nil || err2 != nil {
		return ListID{}, fmt.Errorf("parse status list id: %w", ErrInvalidListID)
	}
	return ListID{Shard: sh, Generation: g}, nil
}

func parseDecimal(s string, limit int) (int, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, ErrInvalidListID
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, ErrInvalidListID
		}
		n = n*10 + int(c-'0')
	}
	if n >= limit {
		return 0, ErrInvalidListID
	}
	return n, nil
}

// StatusListsPath is the path, under the issuer URL, of the status list tokens.
const StatusListsPath = "/status-lists/"

// URI returns the URI of a list: "<issuer>/status-lists/<listId>". It is the token's `sub` and the `uri` of the
// credentials' references, so it is built from the issuer identifier exactly once, here.
func URI(issuer string, id ListID) string {
	return strings.TrimSuffix(issuer, "/") + StatusListsPath + id.String()
}

// ParseURI returns the list id of a URI built by URI for the same issuer.
func ParseURI(issuer, uri string) (ListID, error) {
	rest, ok := strings.CutPrefix(uri, strings.TrimSuffix(issuer, "/")+StatusListsPath)
	if !ok {
		return ListID{}, fmt.Errorf("parse status list uri: not under this issuer: %w", ErrInvalidListID)
	}
	return ParseListID(rest)
}

// Index maps a list's allocation sequence number (0, 1, 2, ... from its counter) to the credential's index in the
// list. The map is a permutation of [0, Capacity) chosen by key, a random number drawn once per list and kept with
// its counter: distinct sequence numbers always give distinct indexes, and consecutive credentials get indexes
// that say nothing about their order. seq must be below Capacity.
func (l Layout) Index(seq int, key uint64) (int, error) {
	if err := l.Validate(); err != nil {
		return 0, err
	}
	if seq < 0 || seq >= l.Capacity {
		return 0, fmt.Errorf("index of sequence %d in a list of %d: %w", seq, l.Capacity, ErrIndexOutOfRange)
	}
	width := uint(bits.TrailingZeros(uint(l.Capacity)))
	mask := uint64(l.Capacity - 1)
	x := uint64(seq)
	state := key
	// Each step is a bijection of width-bit numbers: adding a constant, multiplying by an odd constant and
	// x ^= x >> s (s >= 1) can all be undone, so their composition is a permutation.
	for range 4 {
		add, mul := splitmix64(&state), splitmix64(&state)|1
		x = (x + add) & mask
		x = (x * mul) & mask
		x ^= x >> (width/2 + 1)
	}
	return int(x), nil
}

func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
