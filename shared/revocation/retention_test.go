package revocation_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/historyrecord"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

func TestRevocationOnIssue(t *testing.T) {
	issuedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	entries := []exchange.StatusEntry{{List: "0-0", Index: 7}, {List: "1-0", Index: 99}}
	record := func(status exchange.Status, days int, retention time.Duration, e []exchange.StatusEntry) *exchange.Record {
		return &exchange.Record{CredentialExchangeID: "ex", CredentialDefinitionID: "def", Status: status,
			SupportRevocation: true, UpdatedAt: issuedAt.Unix(), Cnf: map[string]any{"jwk": "holder"},
			CredentialToken: "sd-jwt", StatusEntries: append([]exchange.StatusEntry(nil), e...),
			ExpiresAt:  issuedAt.Add(retention).Unix(),
			Definition: definition.Definition{Spec: definition.Spec{ExpirationInDays: days}}}
	}
	month := 30 * 24 * time.Hour
	tests := []struct {
		name    string
		rec     *exchange.Record
		from    exchange.Status
		want    bool
		wantTTL int64
	}{
		{"credential endpoint, credentials valid a year", record(exchange.StatusCredentialIssued, 365, month, entries),
			exchange.StatusOfferReceived, true, issuedAt.AddDate(0, 0, 365).Add(revocation.ExpiryMargin).Unix()},
		{"deferred pick-up", record(exchange.StatusCredentialAcked, 365, month, entries),
			exchange.StatusOfferReceived, true, issuedAt.AddDate(0, 0, 365).Add(revocation.ExpiryMargin).Unix()},
		{"credentials without exp: no ttl", record(exchange.StatusCredentialIssued, 0, month, entries),
			exchange.StatusOfferReceived, true, 0},
		{"credentials expiring before the record: the record's ttl", record(exchange.StatusCredentialIssued, 1, month,
			entries), exchange.StatusOfferReceived, true, issuedAt.Add(month).Unix()},
		{"not revocable: no entries", record(exchange.StatusCredentialIssued, 365, month, nil),
			exchange.StatusOfferReceived, false, 0},
		{"a write after issuance (notification)", record(exchange.StatusCredentialAccepted, 365, month, entries),
			exchange.StatusCredentialIssued, false, 0},
		{"issued to issued (answer replayed)", record(exchange.StatusCredentialIssued, 365, month, entries),
			exchange.StatusCredentialIssued, false, 0},
		{"acknowledged after issuance", record(exchange.StatusCredentialAcked, 365, month, entries),
			exchange.StatusCredentialIssued, false, 0},
		{"denied", record(exchange.StatusIssuanceDenied, 365, month, entries), exchange.StatusOfferReceived, false, 0},
		{"no record", nil, exchange.StatusOfferReceived, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := revocation.OnIssue(tt.rec, tt.from)
			if ok != tt.want {
				t.Fatalf("RevocationOnIssue ok = %v, want %v", ok, tt.want)
			}
			if !ok {
				return
			}
			if got.ExchangeID != "ex" || got.DefinitionID != "def" || got.Version != 1 ||
				got.RevocationStatus != exchange.RevocationOperational || got.UpdatedAt != issuedAt.Unix() ||
				len(got.Entries) != len(entries) || got.Entries[1] != entries[1] {
				t.Fatalf("revocation record %+v", got)
			}
			if got.ExpiresAt != tt.wantTTL {
				t.Fatalf("ttl %s, want %s", time.Unix(got.ExpiresAt, 0).UTC(), time.Unix(tt.wantTTL, 0).UTC())
			}
			tt.rec.StatusEntries[0].Index = 1000
			if got.Entries[0].Index != 7 {
				t.Fatal("the revocation record shares the record's entries")
			}
		})
	}
}

func TestRevocationRecordRendersEverySeedField(t *testing.T) {
	r := revocation.Record{ExchangeID: "ex", DefinitionID: "def", RevocationStatus: exchange.RevocationRevoked,
		Entries: []exchange.StatusEntry{{List: "0-0", Index: 3}}, Version: 4, UpdatedAt: 1_700_000_000}
	rec := r.Record()
	raw, err := json.Marshal(historyrecord.From(&rec))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, f := range historyrecord.SeedFields() {
		if _, ok := got[f]; !ok {
			t.Fatalf("field %s missing from %s", f, raw)
		}
	}
	want := map[string]any{"credentialExchangeId": "ex", "credentialDefinitionId": "def", "supportRevocation": true,
		"revocationStatus": "Revoked", "updatedAt": float64(1_700_000_000), "status": "", "credentialToken": "",
		"createdAt": float64(0), "credential": nil, "cnf": map[string]any{}, "credentialOffer": ""}
	for k, v := range want {
		if b, _ := json.Marshal(got[k]); string(b) != mustJSON(t, v) {
			t.Fatalf("%s = %s, want %s", k, b, mustJSON(t, v))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSetRevocationStatusOutlivesTheRecord revokes credentials whose exchange record has expired (past its
// retention) or was deleted: the revocation item carries the change alone, and the answer is the record-shaped
// minimal body.
func TestSetRevocationStatusOutlivesTheRecord(t *testing.T) {
	gone := []struct {
		name   string
		remove func(f *statusFixture, id string)
	}{
		{"record past its retention", func(f *statusFixture, _ string) { f.now = f.now.AddDate(0, 0, 31) }},
		{"record deleted by the organisation", func(f *statusFixture, id string) { f.store.dropExchange(id) }},
	}
	steps := []struct {
		to      exchange.RevocationStatus
		wantErr error
		want    exchange.RevocationStatus
		events  int
	}{
		{exchange.RevocationSuspended, nil, exchange.RevocationSuspended, 1},
		{exchange.RevocationSuspended, nil, exchange.RevocationSuspended, 1},
		{exchange.RevocationOperational, nil, exchange.RevocationOperational, 2},
		{exchange.RevocationRevoked, nil, exchange.RevocationRevoked, 3},
		{exchange.RevocationOperational, revocation.ErrRevokedIsFinal, exchange.RevocationRevoked, 3},
	}
	for _, g := range gone {
		t.Run(g.name, func(t *testing.T) {
			ctx := context.Background()
			f := newStatusFixture(t)
			rec := f.issued(t, "ex", 3)
			other := f.issued(t, "ex-other", 1)
			g.remove(f, "ex")
			if _, err := f.store.GetExchange(ctx, "ex"); !errors.Is(err, exchange.ErrNotFound) {
				t.Fatalf("record still readable: %v", err)
			}
			for i, s := range steps {
				got, err := f.lists.SetRevocationStatus(ctx, "ex", s.to)
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d: SetRevocationStatus(%s) = %v, want %v", i, s.to, err, s.wantErr)
				}
				if err == nil {
					if got.CredentialExchangeID != "ex" || got.CredentialDefinitionID != "def-ex" || !got.SupportRevocation ||
						got.RevocationStatus != s.want || got.Status != "" || got.CredentialToken != "" || got.Cnf != nil {
						t.Fatalf("step %d: answer %+v is not the minimal record", i, got)
					}
				}
				item, ok := f.store.revocation("ex")
				if !ok || item.RevocationStatus != s.want {
					t.Fatalf("step %d: revocation item %+v", i, item)
				}
				wantStatus, _ := statuslist.RevocationStatus(s.want).Status()
				statuses, err := f.store.statuses(smallLayout, rec.StatusEntries)
				if err != nil {
					t.Fatal(err)
				}
				for j, st := range statuses {
					if st != wantStatus {
						t.Fatalf("step %d: credential %d is %s in its list, want %s", i, j, st, wantStatus)
					}
				}
				if len(f.events.All()) != s.events {
					t.Fatalf("step %d: %d events, want %d", i, len(f.events.All()), s.events)
				}
				all := f.events.All()
				e := all[len(all)-1]
				if e.DetailType != revocation.StatusChangedEvent || e.ExchangeID != "ex" ||
					e.Detail.RevocationStatus != s.want {
					t.Fatalf("step %d: event %s %s %s", i, e.DetailType, e.ExchangeID, e.Detail.RevocationStatus)
				}
				// Derived from the revocation item: versions go on from the record's last one, so a consumer
				// that drops repeated (exchange, detail-type, version) keeps every change.
				prev := rec.Version
				if len(all) > 1 {
					prev = all[len(all)-2].Detail.Version
				}
				if e.Detail.Version <= prev {
					t.Fatalf("step %d: event version %d, want more than %d", i, e.Detail.Version, prev)
				}
			}
			if item, _ := f.store.revocation("ex"); item.Version != 4 {
				t.Fatalf("revocation item version %d after three changes, want 4", item.Version)
			}
			if st, _ := f.store.statuses(smallLayout, other.StatusEntries); st[0] != statuslist.Valid {
				t.Fatalf("another exchange's credential is %s", st[0])
			}
		})
	}
}

func TestSetRevocationStatusKeepsRecordAndItemTogether(t *testing.T) {
	ctx := context.Background()
	f := newStatusFixture(t)
	rec := f.issued(t, "ex", 2)
	got, err := f.lists.SetRevocationStatus(ctx, "ex", exchange.RevocationSuspended)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != exchange.StatusCredentialIssued || got.Version != rec.Version+1 ||
		got.RevocationStatus != exchange.RevocationSuspended {
		t.Fatalf("answer %s %s v%d, want the full record", got.Status, got.RevocationStatus, got.Version)
	}
	stored, _ := f.store.GetExchange(ctx, "ex")
	item, _ := f.store.revocation("ex")
	if stored.RevocationStatus != exchange.RevocationSuspended || item.RevocationStatus != exchange.RevocationSuspended ||
		item.Version != 2 || stored.UpdatedAt != item.UpdatedAt {
		t.Fatalf("record %s, item %s v%d", stored.RevocationStatus, item.RevocationStatus, item.Version)
	}
	// The record expires after the change: the next change works from the item alone and leaves the stale
	// record untouched.
	f.now = f.now.AddDate(0, 0, 31)
	if got, err = f.lists.SetRevocationStatus(ctx, "ex", exchange.RevocationRevoked); err != nil || got.Status != "" {
		t.Fatalf("after expiry: %s, %v", got.Status, err)
	}
	raw, _ := f.store.Stored("ex")
	if raw.RevocationStatus != exchange.RevocationSuspended || raw.Version != rec.Version+1 {
		t.Fatalf("the expired record was written: %s v%d", raw.RevocationStatus, raw.Version)
	}
}

func TestSetRevocationStatusWithoutRevocationItem(t *testing.T) {
	revocable := func(status exchange.Status, entries []exchange.StatusEntry) exchange.Record {
		return exchange.Record{CredentialExchangeID: "ex", Status: status, SupportRevocation: true,
			RevocationStatus: exchange.RevocationOperational, CredentialDefinitionID: "def",
			Version: 5, StatusEntries: entries}
	}
	tests := []struct {
		name    string
		record  *exchange.Record
		wantErr error
	}{
		{"never issued, record there", ptr(revocable(exchange.StatusOfferReceived, nil)), revocation.ErrNoCredentialIssued},
		{"never issued, record gone", nil, exchange.ErrNotFound},
		{"denied", ptr(revocable(exchange.StatusIssuanceDenied, nil)), revocation.ErrNoCredentialIssued},
		{"issued before revocation items existed", ptr(revocable(exchange.StatusCredentialAccepted,
			[]exchange.StatusEntry{{List: "0-0", Index: 5}})), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newStatusFixture(t)
			if tt.record != nil {
				rec := *tt.record
				rec.ExpiresAt = f.now.AddDate(0, 0, 30).Unix() // within its retention
				f.store.putExchange(rec)
			}
			_, err := f.lists.SetRevocationStatus(ctx, "ex", exchange.RevocationSuspended)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("SetRevocationStatus = %v, want %v", err, tt.wantErr)
			}
			item, ok := f.store.revocation("ex")
			if ok != (tt.wantErr == nil) {
				t.Fatalf("revocation item exists: %v", ok)
			}
			if !ok {
				if len(f.events.All()) != 0 {
					t.Fatal("a refused change published an event")
				}
				return
			}
			// Created from the record with the change; from then on the record may go.
			if item.Version != 1 || item.RevocationStatus != exchange.RevocationSuspended || len(item.Entries) != 1 {
				t.Fatalf("created item %+v", item)
			}
			f.store.dropExchange("ex")
			if _, err := f.lists.SetRevocationStatus(ctx, "ex", exchange.RevocationRevoked); err != nil {
				t.Fatal(err)
			}
			if st, _ := f.store.statuses(smallLayout, tt.record.StatusEntries); st[0] != statuslist.Invalid {
				t.Fatalf("entry is %s, want INVALID", st[0])
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
