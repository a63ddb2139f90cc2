package revocation_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// issued stores a revocable exchange whose n credentials got status entries from f's allocator.
func (f *statusFixture) issued(t *testing.T, id string, n int) exchange.Record {
	t.Helper()
	rec := exchange.Record{CredentialExchangeID: id, Status: exchange.StatusCredentialIssued,
		SupportRevocation: true, RevocationStatus: exchange.RevocationOperational, CredentialDefinitionID: "def-" + id,
		UpdatedAt: f.now.Unix(), Version: 3, ExpiresAt: f.now.AddDate(0, 0, 30).Unix(),
		Definition: definition.Definition{Spec: definition.Spec{ExpirationInDays: 365}}}
	for range n {
		if _, err := f.lists.AllocateStatus(context.Background(), &rec); err != nil {
			t.Fatal(err)
		}
	}
	f.store.putIssued(rec)
	return rec
}

func TestSetRevocationStatusSequence(t *testing.T) {
	f := newStatusFixture(t)
	ctx := context.Background()
	const batch = 12 // spread over both shards
	rec := f.issued(t, "ex-batch", batch)
	other := f.issued(t, "ex-other", 3)
	lists := map[string]bool{}
	for _, e := range rec.StatusEntries {
		lists[e.List] = true
	}
	steps := []struct {
		name       string
		to         exchange.RevocationStatus
		wantErr    error
		want       exchange.RevocationStatus
		wantEvents int
	}{
		{"suspend", exchange.RevocationSuspended, nil, exchange.RevocationSuspended, 1},
		{"suspend again changes nothing", exchange.RevocationSuspended, nil, exchange.RevocationSuspended, 1},
		{"reinstate", exchange.RevocationOperational, nil, exchange.RevocationOperational, 2},
		{"revoke", exchange.RevocationRevoked, nil, exchange.RevocationRevoked, 3},
		{"revoke again changes nothing", exchange.RevocationRevoked, nil, exchange.RevocationRevoked, 3},
		{"no reinstating a revoked credential", exchange.RevocationOperational, revocation.ErrRevokedIsFinal,
			exchange.RevocationRevoked, 3},
		{"no suspending a revoked credential", exchange.RevocationSuspended, revocation.ErrRevokedIsFinal,
			exchange.RevocationRevoked, 3},
	}
	signs := int64(0)
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := f.signer.Signs()
			got, err := f.lists.SetRevocationStatus(ctx, "ex-batch", s.to)
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("SetRevocationStatus = %v, want %v", err, s.wantErr)
			}
			if err != nil && (!errors.Is(err, exchange.ErrTransitionRefused) || !errors.Is(err, statuslist.ErrRevokedIsFinal)) {
				t.Fatalf("%v is not a refused transition", err)
			}
			if err == nil && got.RevocationStatus != s.want {
				t.Fatalf("returned record has %s, want %s", got.RevocationStatus, s.want)
			}
			stored, _ := f.store.GetExchange(ctx, "ex-batch")
			if stored.RevocationStatus != s.want {
				t.Fatalf("stored record has %s, want %s", stored.RevocationStatus, s.want)
			}
			wantStatus, _ := statuslist.RevocationStatus(s.want).Status()
			statuses, err := f.store.statuses(smallLayout, rec.StatusEntries)
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range statuses {
				if st != wantStatus {
					t.Fatalf("credential %d of the batch is %s in its list, want %s", i, st, wantStatus)
				}
			}
			others, _ := f.store.statuses(smallLayout, other.StatusEntries)
			if slices.ContainsFunc(others, func(st statuslist.Status) bool { return st != statuslist.Valid }) {
				t.Fatal("another exchange's credentials changed")
			}
			if len(f.events.All()) != s.wantEvents {
				t.Fatalf("%d events, want %d", len(f.events.All()), s.wantEvents)
			}
			e := f.events.All()[len(f.events.All())-1]
			if e.DetailType != revocation.StatusChangedEvent || e.ExchangeID != "ex-batch" ||
				e.Detail.RevocationStatus != s.want || e.Detail.CredentialToken != "" {
				t.Fatalf("event %s %s %s", e.DetailType, e.ExchangeID, e.Detail.RevocationStatus)
			}
			if stored, _ := f.store.GetExchange(ctx, "ex-batch"); e.Detail.Version != stored.Version || e.Detail.Status != stored.Status {
				t.Fatalf("event of version %d (%s), want the record's %d (%s): derived from the record's change", e.Detail.Version,
					e.Detail.Status, stored.Version, stored.Status)
			}
			if f.signer.Signs()-before > int64(len(lists)) {
				t.Fatalf("%d signatures for a change of %d lists", f.signer.Signs()-before, len(lists))
			}
			signs = f.signer.Signs()
		})
	}
	if signs != 3*int64(len(lists)) {
		t.Fatalf("%d signatures for 3 changes of %d lists, want one per list and change", signs, len(lists))
	}
}

func TestSetRevocationStatusRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*statusFixture)
		id      string
		to      exchange.RevocationStatus
		wantErr error
		isValid bool
	}{
		{"unknown exchange", nil, "nope", exchange.RevocationRevoked, exchange.ErrNotFound, false},
		{"definition without revocation", func(f *statusFixture) {
			f.store.putExchange(exchange.Record{CredentialExchangeID: "ex", Status: exchange.StatusCredentialIssued,
				ExpiresAt: f.now.AddDate(0, 0, 30).Unix()})
		}, "ex", exchange.RevocationRevoked, revocation.ErrNotSupported, false},
		{"nothing issued yet", func(f *statusFixture) {
			f.store.putExchange(exchange.Record{CredentialExchangeID: "ex", Status: exchange.StatusOfferSent,
				SupportRevocation: true, RevocationStatus: exchange.RevocationOperational,
				ExpiresAt: f.now.AddDate(0, 0, 30).Unix()})
		}, "ex", exchange.RevocationSuspended, revocation.ErrNoCredentialIssued, false},
		{"unknown status", nil, "ex", "Deleted", nil, true},
		{"wrong case", nil, "ex", "revoked", nil, true},
		{"revoked in the list though the record is not", func(f *statusFixture) {
			rec := f.issued(t, "ex", 2)
			if _, err := f.lists.SetRevocationStatus(context.Background(), "ex", exchange.RevocationRevoked); err != nil {
				t.Fatal(err)
			}
			f.store.putIssued(rec) // the record and the revocation item as they were before
		}, "ex", exchange.RevocationSuspended, revocation.ErrRevokedIsFinal, false},
		{"conflicts every time", func(f *statusFixture) {
			f.issued(t, "ex", 1)
			f.store.failCommits = 100
		}, "ex", exchange.RevocationRevoked, exchange.ErrConflict, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStatusFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			events := len(f.events.All())
			_, err := f.lists.SetRevocationStatus(context.Background(), tt.id, tt.to)
			var v *validation.Error
			switch {
			case tt.isValid:
				if !errors.As(err, &v) || v.Field != "revocationStatus" {
					t.Fatalf("SetRevocationStatus = %v, want a validation error of revocationStatus", err)
				}
			case !errors.Is(err, tt.wantErr):
				t.Fatalf("SetRevocationStatus = %v, want %v", err, tt.wantErr)
			}
			if len(f.events.All()) != events {
				t.Fatal("a refused change published an event")
			}
		})
	}
}

func TestSetRevocationStatusRetriesConflicts(t *testing.T) {
	f := newStatusFixture(t)
	rec := f.issued(t, "ex", 2)
	f.store.failCommits = 2
	got, err := f.lists.SetRevocationStatus(context.Background(), "ex", exchange.RevocationSuspended)
	if err != nil || got.RevocationStatus != exchange.RevocationSuspended || got.Version != rec.Version+1 {
		t.Fatalf("SetRevocationStatus = %s v%d, %v", got.RevocationStatus, got.Version, err)
	}
	if f.store.commits != 3 {
		t.Fatalf("%d commits, want 2 lost and 1 won", f.store.commits)
	}
}

func TestParseRevocationStatus(t *testing.T) {
	tests := []struct {
		in   string
		want exchange.RevocationStatus
		ok   bool
	}{
		{"Operational", exchange.RevocationOperational, true},
		{"Suspended", exchange.RevocationSuspended, true},
		{"Revoked", exchange.RevocationRevoked, true},
		{"REVOKED", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := revocation.ParseStatus(tt.in)
			if got != tt.want || tt.ok != (err == nil) {
				t.Fatalf("ParseRevocationStatus(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}
