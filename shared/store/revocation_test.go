package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// revocationLayout keeps every test list in one small shard.
var revocationLayout = statuslist.Layout{Shards: 1, Capacity: 1024, Bits: 2}

// statusLists is the status list use cases over the fixture's store and clock, with a local signing key.
func (f *fixture) statusLists(t *testing.T) *revocation.StatusLists {
	t.Helper()
	signer, err := keys.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	l, err := revocation.New(revocation.Config{IssuerURL: "https://issuer.example",
		Layout: revocationLayout}, revocation.Deps{Store: f.st, Signer: signer}, exchange.WithClock(f.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// revocableOffer stores a revocable exchange in offer_received whose definition gives credentials an exp of
// days (0: none), with a TXN pointer for a deferred pick-up.
func (f *fixture) revocableOffer(t *testing.T, id string, days int) exchange.Record {
	t.Helper()
	rec := f.record(id, exchange.StatusOfferReceived, "def-licence", 0)
	rec.SupportRevocation = true
	rec.RevocationStatus = exchange.RevocationOperational
	rec.Definition = definition.Definition{ID: "def-licence",
		Spec: definition.Spec{ExpirationInDays: days, SupportRevocation: true}}
	txn := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerTransaction, "txn-"+id), ExchangeID: id,
		ExpiresAt: rec.ExpiresAt}
	if err := f.st.CreateExchange(context.Background(), rec, []exchange.Pointer{txn}); err != nil {
		t.Fatal(err)
	}
	rec.Pointers = []string{txn.Key}
	return rec
}

// issue moves rec to `to` with n freshly allocated status entries (none when n is 0), as the credential
// endpoint (credential_issued) or the deferred pick-up (credential_acked, consuming the TXN pointer) does.
func (f *fixture) issue(t *testing.T, l *revocation.StatusLists, rec exchange.Record, to exchange.Status, n int, version int64) (exchange.Record, error) {
	t.Helper()
	ctx := context.Background()
	next := rec.Clone()
	for range n {
		if _, err := l.AllocateStatus(ctx, &next); err != nil {
			t.Fatal(err)
		}
	}
	if err := next.Transition(to, f.clock.now().Unix()); err != nil {
		t.Fatal(err)
	}
	next.CredentialToken = "header.payload.signature~disclosure~"
	next.Cnf = map[string]any{"jwk": map[string]any{"kty": "EC", "x": "holder-x"}}
	var ops []exchange.PointerOp
	switch to {
	case exchange.StatusCredentialIssued:
		ops = append(ops, exchange.PointerOp{Put: &exchange.Pointer{Key: exchange.PointerKey(exchange.PointerNotification,
			"notif-"+rec.CredentialExchangeID), ExchangeID: rec.CredentialExchangeID, ExpiresAt: rec.ExpiresAt}})
	case exchange.StatusCredentialAcked:
		ops = append(ops, exchange.PointerOp{Consume: exchange.PointerKey(exchange.PointerTransaction, "txn-"+rec.CredentialExchangeID)})
	}
	err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: version, Status: rec.Status}, ops...)
	next.Version = version + 1
	return next, err
}

// revocationItem reads the raw revocation item of exchange id (nil when there is none).
func (f *fixture) revocationItem(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	return f.rawItem(t, "REVOCATION#"+id, "REVOCATION")
}

func TestIssuingWriteRecordsRevocationItem(t *testing.T) {
	tests := []struct {
		name      string
		to        exchange.Status
		entries   int
		days      int
		version   int64 // the version the issuing write expects (the record is at 1)
		wantErr   error
		wantItem  bool
		wantNoTTL bool
	}{
		{"credential endpoint", exchange.StatusCredentialIssued, 2, 365, 1, nil, true, false},
		{"deferred pick-up", exchange.StatusCredentialAcked, 3, 365, 1, nil, true, false},
		{"credentials without exp", exchange.StatusCredentialIssued, 1, 0, 1, nil, true, true},
		{"not revocable: no entries", exchange.StatusCredentialIssued, 0, 365, 1, nil, false, false},
		{"lost issuing write writes nothing", exchange.StatusCredentialIssued, 1, 365, 7, exchange.ErrConflict, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			l := f.statusLists(t)
			rec := f.revocableOffer(t, "ex", tt.days)
			f.clock.add(90 * time.Second) // the credential request comes later than the offer
			issued, err := f.issue(t, l, rec, tt.to, tt.entries, tt.version)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("issuing UpdateExchange = %v, want %v", err, tt.wantErr)
			}
			item := f.revocationItem(t, "ex")
			if (item != nil) != tt.wantItem {
				t.Fatalf("revocation item present %v, want %v", item != nil, tt.wantItem)
			}
			if !tt.wantItem {
				return
			}
			var names []string
			for k := range item {
				names = append(names, k)
			}
			slices.Sort(names)
			want := []string{"definitionId", "entries", "pk", "recordVersion", "recordWritten", "revocationStatus", "sk", "ttl",
				"updatedAt", "version"}
			if tt.wantNoTTL {
				want = slices.DeleteFunc(want, func(s string) bool { return s == "ttl" })
			}
			if !slices.Equal(names, want) {
				t.Fatalf("revocation item attributes %v, want exactly %v", names, want)
			}
			for _, secret := range []string{"Erika", "holder-x", "header.payload", "credential_offer_uri"} {
				if strings.Contains(render(item), secret) {
					t.Fatalf("revocation item holds %q: %s", secret, render(item))
				}
			}
			wantTTL := time.Unix(issued.UpdatedAt, 0).UTC().AddDate(0, 0, tt.days).Add(revocation.ExpiryMargin).Unix()
			if tt.wantNoTTL {
				wantTTL = 0
			}
			got, err := f.st.GetRevocation(context.Background(), "ex")
			if err != nil {
				t.Fatal(err)
			}
			if got.ExpiresAt != wantTTL || got.Version != 1 || got.RevocationStatus != exchange.RevocationOperational ||
				got.DefinitionID != "def-licence" || !slices.Equal(got.Entries, issued.StatusEntries) ||
				got.UpdatedAt != issued.UpdatedAt {
				t.Fatalf("revocation item %+v, want ttl %d and the entries %v", got, wantTTL, issued.StatusEntries)
			}
			// Later writes of the record (the wallet's notification) leave the item alone.
			later := issued.Clone()
			if err := later.Transition(exchange.StatusCredentialAccepted, f.clock.now().Unix()); err != nil {
				t.Fatal(err)
			}
			if err := f.st.UpdateExchange(context.Background(), later, exchange.Expect{Version: issued.Version,
				Status: issued.Status}); err != nil {
				t.Fatal(err)
			}
			if again, _ := f.st.GetRevocation(context.Background(), "ex"); again.Version != 1 {
				t.Fatalf("a later record write changed the revocation item to version %d", again.Version)
			}
		})
	}
}

// listStatuses reads the status of each entry from the stored lists.
func (f *fixture) listStatuses(t *testing.T, entries []exchange.StatusEntry) []statuslist.Status {
	t.Helper()
	out := make([]statuslist.Status, len(entries))
	for i, e := range entries {
		id, err := statuslist.ParseListID(e.List)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.st.GetStatusList(context.Background(), id, revocationLayout)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = st.List.Get(e.Index); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestRevocationAfterTheRecordIsGone(t *testing.T) {
	tests := []struct {
		name   string
		remove func(t *testing.T, f *fixture)
	}{
		{"deleted by the organisation", func(t *testing.T, f *fixture) {
			if err := f.st.DeleteExchange(context.Background(), "ex"); err != nil {
				t.Fatal(err)
			}
			if f.rawItem(t, "EXCHANGE#ex", "EXCHANGE") != nil {
				t.Fatal("the record survived its deletion")
			}
		}},
		{"past its retention", func(t *testing.T, f *fixture) { f.clock.add(31 * 24 * time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			l := f.statusLists(t)
			issued, err := f.issue(t, l, f.revocableOffer(t, "ex", 365), exchange.StatusCredentialIssued, 2, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.SetRevocationStatus(ctx, "ex", exchange.RevocationSuspended); err != nil {
				t.Fatal(err)
			}
			tt.remove(t, f)
			if _, err := f.st.GetExchange(ctx, "ex"); !errors.Is(err, exchange.ErrNotFound) {
				t.Fatalf("GetExchange = %v, want ErrNotFound", err)
			}
			if f.revocationItem(t, "ex") == nil {
				t.Fatal("the revocation item went with the record")
			}
			before := f.rawItem(t, "EXCHANGE#ex", "EXCHANGE")
			got, err := l.SetRevocationStatus(ctx, "ex", exchange.RevocationRevoked)
			if err != nil {
				t.Fatal(err)
			}
			if got.CredentialExchangeID != "ex" || got.RevocationStatus != exchange.RevocationRevoked ||
				got.Status != "" || got.CredentialDefinitionID != "def-licence" || !got.SupportRevocation {
				t.Fatalf("answer %+v, want the minimal record", got)
			}
			for i, st := range f.listStatuses(t, issued.StatusEntries) {
				if st != statuslist.Invalid {
					t.Fatalf("credential %d is %s in its list, want INVALID", i, st)
				}
			}
			item, err := f.st.GetRevocation(ctx, "ex")
			if err != nil || item.Version != 3 || item.RevocationStatus != exchange.RevocationRevoked {
				t.Fatalf("revocation item %+v, %v", item, err)
			}
			if after := f.rawItem(t, "EXCHANGE#ex", "EXCHANGE"); render(after) != render(before) {
				t.Fatal("the expired or deleted record was written")
			}
			if _, err := l.SetRevocationStatus(ctx, "ex", exchange.RevocationOperational); !errors.Is(err, revocation.ErrRevokedIsFinal) {
				t.Fatalf("reinstating = %v, want ErrRevokedIsFinal", err)
			}
			// Past the credentials' exp (plus the margin) the item is gone too: nothing left to revoke.
			f.clock.add(366 * 24 * time.Hour)
			if _, err := l.SetRevocationStatus(ctx, "ex", exchange.RevocationSuspended); !errors.Is(err, exchange.ErrNotFound) {
				t.Fatalf("after the credentials expired: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestRevocationWithRecordUpdatesBoth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.statusLists(t)
	issued, err := f.issue(t, l, f.revocableOffer(t, "ex", 365), exchange.StatusCredentialAcked, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.SetRevocationStatus(ctx, "ex", exchange.RevocationSuspended)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := f.st.GetExchange(ctx, "ex")
	if err != nil {
		t.Fatal(err)
	}
	item, err := f.st.GetRevocation(ctx, "ex")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != exchange.StatusCredentialAcked || rec.RevocationStatus != exchange.RevocationSuspended ||
		rec.Version != issued.Version+1 || item.RevocationStatus != exchange.RevocationSuspended ||
		item.Version != 2 || got.CredentialToken == "" {
		t.Fatalf("answer %s, record %s v%d, item %s v%d", got.Status, rec.RevocationStatus, rec.Version,
			item.RevocationStatus, item.Version)
	}
	if st := f.listStatuses(t, issued.StatusEntries); st[0] != statuslist.Suspended || st[1] != statuslist.Suspended {
		t.Fatalf("list statuses %v", st)
	}
}

// TestRevocationConcurrentChanges revokes and suspends the credentials of several exchanges sharing one list
// concurrently, half of them with their record deleted: no change is lost (each exchange ends Revoked, in its
// item, its record and every entry of the shared list) and no other entry of the list changes.
func TestRevocationConcurrentChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.statusLists(t)
	const exchanges, writers = 6, 3
	var issued []exchange.Record
	for i := range exchanges {
		id := fmt.Sprintf("ex-%d", i)
		rec, err := f.issue(t, l, f.revocableOffer(t, id, 365), exchange.StatusCredentialIssued, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			if err := f.st.DeleteExchange(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		issued = append(issued, rec)
	}
	bystander, err := f.issue(t, l, f.revocableOffer(t, "bystander", 365), exchange.StatusCredentialIssued, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, exchanges*(writers+1))
	for _, rec := range issued {
		for w := range writers + 1 {
			to := exchange.RevocationRevoked
			if w == writers {
				to = exchange.RevocationSuspended
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, err := l.SetRevocationStatus(ctx, rec.CredentialExchangeID, to)
					switch {
					case errors.Is(err, exchange.ErrConflict):
						continue // lost every retry to the other writers: an admin client tries again
					case err == nil, to == exchange.RevocationSuspended && errors.Is(err, revocation.ErrRevokedIsFinal):
					default:
						errs <- fmt.Errorf("%s -> %s: %w", rec.CredentialExchangeID, to, err)
					}
					return
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, rec := range issued {
		id := rec.CredentialExchangeID
		item, err := f.st.GetRevocation(ctx, id)
		if err != nil || item.RevocationStatus != exchange.RevocationRevoked || item.Version < 2 || item.Version > 3 {
			t.Fatalf("%s: revocation item %+v, %v", id, item, err)
		}
		for j, st := range f.listStatuses(t, rec.StatusEntries) {
			if st != statuslist.Invalid {
				t.Fatalf("%s: credential %d is %s, want INVALID", id, j, st)
			}
		}
		stored, err := f.st.GetExchange(ctx, id)
		switch {
		case i%2 == 1 && !errors.Is(err, exchange.ErrNotFound):
			t.Fatalf("%s: deleted record reads %v", id, err)
		case i%2 == 0 && (err != nil || stored.RevocationStatus != exchange.RevocationRevoked):
			t.Fatalf("%s: record %s, %v", id, stored.RevocationStatus, err)
		}
	}
	if st := f.listStatuses(t, bystander.StatusEntries); st[0] != statuslist.Valid {
		t.Fatalf("the bystander's credential is %s", st[0])
	}
}

// TestDeleteExchangeKeepsRevocationItem checks the choice documented in docs/status-lists.md: deleting the
// history record (with every pointer) leaves the revocation item, whatever the record's pointers are.
func TestDeleteExchangeKeepsRevocationItem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.statusLists(t)
	issued, err := f.issue(t, l, f.revocableOffer(t, "ex", 365), exchange.StatusCredentialIssued, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.DeleteExchange(ctx, "ex"); err != nil {
		t.Fatal(err)
	}
	for _, p := range issued.Pointers {
		if f.rawItem(t, p, "PTR") != nil {
			t.Fatalf("pointer %s survived the delete", p)
		}
	}
	item := f.revocationItem(t, "ex")
	if item == nil {
		t.Fatal("the delete took the revocation item")
	}
	if v, ok := item["version"].(*types.AttributeValueMemberN); !ok || v.Value != "1" {
		t.Fatalf("revocation item changed by the delete: %s", render(item))
	}
}

// TestRevocationOfExchangeIssuedBeforeRevocationItems: a record issued before revocation items existed has its
// entries but no item; the first change creates the item in its transaction, and from then on the record may
// go.
func TestRevocationOfExchangeIssuedBeforeRevocationItems(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.statusLists(t)
	rec := f.record("ex-old", exchange.StatusCredentialAccepted, "def-licence", 0)
	rec.SupportRevocation = true
	rec.RevocationStatus = exchange.RevocationOperational
	rec.Definition = definition.Definition{ID: "def-licence",
		Spec: definition.Spec{ExpirationInDays: 365, SupportRevocation: true}}
	if _, err := l.AllocateStatus(ctx, &rec); err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateExchange(ctx, rec, nil); err != nil {
		t.Fatal(err)
	}
	if f.revocationItem(t, "ex-old") != nil {
		t.Fatal("a record written without issuing got a revocation item")
	}
	if _, err := l.SetRevocationStatus(ctx, "ex-old", exchange.RevocationSuspended); err != nil {
		t.Fatal(err)
	}
	item, err := f.st.GetRevocation(ctx, "ex-old")
	wantTTL := time.Unix(rec.UpdatedAt, 0).UTC().AddDate(0, 0, 365).Add(revocation.ExpiryMargin).Unix()
	if err != nil || item.Version != 1 || item.RevocationStatus != exchange.RevocationSuspended ||
		!slices.Equal(item.Entries, rec.StatusEntries) || item.ExpiresAt != wantTTL {
		t.Fatalf("created revocation item %+v, %v", item, err)
	}
	if stored, _ := f.st.GetExchange(ctx, "ex-old"); stored.RevocationStatus != exchange.RevocationSuspended {
		t.Fatalf("record %s", stored.RevocationStatus)
	}
	if err := f.st.DeleteExchange(ctx, "ex-old"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SetRevocationStatus(ctx, "ex-old", exchange.RevocationRevoked); err != nil {
		t.Fatal(err)
	}
	if st := f.listStatuses(t, rec.StatusEntries); st[0] != statuslist.Invalid {
		t.Fatalf("entry is %s, want INVALID", st[0])
	}
}
