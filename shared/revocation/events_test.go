package revocation_test

import (
	"fmt"
	"testing"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
)

func TestChangeEvents(t *testing.T) {
	item := revocation.Record{ExchangeID: "ex", DefinitionID: "def", Entries: []exchange.StatusEntry{{List: "0.0", Index: 4}},
		RevocationStatus: exchange.RevocationOperational, Version: 1, UpdatedAt: 1700000000, RecordWritten: true, RecordVersion: 4}
	with := func(f func(*revocation.Record)) *revocation.Record {
		r := item
		r.Version++
		f(&r)
		return &r
	}
	tests := []struct {
		name          string
		before, after *revocation.Record
		want          []string
		version       int64
	}{
		{"written with the issuance", nil, &item, nil, 0},
		{"changed with the record: the record's change reports it", &item, with(func(r *revocation.Record) {
			r.RevocationStatus, r.RecordVersion = exchange.RevocationSuspended, 5
		}), nil, 0},
		{"changed without the record", &item, with(func(r *revocation.Record) {
			r.RevocationStatus, r.RecordWritten, r.RecordVersion = exchange.RevocationRevoked, false, 5
		}), []string{revocation.StatusChangedEvent}, 5},
		{"created without the record (issued before revocation items)", nil, with(func(r *revocation.Record) {
			r.RevocationStatus, r.RecordWritten, r.RecordVersion = exchange.RevocationSuspended, false, 1
		}), []string{revocation.StatusChangedEvent}, 1},
		{"written again without a change", &item, with(func(r *revocation.Record) { r.RecordWritten = false }), nil, 0},
		{"expired", &item, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range revocation.ChangeEvents(tt.before, tt.after) {
				got = append(got, e.DetailType)
				if e.ExchangeID != "ex" || e.Detail.Version != tt.version || e.Detail.RevocationStatus != tt.after.RevocationStatus ||
					e.Detail.CredentialDefinitionID != "def" || !e.Detail.SupportRevocation {
					t.Errorf("event %+v, want the item's minimal record at version %d", e, tt.version)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
		})
	}
}
