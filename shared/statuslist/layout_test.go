package statuslist

import (
	"errors"
	"testing"
)

func TestLayoutValidate(t *testing.T) {
	tests := []struct {
		name string
		l    Layout
		ok   bool
	}{
		{"default", DefaultLayout(), true},
		{"one shard of 1024", Layout{Shards: 1, Capacity: 1024, Bits: 2}, true},
		{"no shards", Layout{Shards: 0, Capacity: 1 << 17, Bits: 2}, false},
		{"too many shards", Layout{Shards: MaxShards + 1, Capacity: 1 << 17, Bits: 2}, false},
		{"capacity not a power of two", Layout{Shards: 8, Capacity: 100_000, Bits: 2}, false},
		{"capacity too small", Layout{Shards: 8, Capacity: 512, Bits: 2}, false},
		{"bits 3", Layout{Shards: 8, Capacity: 1 << 17, Bits: 3}, false},
		{"list too large for an item", Layout{Shards: 8, Capacity: 1 << 20, Bits: 8}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.l.Validate()
			if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, ErrInvalidLayout)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestLayoutNumbers(t *testing.T) {
	l := DefaultLayout()
	if got := l.ListBytes(); got != 32768 {
		t.Errorf("ListBytes = %d, want 32768", got)
	}
	if got := l.MaxAllocationRate(); got != 8000 {
		t.Errorf("MaxAllocationRate = %d, want 8000", got)
	}
	for _, tt := range []struct{ rate, want int }{{0, 1}, {1, 1}, {500, 1}, {501, 2}, {4000, 8}, {1_000_000, MaxShards}} {
		if got := ShardsFor(tt.rate); got != tt.want {
			t.Errorf("ShardsFor(%d) = %d, want %d", tt.rate, got, tt.want)
		}
	}
	list, err := l.NewList()
	if err != nil || list.Len() != DefaultCapacity || list.Bits() != DefaultBits {
		t.Fatalf("NewList = %v, %v", list, err)
	}
}

func TestListID(t *testing.T) {
	good := []struct {
		s  string
		id ListID
	}{{"0-0", ListID{0, 0}}, {"3-17", ListID{3, 17}}, {"999-999999999", ListID{999, 999_999_999}}}
	for _, tt := range good {
		id, err := ParseListID(tt.s)
		if err != nil || id != tt.id {
			t.Errorf("ParseListID(%q) = %v, %v", tt.s, id, err)
		}
		if id.String() != tt.s {
			t.Errorf("String() = %q, want %q", id.String(), tt.s)
		}
	}
	bad := []string{"", "3", "3-", "-3", "03-1", "3-01", "+3-1", "3-1-1", "1000-0", "0-1000000000", "a-b", "3 -1",
		"../0-0", "0-0/", "99999999999-0"}
	for _, s := range bad {
		if id, err := ParseListID(s); !errors.Is(err, ErrInvalidListID) {
			t.Errorf("ParseListID(%q) = %v, %v; want ErrInvalidListID", s, id, err)
		}
	}
	if next := (ListID{3, 17}).Next(); next != (ListID{3, 18}) {
		t.Errorf("Next = %v", next)
	}
}

func TestURI(t *testing.T) {
	tests := []struct {
		issuer string
		want   string
	}{
		{"https://issuer.example", "https://issuer.example/status-lists/2-5"},
		{"https://issuer.example/", "https://issuer.example/status-lists/2-5"},
		{"https://api.example/prod/tenant", "https://api.example/prod/tenant/status-lists/2-5"},
	}
	for _, tt := range tests {
		got := URI(tt.issuer, ListID{2, 5})
		if got != tt.want {
			t.Errorf("URI(%q) = %q, want %q", tt.issuer, got, tt.want)
		}
		id, err := ParseURI(tt.issuer, got)
		if err != nil || id != (ListID{2, 5}) {
			t.Errorf("ParseURI(%q) = %v, %v", got, id, err)
		}
	}
	if _, err := ParseURI("https://issuer.example", "https://other.example/status-lists/2-5"); !errors.Is(err, ErrInvalidListID) {
		t.Errorf("ParseURI of another issuer: %v", err)
	}
}

func TestIndexIsAPermutation(t *testing.T) {
	tests := []struct {
		name string
		l    Layout
		key  uint64
	}{
		{"default capacity", DefaultLayout(), 0x1234_5678_9abc_def0},
		{"default capacity key 0", DefaultLayout(), 0},
		{"1024", Layout{Shards: 1, Capacity: 1024, Bits: 2}, 42},
		{"2^16 8 bits", Layout{Shards: 1, Capacity: 1 << 16, Bits: 8}, ^uint64(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make([]bool, tt.l.Capacity)
			inOrder := 0
			for seq := range tt.l.Capacity {
				idx, err := tt.l.Index(seq, tt.key)
				if err != nil {
					t.Fatal(err)
				}
				if idx < 0 || idx >= tt.l.Capacity || seen[idx] {
					t.Fatalf("Index(%d) = %d: out of range or repeated", seq, idx)
				}
				seen[idx] = true
				if idx == seq {
					inOrder++
				}
			}
			if inOrder > tt.l.Capacity/100 {
				t.Errorf("%d of %d sequence numbers map to themselves", inOrder, tt.l.Capacity)
			}
		})
	}
	a, _ := DefaultLayout().Index(1, 1)
	b, _ := DefaultLayout().Index(1, 2)
	c, _ := DefaultLayout().Index(2, 1)
	if a == b && a == c {
		t.Errorf("Index ignores its key or sequence: %d %d %d", a, b, c)
	}
	for _, seq := range []int{-1, DefaultCapacity} {
		if _, err := DefaultLayout().Index(seq, 1); !errors.Is(err, ErrIndexOutOfRange) {
			t.Errorf("Index(%d) error %v", seq, err)
		}
	}
	if _, err := (Layout{}).Index(0, 1); !errors.Is(err, ErrInvalidLayout) {
		t.Errorf("Index on an invalid layout: %v", err)
	}
}
