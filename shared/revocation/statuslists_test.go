package revocation_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

const testIssuer = "https://issuer.example"

// smallLayout keeps lists small enough for tests to fill.
var smallLayout = statuslist.Layout{Shards: 2, Capacity: 1024, Bits: 2}

type statusFixture struct {
	store  *memStatusStore
	signer *domaintest.CountingSigner
	events *domaintest.Events
	now    time.Time
	lists  *revocation.StatusLists
}

func newStatusFixture(t *testing.T, opts ...exchange.Option) *statusFixture {
	t.Helper()
	signer, err := domaintest.NewCountingSigner()
	if err != nil {
		t.Fatal(err)
	}
	f := &statusFixture{signer: signer, events: &domaintest.Events{}, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.store = newMemStatusStore(func() time.Time { return f.now }, f.events)
	all := append([]exchange.Option{exchange.WithClock(func() time.Time { return f.now })}, opts...)
	f.lists, err = revocation.New(revocation.Config{IssuerURL: testIssuer + "/", Layout: smallLayout},
		revocation.Deps{Store: f.store, Signer: signer}, all...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewStatusListsConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     revocation.Config
		store   bool
		wantErr string
		check   func(revocation.Config) bool
	}{
		{"defaults", revocation.Config{IssuerURL: testIssuer}, true, "", func(c revocation.Config) bool {
			return c.Layout == statuslist.DefaultLayout() && c.TokenValidity == revocation.DefaultStatusTokenValidity &&
				c.TokenTTL == revocation.DefaultStatusTokenTTL && c.ReissueMargin == revocation.DefaultStatusReissueMargin
		}},
		{"ttl capped at validity, margin below half of it", revocation.Config{IssuerURL: testIssuer,
			TokenValidity: 2 * time.Hour, TokenTTL: 3 * time.Hour, ReissueMargin: 5 * time.Hour}, true, "",
			func(c revocation.Config) bool {
				return c.TokenTTL == 2*time.Hour && c.ReissueMargin == time.Hour
			}},
		{"no issuer", revocation.Config{}, true, "issuer URL is required", nil},
		{"no store", revocation.Config{IssuerURL: testIssuer}, false, "store is required", nil},
		{"bad layout", revocation.Config{IssuerURL: testIssuer, Layout: statuslist.Layout{Shards: 1,
			Capacity: 1000, Bits: 2}}, true, "invalid status list layout", nil},
		{"validity below a minute", revocation.Config{IssuerURL: testIssuer, TokenValidity: time.Second},
			true, "below one minute", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st revocation.Store
			if tt.store {
				st = newMemStatusStore(time.Now, &domaintest.Events{})
			}
			l, err := revocation.New(tt.cfg, revocation.Deps{Store: st})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewStatusLists = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(l.Config()) {
				t.Fatalf("NewStatusLists = %+v, %v", l.Config(), err)
			}
		})
	}
}

func TestAllocateStatusUniqueAcrossRotations(t *testing.T) {
	f := newStatusFixture(t)
	ctx := context.Background()
	var rec exchange.Record
	seen := map[exchange.StatusEntry]bool{}
	const n = 3 * 1024 // both shards fill at least one list
	for i := range n {
		ref, err := f.lists.AllocateStatus(ctx, &rec)
		if err != nil {
			t.Fatal(err)
		}
		e := rec.StatusEntries[i]
		if ref.URI != testIssuer+"/status-lists/"+e.List || ref.Index != int64(e.Index) {
			t.Fatalf("reference %+v does not match the recorded entry %+v", ref, e)
		}
		if e.Index < 0 || e.Index >= smallLayout.Capacity || seen[e] {
			t.Fatalf("entry %+v out of range or handed out twice", e)
		}
		seen[e] = true
	}
	if len(rec.StatusEntries) != n {
		t.Fatalf("%d entries recorded, want %d", len(rec.StatusEntries), n)
	}
	gens, _ := f.store.ShardGenerations(ctx, smallLayout.Shards)
	if gens[0]+gens[1] < 2 {
		t.Fatalf("shard generations %v: full lists were not rotated", gens)
	}
	sequential := 0
	for i := 1; i < 64; i++ {
		a, b := rec.StatusEntries[i-1], rec.StatusEntries[i]
		if a.List == b.List && b.Index == a.Index+1 {
			sequential++
		}
	}
	if sequential > 8 {
		t.Fatalf("%d of 63 consecutive allocations got consecutive indexes: indexes must not reveal order", sequential)
	}
}

func TestAllocateStatusErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*memStatusStore)
		opts    []exchange.Option
		rec     bool
		wantErr string
	}{
		{"no record", nil, nil, false, "no exchange record"},
		{"store down", func(m *memStatusStore) { m.failReserve = errors.New("throttled") }, nil, true, "throttled"},
		{"no entropy", nil, []exchange.Option{exchange.WithRandom(errReader{})}, true, "no entropy"},
		{"every list full", func(m *memStatusStore) {
			for s := range smallLayout.Shards {
				for g := range 100 {
					m.SetStatusListCounter(statuslist.ListID{Shard: s, Generation: g}, smallLayout.Capacity, 0)
				}
			}
		}, nil, true, "were full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStatusFixture(t, tt.opts...)
			if tt.setup != nil {
				tt.setup(f.store)
			}
			var rec *exchange.Record
			if tt.rec {
				rec = &exchange.Record{}
			}
			_, err := f.lists.AllocateStatus(context.Background(), rec)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("AllocateStatus = %v, want error containing %q", err, tt.wantErr)
			}
			if rec != nil && len(rec.StatusEntries) != 0 {
				t.Fatal("a failed allocation recorded an entry")
			}
		})
	}
}

// verify checks a served token as a relying party does and returns its list.
func (f *statusFixture) verify(t *testing.T, id string, served revocation.ServedStatusToken) *statuslist.List {
	t.Helper()
	v, err := statuslist.VerifyToken(served.Token, f.signer.PublicJWK(), statuslist.VerifyOptions{
		URI: testIssuer + "/status-lists/" + id, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	if v.Claims.Issuer != testIssuer || v.Claims.ExpiresAt-v.Claims.IssuedAt != int64(revocation.DefaultStatusTokenValidity/time.Second) ||
		v.Claims.TTL != int64(revocation.DefaultStatusTokenTTL/time.Second) || v.List.Len() != smallLayout.Capacity {
		t.Fatalf("token claims %+v", v.Claims)
	}
	return v.List
}

func TestStatusListTokenSignsOnlyWhenNeeded(t *testing.T) {
	f := newStatusFixture(t)
	ctx := context.Background()
	rec := f.issued(t, "ex-1", 1)
	id := rec.StatusEntries[0].List
	steps := []struct {
		name      string
		before    func()
		wantSigns int64
		wantAge   time.Duration
		want      statuslist.Status
	}{
		{"first fetch signs", nil, 1, time.Hour, statuslist.Valid},
		{"second fetch is served from the store", func() { f.now = f.now.Add(10 * time.Minute) }, 1, time.Hour, statuslist.Valid},
		{"a revocation re-signs once, fetches do not", func() {
			if _, err := f.lists.SetRevocationStatus(ctx, "ex-1", exchange.RevocationSuspended); err != nil {
				t.Fatal(err)
			}
		}, 2, time.Hour, statuslist.Suspended},
		{"near expiry re-signs", func() { f.now = f.now.Add(19 * time.Hour) }, 3, time.Hour, statuslist.Suspended},
		{"and then serves again", func() { f.now = f.now.Add(time.Minute) }, 3, time.Hour, statuslist.Suspended},
		{"a change whose eager re-sign failed is re-signed by the next fetch", func() {
			f.store.failPutToken = errors.New("throttled")
			if _, err := f.lists.SetRevocationStatus(ctx, "ex-1", exchange.RevocationOperational); err != nil {
				t.Fatal(err)
			}
			f.store.failPutToken = nil
		}, 5, time.Hour, statuslist.Valid},
		{"a held signing lease serves the stale token briefly", func() {
			f.store.failPutToken = errors.New("throttled")
			if _, err := f.lists.SetRevocationStatus(ctx, "ex-1", exchange.RevocationRevoked); err != nil {
				t.Fatal(err)
			}
			f.store.failPutToken = nil
			if ok, _ := f.store.ClaimStatusListSigning(ctx, mustListID(t, id), f.now, f.now.Add(time.Minute)); !ok {
				t.Fatal("lease not taken")
			}
		}, 6, revocation.DefaultStatusSigningLease, statuslist.Valid},
		{"once the lease passes the change is signed", func() { f.now = f.now.Add(2 * time.Minute) }, 7, time.Hour,
			statuslist.Invalid},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before()
			}
			served, err := f.lists.StatusListToken(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.signer.Signs(); got != s.wantSigns {
				t.Fatalf("%d signatures so far, want %d", got, s.wantSigns)
			}
			if served.MaxAge != s.wantAge {
				t.Fatalf("max-age %s, want %s", served.MaxAge, s.wantAge)
			}
			list := f.verify(t, id, served)
			if got, _ := list.Get(rec.StatusEntries[0].Index); got != s.want {
				t.Fatalf("served status %s, want %s", got, s.want)
			}
		})
	}
}

func TestStatusListTokenNotFound(t *testing.T) {
	f := newStatusFixture(t)
	tests := []struct{ name, id string }{
		{"not a list id", "abc"},
		{"leading zero", "01-0"},
		{"path traversal", "../0-0"},
		{"never opened", "1-4"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.lists.StatusListToken(context.Background(), tt.id)
			if !errors.Is(err, exchange.ErrNotFound) {
				t.Fatalf("StatusListToken(%q) = %v, want ErrNotFound", tt.id, err)
			}
			if f.signer.Signs() != 0 {
				t.Fatal("an unknown list was signed")
			}
		})
	}
}

func TestStatusListTokenWithoutSigner(t *testing.T) {
	st := newMemStatusStore(time.Now, &domaintest.Events{})
	l, err := revocation.New(revocation.Config{IssuerURL: testIssuer, Layout: smallLayout}, revocation.Deps{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	var rec exchange.Record
	if _, err := l.AllocateStatus(context.Background(), &rec); err != nil {
		t.Fatal(err)
	}
	if _, err := l.StatusListToken(context.Background(), rec.StatusEntries[0].List); !errors.Is(err,
		revocation.ErrStatusSigningUnavailable) {
		t.Fatalf("StatusListToken without a signer = %v", err)
	}
}

func mustListID(t *testing.T, s string) statuslist.ListID {
	t.Helper()
	id, err := statuslist.ParseListID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestStatusListTokenFollowsTheIssuerURL (docs/security.md, "Status list after an ISSUER_URL change"): a token
// cached under one issuer URL is not served once the issuer URL changed: the first fetch re-signs it (one
// signature) so that its `sub` equals the URI new credentials reference, and a strict verifier accepts it. The
// re-signed token replaces the cached one even when it expires no later (same second).
func TestStatusListTokenFollowsTheIssuerURL(t *testing.T) {
	f := newStatusFixture(t)
	ctx := context.Background()
	rec := f.issued(t, "ex-1", 1)
	id := rec.StatusEntries[0].List
	served, err := f.lists.StatusListToken(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	f.verify(t, id, served)
	const moved = "https://issuer.example.net:8443"
	other, err := revocation.New(revocation.Config{IssuerURL: moved, Layout: smallLayout},
		revocation.Deps{Store: f.store, Signer: f.signer}, exchange.WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		served, err = other.StatusListToken(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := statuslist.VerifyToken(served.Token, f.signer.PublicJWK(), statuslist.VerifyOptions{
			URI: moved + "/status-lists/" + id, Now: f.now}); err != nil {
			t.Fatalf("the token served after the URL change does not verify for the new URI: %v", err)
		}
	}
	if got := f.signer.Signs(); got != 2 {
		t.Errorf("%d signatures, want 2 (one per issuer URL, then served from the store)", got)
	}
	// And back: the old URL's server re-signs for its URI again.
	served, err = f.lists.StatusListToken(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	f.verify(t, id, served)
}
