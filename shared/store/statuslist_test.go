package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

func TestReserveStatusEntryConcurrentUniqueUntilFull(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const capacity, workers, perWorker = 1024, 24, 50 // 1,200 attempts on 1,024 entries
	id := statuslist.ListID{Shard: 3, Generation: 7}
	var mu sync.Mutex
	seen := map[int]bool{}
	keys := map[uint64]bool{}
	full := 0
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				seq, key, err := f.st.ReserveStatusEntry(ctx, id, capacity, uint64(w+1))
				mu.Lock()
				switch {
				case errors.Is(err, revocation.ErrStatusListFull):
					full++
				case err != nil:
					mu.Unlock()
					errs <- err
					return
				default:
					if seen[seq] {
						mu.Unlock()
						errs <- errors.New("sequence number handed out twice")
						return
					}
					seen[seq] = true
					keys[key] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != capacity || full != workers*perWorker-capacity {
		t.Fatalf("%d sequence numbers handed out and %d refused, want %d and %d", len(seen), full, capacity,
			workers*perWorker-capacity)
	}
	for seq := range capacity {
		if !seen[seq] {
			t.Fatalf("sequence number %d never handed out", seq)
		}
	}
	if len(keys) != 1 {
		t.Fatalf("the list has %d permutation keys, want the first allocator's one", len(keys))
	}
}

func TestStatusAllocationConcurrentAcrossShardsAndRotations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	layout := statuslist.Layout{Shards: 2, Capacity: 1024, Bits: 2}
	const workers, perWorker = 16, 160 // 2,560 credentials: each shard rotates at least once
	var mu sync.Mutex
	seen := map[exchange.StatusEntry]bool{}
	perList := map[string]int{}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One StatusLists per worker: separate containers with their own shard caches.
			lists, err := revocation.New(revocation.Config{IssuerURL: "https://issuer.example",
				Layout: layout}, revocation.Deps{Store: f.st})
			if err != nil {
				errs <- err
				return
			}
			for range perWorker {
				var rec exchange.Record
				ref, err := lists.AllocateStatus(ctx, &rec)
				if err != nil {
					errs <- err
					return
				}
				e := rec.StatusEntries[0]
				if ref.URI != "https://issuer.example/status-lists/"+e.List || ref.Index != int64(e.Index) {
					errs <- errors.New("reference and recorded entry differ")
					return
				}
				mu.Lock()
				dup := seen[e]
				seen[e] = true
				perList[e.List]++
				mu.Unlock()
				if dup {
					errs <- errors.New("status list entry handed out twice: " + e.List)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != workers*perWorker {
		t.Fatalf("%d distinct entries, want %d", len(seen), workers*perWorker)
	}
	for list, count := range perList {
		if count > layout.Capacity {
			t.Fatalf("list %s holds %d entries, capacity %d", list, count, layout.Capacity)
		}
	}
	gens, err := f.st.ShardGenerations(ctx, layout.Shards)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, g := range gens {
		total += g
	}
	if total < 1 || len(perList) < 3 {
		t.Fatalf("generations %v over %d lists: expected rotations past full lists", gens, len(perList))
	}
}

func TestAdvanceShardOnceUnderRace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name string
		from int
		want int
	}{
		{"from the implicit generation 0", 0, 1},
		{"from 1", 1, 2},
		{"stale from 0 reads the head", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wg sync.WaitGroup
			got := make([]int, 8)
			errs := make([]error, 8)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i], errs[i] = f.st.AdvanceShard(ctx, 5, tt.from)
				}()
			}
			wg.Wait()
			for i := range got {
				if errs[i] != nil || got[i] != tt.want {
					t.Fatalf("AdvanceShard = %d, %v; want %d", got[i], errs[i], tt.want)
				}
			}
			gens, err := f.st.ShardGenerations(ctx, 8)
			if err != nil || gens[5] != tt.want || gens[4] != 0 {
				t.Fatalf("ShardGenerations = %v, %v; want shard 5 at %d", gens, err, tt.want)
			}
		})
	}
}

func TestCommitRevocationConditions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	layout := statuslist.Layout{Shards: 1, Capacity: 1024, Bits: 2}
	rec := f.record("ex-rev", exchange.StatusCredentialIssued, "def", 0)
	rec.SupportRevocation = true
	rec.RevocationStatus = exchange.RevocationOperational
	if err := f.st.CreateExchange(ctx, rec, nil); err != nil {
		t.Fatal(err)
	}
	a, b := statuslist.ListID{Shard: 0, Generation: 0}, statuslist.ListID{Shard: 0, Generation: 1}
	read := func(id statuslist.ListID) revocation.StatusListState {
		t.Helper()
		st, err := f.st.GetStatusList(ctx, id, layout)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	set := func(st revocation.StatusListState, idx int, s statuslist.Status) revocation.StatusListState {
		t.Helper()
		if err := st.List.Set(idx, s); err != nil {
			t.Fatal(err)
		}
		return st
	}
	stA, stB := read(a), read(b)
	if stA.Version != 0 || stA.List.Len() != layout.Capacity {
		t.Fatalf("unwritten list: version %d, %d entries", stA.Version, stA.List.Len())
	}
	staleA := read(a)
	next := rec.Clone()
	next.RevocationStatus = exchange.RevocationSuspended
	expect := exchange.Expect{Version: rec.Version, Status: rec.Status}
	rev := revocation.Record{ExchangeID: "ex-rev", DefinitionID: "def", RevocationStatus: exchange.RevocationSuspended,
		Entries: []exchange.StatusEntry{{List: a.String(), Index: 17}, {List: b.String(), Index: 900}}, Version: 1}
	if err := f.st.CommitRevocation(ctx, revocation.Commit{Revocation: rev, Create: true, Record: &next,
		Expect: expect, Lists: []revocation.StatusListState{set(stA, 17, statuslist.Suspended),
			set(stB, 900, statuslist.Suspended)}}); err != nil {
		t.Fatal(err)
	}
	rev2 := rev
	rev2.Version = 2
	nextExpect := exchange.Expect{Version: rec.Version + 1, Status: rec.Status}

	tests := []struct {
		name   string
		commit revocation.Commit
	}{
		{"stale record version", revocation.Commit{Revocation: rev2, Record: &next, Expect: expect,
			Lists: []revocation.StatusListState{set(read(a), 18, statuslist.Invalid)}}},
		{"stale list version", revocation.Commit{Revocation: rev2, Record: &next, Expect: nextExpect,
			Lists: []revocation.StatusListState{set(staleA, 18, statuslist.Invalid)}}},
		{"stale revocation item version", revocation.Commit{Revocation: rev, Record: &next, Expect: nextExpect,
			Lists: []revocation.StatusListState{set(read(a), 18, statuslist.Invalid)}}},
		{"revocation item created twice", revocation.Commit{Revocation: rev, Create: true,
			Lists: []revocation.StatusListState{set(read(a), 18, statuslist.Invalid)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.st.CommitRevocation(ctx, tt.commit)
			if !errors.Is(err, exchange.ErrConflict) {
				t.Fatalf("CommitRevocation = %v, want ErrConflict", err)
			}
		})
	}
	gotA, gotB := read(a), read(b)
	for _, c := range []struct {
		st   revocation.StatusListState
		idx  int
		want statuslist.Status
	}{{gotA, 17, statuslist.Suspended}, {gotA, 18, statuslist.Valid}, {gotB, 900, statuslist.Suspended}, {gotB, 17, statuslist.Valid}} {
		if s, _ := c.st.List.Get(c.idx); s != c.want {
			t.Fatalf("list %s idx %d = %s, want %s", c.st.ID, c.idx, s, c.want)
		}
	}
	if gotA.Version != 1 || gotB.Version != 1 {
		t.Fatalf("versions %d and %d after one commit, want 1", gotA.Version, gotB.Version)
	}
	stored, err := f.st.GetExchange(ctx, "ex-rev")
	if err != nil || stored.RevocationStatus != exchange.RevocationSuspended || stored.Version != rec.Version+1 {
		t.Fatalf("record after commit: %s v%d, %v", stored.RevocationStatus, stored.Version, err)
	}
	if item := f.rawItem(t, "STATUSLIST#0-0", "LIST"); item["ttl"] != nil {
		t.Fatal("a status list item must not expire")
	}
}

func TestStatusListTokenCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := statuslist.ListID{Shard: 1, Generation: 0}
	read, err := f.st.GetStatusListToken(ctx, id)
	if err != nil || read.Exists {
		t.Fatalf("unopened list: %+v, %v", read, err)
	}
	if _, _, err := f.st.ReserveStatusEntry(ctx, id, 1024, 9); err != nil {
		t.Fatal(err)
	}
	read, err = f.st.GetStatusListToken(ctx, id)
	if err != nil || !read.Exists || read.Token.Token != "" {
		t.Fatalf("opened list without token: %+v, %v", read, err)
	}
	now := time.Unix(1_800_000_000, 0)
	steps := []struct {
		name string
		tok  revocation.StoredStatusToken
		ok   bool
	}{
		{"first token", revocation.StoredStatusToken{Token: "t1", Version: 2, IssuedAt: 10, ExpiresAt: 100, TTL: 5}, true},
		{"older list version", revocation.StoredStatusToken{Token: "t0", Version: 1, IssuedAt: 20, ExpiresAt: 200, TTL: 5}, false},
		{"same version, earlier exp", revocation.StoredStatusToken{Token: "t1b", Version: 2, IssuedAt: 5, ExpiresAt: 90, TTL: 5}, false},
		{"same version re-signed later", revocation.StoredStatusToken{Token: "t2", Version: 2, IssuedAt: 30, ExpiresAt: 300, TTL: 5}, true},
		{"newer version", revocation.StoredStatusToken{Token: "t3", Version: 3, IssuedAt: 31, ExpiresAt: 301, TTL: 6, Subject: "http://a/status-lists/0-0"}, true},
		// docs/security.md, "Status list after an ISSUER_URL change": a token for another URI replaces the
		// cached one even when it expires no later; the same URI does not.
		{"same version, same exp, same subject", revocation.StoredStatusToken{Token: "t3b", Version: 3, IssuedAt: 31, ExpiresAt: 301, TTL: 6, Subject: "http://a/status-lists/0-0"}, false},
		{"same version, same exp, other subject", revocation.StoredStatusToken{Token: "t3c", Version: 3, IssuedAt: 31, ExpiresAt: 301, TTL: 6, Subject: "https://b/status-lists/0-0"}, true},
	}
	want := revocation.StoredStatusToken{}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := f.st.PutStatusListToken(ctx, id, s.tok)
			if s.ok != (err == nil) || (!s.ok && !errors.Is(err, exchange.ErrConflict)) {
				t.Fatalf("PutStatusListToken = %v, want ok=%v", err, s.ok)
			}
			if s.ok {
				want = s.tok
			}
			got, err := f.st.GetStatusListToken(ctx, id)
			if err != nil || got.Token != want {
				t.Fatalf("cached token %+v, %v; want %+v", got.Token, err, want)
			}
		})
	}
	claims := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"free", now, true},
		{"held", now.Add(5 * time.Second), false},
		{"lease passed", now.Add(11 * time.Second), true},
	}
	for _, c := range claims {
		t.Run("claim "+c.name, func(t *testing.T) {
			got, err := f.st.ClaimStatusListSigning(ctx, id, c.now, c.now.Add(10*time.Second))
			if err != nil || got != c.want {
				t.Fatalf("ClaimStatusListSigning = %v, %v; want %v", got, err, c.want)
			}
		})
	}
	if err := f.st.PutStatusListToken(ctx, id, revocation.StoredStatusToken{Token: "t4", Version: 4, IssuedAt: 40,
		ExpiresAt: 400, TTL: 6}); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.st.ClaimStatusListSigning(ctx, id, now.Add(12*time.Second), now.Add(20*time.Second)); err != nil || !ok {
		t.Fatalf("a stored token releases the lease: %v, %v", ok, err)
	}
}
