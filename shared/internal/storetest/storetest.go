// Package storetest is the contract of the store the use cases declare (admin.Store, wallet.Store and
// revocation.Store): one suite that runs against the DynamoDB store (shared/store, on DynamoDB Local) and the
// in-memory store the use case tests run on (shared/internal/memstore), so the fake cannot drift from the real
// store. Each case is a behaviour a use case relies on: conditional writes that change nothing when refused,
// single-use pointers, expired items treated as absent, newest-first paging with cursors that are checked, and
// the revocation item written with the issuance. Only tests import it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/store"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// Store is every store interface the use cases declare.
type Store interface {
	admin.Store
	wallet.Store
	revocation.Store
}

// Factory returns a fresh, empty store whose expiry checks read now, and its change feed.
type Factory func(t *testing.T, now func() time.Time) (Store, Changes)

// Changes returns every committed write of an exchange record or a revocation item so far, in order, as the
// publisher receives them (the table's stream; memstore.WithChanges).
type Changes func() []store.Change

// fixture is one case's store and clock.
type fixture struct {
	t       *testing.T
	st      Store
	changes Changes
	clock   *domaintest.Clock
	ctx     context.Context
}

// layout is small enough to decode quickly and valid for the statuslist package.
var layout = statuslist.Layout{Shards: 2, Capacity: 1024, Bits: 2}

// Run runs every case of the contract, each on a fresh store from newStore.
func Run(t *testing.T, newStore Factory) {
	cases := []struct {
		name string
		run  func(f *fixture)
	}{
		{"definitions are created once, replaced under their version and deleted", definitionLifecycle},
		{"definitions are listed newest first, page by page", definitionPages},
		{"presentation definitions are created once, replaced under their version and deleted", presentationDefinitionLifecycle},
		{"presentation definitions are listed newest first, page by page, apart from credential definitions", presentationDefinitionPages},
		{"exchange ids and pointer keys are unique at creation", exchangeCreation},
		{"an expired exchange is absent", exchangeExpiry},
		{"exchange writes are conditional on version and status machine", exchangeConditions},
		{"pointer changes join the record write, all or nothing", pointerOps},
		{"a c_nonce's used-marker is put once: a second use is the pointer gone", nonceMarkers},
		{"deleting an exchange removes the pointers it lists but not its revocation item", exchangeDeletion},
		{"exchanges are listed newest first by status and definition", exchangePages},
		{"pointers of no write: a live key is refused, an expired one replaced", pointers},
		{"pointer changes of no exchange write are single use, all or nothing", pointerWrites},
		{"an exchange created with a consumed pointer is created once", exchangeCreationConsuming},
		{"individuals are registered, replaced and deleted", individuals},
		{"dynamic configurations never lose ttl and expire", dynamicConfigurations},
		{"status entries are handed out once, up to the capacity", statusEntries},
		{"shard heads advance once per generation", shardHeads},
		{"revocation commits are versioned and all or nothing", revocationCommits},
		{"status list tokens: one signer at a time, the newest token for the issuer URL wins", statusListTokens},
		{"every committed write reaches the change feed, and refused ones do not: the events they call for", changeFeed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := domaintest.NewClock(domaintest.Epoch)
			st, changes := newStore(t, clk.Now)
			c.run(&fixture{t: t, st: st, changes: changes, clock: clk, ctx: context.Background()})
		})
	}
}

// must fails the case on err.
func (f *fixture) must(err error, what string) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

// is fails the case unless errors.Is(err, want).
func (f *fixture) is(err, want error, what string) {
	f.t.Helper()
	if !errors.Is(err, want) {
		f.t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func (f *fixture) unix(d time.Duration) int64 { return f.clock.Now().Add(d).Unix() }

// definition is a definition created at the clock plus offset.
func (f *fixture) definition(id string, offset time.Duration) definition.Definition {
	at := f.clock.Now().Add(offset)
	return definition.Definition{ID: id, Spec: definition.Spec{Label: "Label " + id, CredentialFormat: "dc+sd-jwt",
		VCT: "https://example.com/" + id, ExpirationInDays: 365, SupportRevocation: true,
		Claims:  []definition.Claim{{Path: []any{"given_name"}, LimitDisclosure: true}},
		Display: []definition.Display{{Name: "Name " + id, Locale: "en"}}},
		CreatedAt: at.Unix(), UpdatedAt: at.Unix(), Version: 1, CreatedNanos: at.UnixNano()}
}

// record is an exchange record in status created at the clock plus offset, retained for a day.
func (f *fixture) record(id string, status exchange.Status, defID string, offset time.Duration) exchange.Record {
	at := f.clock.Now().Add(offset)
	rec := exchange.Record{CredentialExchangeID: id, IssuanceMode: exchange.ModeInTime, IsPreAuthorised: true,
		CredentialOffer: "openid-credential-offer://?credential_offer_uri=x", Status: status,
		CreatedAt: at.Unix(), UpdatedAt: at.Unix(), CredentialDefinitionID: defID, CredentialFormat: "dc+sd-jwt",
		SupportRevocation: true, RevocationStatus: exchange.RevocationOperational, Version: 1,
		ExpiresAt: at.Add(24 * time.Hour).Unix(), CreatedNanos: at.UnixNano(),
		Definition: snapshot(f.definition("def-"+id, 0)), ConfigurationID: "def-" + id, CredentialType: []string{"T"},
		OfferIDHash: "offer-hash-" + id, CodeHash: "code-hash-" + id, OfferExpiresAt: at.Add(time.Hour).Unix()}
	rec.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika"}}})
	return rec
}

// snapshot is d as an exchange keeps it: the stored definition's version and creation order are not part of it.
func snapshot(d definition.Definition) definition.Definition {
	d.Version, d.CreatedNanos = 0, 0
	return d
}

// pointer is a pointer of exchangeID living for ttl.
func (f *fixture) pointer(kind, secret, exchangeID string, ttl time.Duration) exchange.Pointer {
	return exchange.Pointer{Key: exchange.PointerKey(kind, secret), ExchangeID: exchangeID, ExpiresAt: f.unix(ttl)}
}

// get reads a record that must exist.
func (f *fixture) get(id string) exchange.Record {
	f.t.Helper()
	rec, err := f.st.GetExchange(f.ctx, id)
	f.must(err, "get exchange "+id)
	return rec
}

// unchanged fails unless the stored record of want is want (as read before a refused write).
func (f *fixture) unchanged(want exchange.Record, what string) {
	f.t.Helper()
	if got := f.get(want.CredentialExchangeID); !reflect.DeepEqual(got, want) {
		f.t.Fatalf("%s changed the record:\n got %+v\nwant %+v", what, got, want)
	}
}

// configItem is a stored credential or presentation definition as the generic cases see it.
type configItem struct {
	id, label                     string
	version, createdAt, updatedAt int64
	nanos                         int64
}

// configOps are the store methods of one kind of definition, over configItems.
type configOps struct {
	create  func(f *fixture, it configItem) error
	get     func(f *fixture, id string) (configItem, error)
	replace func(f *fixture, it configItem, expected int64) error
	delete  func(f *fixture, id string) error
	list    func(f *fixture, page exchange.PageRequest) ([]string, string, error)
}

var credentialDefinitionOps = configOps{
	create: func(f *fixture, it configItem) error { return f.st.CreateDefinition(f.ctx, f.credentialDefinition(it)) },
	get: func(f *fixture, id string) (configItem, error) {
		d, err := f.st.GetDefinition(f.ctx, id)
		if err == nil && (!reflect.DeepEqual(d.Spec.Claims[0].Path, []any{"given_name"}) || d.Display[0].Name != "Name "+id) {
			f.t.Fatalf("stored definition %+v lost its claims or display", d)
		}
		return configItem{id: d.ID, label: d.Label, version: d.Version, createdAt: d.CreatedAt, updatedAt: d.UpdatedAt, nanos: d.CreatedNanos}, err
	},
	replace: func(f *fixture, it configItem, expected int64) error {
		return f.st.ReplaceDefinition(f.ctx, f.credentialDefinition(it), expected)
	},
	delete: func(f *fixture, id string) error { return f.st.DeleteDefinition(f.ctx, id) },
	list: func(f *fixture, page exchange.PageRequest) ([]string, string, error) {
		p, err := f.st.ListDefinitions(f.ctx, page)
		var ids []string
		for _, d := range p.Items {
			ids = append(ids, d.ID)
		}
		return ids, p.NextCursor, err
	},
}

var presentationDefinitionOps = configOps{
	create: func(f *fixture, it configItem) error {
		return f.st.CreatePresentationDefinition(f.ctx, presentationDefinition(it))
	},
	get: func(f *fixture, id string) (configItem, error) {
		d, err := f.st.GetPresentationDefinition(f.ctx, id)
		if err == nil && (string(d.DCQLQuery) != testDCQL || !slices.Equal(d.TrustedIssuers, []string{"https://issuer.example"})) {
			f.t.Fatalf("stored presentation definition %+v lost its query or trusted issuers", d)
		}
		return configItem{id: d.ID, label: d.Label, version: d.Version, createdAt: d.CreatedAt, updatedAt: d.UpdatedAt, nanos: d.CreatedNanos}, err
	},
	replace: func(f *fixture, it configItem, expected int64) error {
		return f.st.ReplacePresentationDefinition(f.ctx, presentationDefinition(it), expected)
	},
	delete: func(f *fixture, id string) error { return f.st.DeletePresentationDefinition(f.ctx, id) },
	list: func(f *fixture, page exchange.PageRequest) ([]string, string, error) {
		p, err := f.st.ListPresentationDefinitions(f.ctx, page)
		var ids []string
		for _, d := range p.Items {
			ids = append(ids, d.ID)
		}
		return ids, p.NextCursor, err
	},
}

// testDCQL is the query of every presentation definition of the cases.
const testDCQL = `{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["https://issuer.example/pid"]}}]}`

func presentationDefinition(it configItem) presentationdef.Definition {
	return presentationdef.Definition{ID: it.id, Spec: presentationdef.Spec{Label: it.label, DCQLQuery: []byte(testDCQL),
		TrustedIssuers: []string{"https://issuer.example"}}, CreatedAt: it.createdAt, UpdatedAt: it.updatedAt,
		Version: it.version, CreatedNanos: it.nanos}
}

func (f *fixture) credentialDefinition(it configItem) definition.Definition {
	d := f.definition(it.id, 0)
	d.Label, d.Version, d.CreatedAt, d.UpdatedAt, d.CreatedNanos = it.label, it.version, it.createdAt, it.updatedAt, it.nanos
	return d
}

// configItemAt is a new item created at the clock plus offset.
func (f *fixture) configItemAt(id string, offset time.Duration) configItem {
	at := f.clock.Now().Add(offset)
	return configItem{id: id, label: "Label " + id, version: 1, createdAt: at.Unix(), updatedAt: at.Unix(), nanos: at.UnixNano()}
}

func definitionLifecycle(f *fixture) { configLifecycle(f, credentialDefinitionOps) }

func presentationDefinitionLifecycle(f *fixture) { configLifecycle(f, presentationDefinitionOps) }

func configLifecycle(f *fixture, ops configOps) {
	d := f.configItemAt("d1", 0)
	f.must(ops.create(f, d), "create")
	f.is(ops.create(f, d), exchange.ErrAlreadyExists, "create twice")
	got, err := ops.get(f, "d1")
	f.must(err, "get")
	if got != d {
		f.t.Fatalf("stored %+v, want %+v", got, d)
	}
	next := d
	next.label, next.version, next.updatedAt = "Renamed", 2, d.updatedAt+5
	f.is(ops.replace(f, next, 7), exchange.ErrConflict, "replace under a stale version")
	f.must(ops.replace(f, next, 1), "replace")
	if got, _ := ops.get(f, "d1"); got != next {
		f.t.Fatalf("replaced %+v, want %+v", got, next)
	}
	f.is(ops.replace(f, f.configItemAt("nope", 0), 1), exchange.ErrNotFound, "replace an unknown one")
	f.must(ops.delete(f, "d1"), "delete")
	_, err = ops.get(f, "d1")
	f.is(err, exchange.ErrNotFound, "get deleted")
	f.is(ops.delete(f, "d1"), exchange.ErrNotFound, "delete twice")
}

func definitionPages(f *fixture) { configPages(f, credentialDefinitionOps, presentationDefinitionOps) }

func presentationDefinitionPages(f *fixture) {
	configPages(f, presentationDefinitionOps, credentialDefinitionOps)
}

// configPages lists five items of ops two by two, newest first, and refuses the cursors of other lists: the
// exchange history's and other's (the other kind of definition).
func configPages(f *fixture, ops, other configOps) {
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("d%d", i)
		f.must(ops.create(f, f.configItemAt(id, time.Duration(i)*time.Second)), "create "+id)
		want = append([]string{id}, want...)
	}
	var got []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		ids, next, err := ops.list(f, exchange.PageRequest{Limit: 2, Cursor: cursor})
		f.must(err, "list")
		if len(ids) > 2 {
			f.t.Fatalf("page of %d items, limit 2", len(ids))
		}
		got = append(got, ids...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		f.t.Fatalf("listed %v, want newest first %v", got, want)
	}
	_, _, err := ops.list(f, exchange.PageRequest{Limit: 2, Cursor: "not-a-cursor"})
	f.is(err, exchange.ErrInvalidCursor, "garbage cursor")
	f.must(f.st.CreateExchange(f.ctx, f.record("x1", exchange.StatusOfferSent, "", 0), nil), "create exchange")
	f.must(f.st.CreateExchange(f.ctx, f.record("x2", exchange.StatusOfferSent, "", time.Second), nil), "create exchange")
	p, err := f.st.ListExchanges(f.ctx, exchange.Filter{}, exchange.PageRequest{Limit: 1})
	f.must(err, "list exchanges")
	if p.NextCursor == "" {
		f.t.Fatal("no cursor after the first of two exchanges")
	}
	_, _, err = ops.list(f, exchange.PageRequest{Limit: 2, Cursor: p.NextCursor})
	f.is(err, exchange.ErrInvalidCursor, "a cursor of the history list")
	for i := range 3 {
		f.must(other.create(f, f.configItemAt(fmt.Sprintf("o%d", i), time.Duration(i)*time.Second)), "create other")
	}
	_, otherCursor, err := other.list(f, exchange.PageRequest{Limit: 1})
	f.must(err, "list the other kind")
	if otherCursor == "" {
		f.t.Fatal("no cursor after the first of three items of the other kind")
	}
	_, _, err = ops.list(f, exchange.PageRequest{Limit: 2, Cursor: otherCursor})
	f.is(err, exchange.ErrInvalidCursor, "a cursor of the other kind of definition")
	ids, _, err := ops.list(f, exchange.PageRequest{Limit: 10})
	f.must(err, "list after the other kind was created")
	if !slices.Equal(ids, want) {
		f.t.Fatalf("listed %v with the other kind stored, want only %v", ids, want)
	}
}

func exchangeCreation(f *fixture) {
	rec := f.record("e1", exchange.StatusOfferSent, "def-1", 0)
	code := f.pointer(exchange.PointerCode, "code-1", "e1", time.Hour)
	rec.Pointers = []string{code.Key}
	f.must(f.st.CreateExchange(f.ctx, rec, []exchange.Pointer{code}), "create")
	got := f.get("e1")
	if !reflect.DeepEqual(got, rec) {
		f.t.Fatalf("stored record\n got %+v\nwant %+v", got, rec)
	}
	if p, err := f.st.GetPointer(f.ctx, code.Key); err != nil || p.ExchangeID != "e1" || p.ExpiresAt != code.ExpiresAt {
		f.t.Fatalf("pointer %+v, %v", p, err)
	}
	f.is(f.st.CreateExchange(f.ctx, rec, nil), exchange.ErrAlreadyExists, "create the same id")
	other := f.record("e2", exchange.StatusOfferSent, "", 0)
	f.is(f.st.CreateExchange(f.ctx, other, []exchange.Pointer{code}), exchange.ErrAlreadyExists,
		"create with a pointer key in use")
	_, err := f.st.GetExchange(f.ctx, "e2")
	f.is(err, exchange.ErrNotFound, "the refused record")
}

func exchangeExpiry(f *fixture) {
	rec := f.record("e1", exchange.StatusOfferSent, "", 0)
	rec.ExpiresAt = f.unix(10 * time.Second)
	f.must(f.st.CreateExchange(f.ctx, rec, nil), "create")
	f.get("e1")
	f.clock.Advance(10 * time.Second)
	_, err := f.st.GetExchange(f.ctx, "e1")
	f.is(err, exchange.ErrNotFound, "get at its ttl")
	next := rec.Clone()
	next.UpdatedAt++
	f.is(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: 1, Status: rec.Status}), exchange.ErrNotFound,
		"update an expired record")
	p, err := f.st.ListExchanges(f.ctx, exchange.Filter{}, exchange.PageRequest{Limit: 10})
	f.must(err, "list")
	if len(p.Items) != 0 {
		f.t.Fatalf("expired record listed: %+v", p.Items)
	}
	f.is(f.st.DeleteExchange(f.ctx, "e1"), exchange.ErrNotFound, "delete an expired record")
	f.is(f.st.DeleteExchange(f.ctx, "e1"), exchange.ErrNotFound, "delete it again")
	rec.ExpiresAt = f.unix(time.Hour)
	f.must(f.st.CreateExchange(f.ctx, rec, nil), "create the id again once the expired item is deleted")
}

func exchangeConditions(f *fixture) {
	rec := f.record("e1", exchange.StatusOfferSent, "", 0)
	f.must(f.st.CreateExchange(f.ctx, rec, nil), "create")
	stored := f.get("e1")

	stale := stored.Clone()
	stale.ClientID = "stale"
	f.is(f.st.UpdateExchange(f.ctx, stale, exchange.Expect{Version: 5, Status: exchange.StatusOfferSent}),
		exchange.ErrConflict, "a stale version")
	f.unchanged(stored, "a stale version")

	skip := stored.Clone()
	skip.Status = exchange.StatusCredentialAccepted
	err := f.st.UpdateExchange(f.ctx, skip, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent})
	var te *exchange.TransitionError
	if !errors.Is(err, exchange.ErrTransitionRefused) || !errors.As(err, &te) {
		f.t.Fatalf("offer_sent -> credential_accepted: err = %v, want a TransitionError", err)
	}
	f.unchanged(stored, "a refused transition")

	received := stored.Clone()
	f.must(received.Transition(exchange.StatusOfferReceived, f.unix(time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, received, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent}), "update")
	got := f.get("e1")
	if got.Version != 2 || got.Status != exchange.StatusOfferReceived || got.UpdatedAt != received.UpdatedAt {
		f.t.Fatalf("updated record %+v", got)
	}
	issued := got.Clone()
	f.must(issued.Transition(exchange.StatusCredentialIssued, f.unix(2*time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, issued, exchange.Expect{Version: 2, Status: exchange.StatusOfferReceived}), "issue")
	issued = f.get("e1")

	// A writer that read offer_sent and denies: the record has moved where a denial can no longer follow.
	late := stored.Clone()
	f.must(late.Transition(exchange.StatusIssuanceDenied, f.unix(3*time.Second)), "transition")
	err = f.st.UpdateExchange(f.ctx, late, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent})
	if !errors.Is(err, exchange.ErrConflict) || !errors.As(err, &te) {
		f.t.Fatalf("denial after issuance: err = %v, want ErrConflict with a TransitionError", err)
	}
	f.unchanged(issued, "a denial after issuance")

	// The same status again, at the version read: a plain conditional write.
	same := issued.Clone()
	same.ClientID = "wallet"
	f.must(f.st.UpdateExchange(f.ctx, same, exchange.Expect{Version: issued.Version, Status: issued.Status}), "same status")
	if got := f.get("e1"); got.ClientID != "wallet" || got.Version != issued.Version+1 {
		f.t.Fatalf("record after a write in the same status: %+v", got)
	}
	unknown := f.record("nope", exchange.StatusOfferSent, "", 0)
	f.is(f.st.UpdateExchange(f.ctx, unknown, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent}),
		exchange.ErrNotFound, "update an unknown record")
}

func pointerOps(f *fixture) {
	rec := f.record("e1", exchange.StatusOfferReceived, "", 0)
	f.must(f.st.CreateExchange(f.ctx, rec, nil), "create")
	f.must(f.st.CreateExchange(f.ctx, f.record("other", exchange.StatusOfferReceived, "", 0), nil), "create other")
	stored := f.get("e1")

	nonce := f.pointer(exchange.PointerNonce, "n1", "e1", time.Minute)
	next := stored.Clone()
	f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: 1, Status: stored.Status},
		exchange.PointerOp{Put: &nonce}), "put a pointer")
	stored = f.get("e1")
	if !slices.Contains(stored.Pointers, nonce.Key) || stored.Version != 2 {
		f.t.Fatalf("the record does not list its new pointer: %+v", stored)
	}
	if p, err := f.st.GetPointer(f.ctx, nonce.Key); err != nil || p.ExchangeID != "e1" {
		f.t.Fatalf("put pointer %+v, %v", p, err)
	}

	gone := func(what string, ops ...exchange.PointerOp) {
		f.t.Helper()
		before := f.get("e1")
		err := f.st.UpdateExchange(f.ctx, before.Clone(), exchange.Expect{Version: before.Version, Status: before.Status}, ops...)
		var pg *exchange.PointerGoneError
		if !errors.Is(err, exchange.ErrConflict) || !errors.As(err, &pg) || pg.Key != ops[len(ops)-1].Consume {
			f.t.Fatalf("%s: err = %v, want ErrConflict with the pointer gone", what, err)
		}
		f.unchanged(before, what)
	}
	extra := f.pointer(exchange.PointerTransaction, "t1", "e1", time.Hour)
	gone("consume a pointer that never was", exchange.PointerOp{Put: &extra},
		exchange.PointerOp{Consume: exchange.PointerKey(exchange.PointerNonce, "never")})
	if _, err := f.st.GetPointer(f.ctx, extra.Key); !errors.Is(err, exchange.ErrNotFound) {
		f.t.Fatalf("a refused write put its pointer: %v", err)
	}
	foreign := f.pointer(exchange.PointerNonce, "n-other", "other", time.Minute)
	f.must(f.st.PutPointer(f.ctx, foreign), "put a pointer of another exchange")
	gone("consume a pointer of another exchange", exchange.PointerOp{Consume: foreign.Key})
	short := f.pointer(exchange.PointerNonce, "n-short", "", time.Second)
	f.must(f.st.PutPointer(f.ctx, short), "put a short-lived pointer")
	f.clock.Advance(time.Second)
	gone("consume an expired pointer", exchange.PointerOp{Consume: short.Key})

	before := f.get("e1")
	f.is(f.st.UpdateExchange(f.ctx, before.Clone(), exchange.Expect{Version: before.Version, Status: before.Status},
		exchange.PointerOp{Put: &nonce}), exchange.ErrConflict, "put a pointer key in use")
	f.unchanged(before, "a put of a key in use")

	free := f.pointer(exchange.PointerNonce, "n-free", "", time.Minute)
	f.must(f.st.PutPointer(f.ctx, free), "put a pointer of no exchange")
	f.must(f.st.UpdateExchange(f.ctx, before.Clone(), exchange.Expect{Version: before.Version, Status: before.Status},
		exchange.PointerOp{Consume: free.Key}, exchange.PointerOp{Consume: nonce.Key}), "consume")
	for _, k := range []string{free.Key, nonce.Key} {
		if _, err := f.st.GetPointer(f.ctx, k); !errors.Is(err, exchange.ErrNotFound) {
			f.t.Fatalf("a consumed pointer is still there: %v", err)
		}
	}
	gone("consume a pointer twice", exchange.PointerOp{Consume: nonce.Key})
}

func exchangeDeletion(f *fixture) {
	rec := f.record("e1", exchange.StatusOfferReceived, "", 0)
	code := f.pointer(exchange.PointerCode, "c1", "e1", time.Hour)
	rec.Pointers = []string{code.Key} // the creator lists the pointers it creates; updates add theirs
	f.must(f.st.CreateExchange(f.ctx, rec, []exchange.Pointer{code}), "create")
	rec = f.get("e1")
	nonce := f.pointer(exchange.PointerNonce, "n1", "e1", time.Minute)
	issued := rec.Clone()
	issued.StatusEntries = []exchange.StatusEntry{{List: "0.0", Index: 7}}
	f.must(issued.Transition(exchange.StatusCredentialIssued, f.unix(time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, issued, exchange.Expect{Version: rec.Version, Status: rec.Status},
		exchange.PointerOp{Put: &nonce}), "issue")
	f.must(f.st.DeleteExchange(f.ctx, "e1"), "delete")
	_, err := f.st.GetExchange(f.ctx, "e1")
	f.is(err, exchange.ErrNotFound, "get deleted")
	for _, k := range []string{code.Key, nonce.Key} {
		_, err := f.st.GetPointer(f.ctx, k)
		f.is(err, exchange.ErrNotFound, "a pointer of the deleted record")
	}
	if _, err := f.st.GetRevocation(f.ctx, "e1"); err != nil {
		f.t.Fatalf("the revocation item went with the record: %v", err)
	}
	f.is(f.st.DeleteExchange(f.ctx, "e1"), exchange.ErrNotFound, "delete twice")
}

func exchangePages(f *fixture) {
	specs := []struct {
		id, def string
		status  exchange.Status
	}{
		{"e0", "da", exchange.StatusOfferSent}, {"e1", "db", exchange.StatusOfferSent},
		{"e2", "da", exchange.StatusIssuanceDenied}, {"e3", "", exchange.StatusOfferSent},
		{"e4", "da", exchange.StatusOfferSent}, {"e5", "da", exchange.StatusOfferSent},
	}
	for i, s := range specs {
		rec := f.record(s.id, s.status, s.def, time.Duration(i)*time.Second)
		if s.id == "e5" {
			rec.ExpiresAt = f.unix(time.Minute)
		}
		f.must(f.st.CreateExchange(f.ctx, rec, nil), "create "+s.id)
	}
	f.clock.Advance(time.Minute) // e5 expires
	all := func(filter exchange.Filter) []string {
		f.t.Helper()
		var ids []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			p, err := f.st.ListExchanges(f.ctx, filter, exchange.PageRequest{Limit: 2, Cursor: cursor})
			f.must(err, "list exchanges")
			for _, r := range p.Items {
				ids = append(ids, r.CredentialExchangeID)
			}
			if cursor = p.NextCursor; cursor == "" {
				return ids
			}
		}
		f.t.Fatal("more than 10 pages")
		return nil
	}
	for _, tc := range []struct {
		filter exchange.Filter
		want   []string
	}{
		{exchange.Filter{}, []string{"e4", "e3", "e2", "e1", "e0"}},
		{exchange.Filter{Status: exchange.StatusOfferSent}, []string{"e4", "e3", "e1", "e0"}},
		{exchange.Filter{CredentialDefinitionID: "da"}, []string{"e4", "e2", "e0"}},
		{exchange.Filter{CredentialDefinitionID: "da", Status: exchange.StatusIssuanceDenied}, []string{"e2"}},
		{exchange.Filter{Status: exchange.StatusCredentialIssued}, nil},
	} {
		if got := all(tc.filter); !slices.Equal(got, tc.want) {
			f.t.Errorf("list %+v = %v, want %v", tc.filter, got, tc.want)
		}
	}
	p, err := f.st.ListExchanges(f.ctx, exchange.Filter{Status: exchange.StatusOfferSent}, exchange.PageRequest{Limit: 1})
	f.must(err, "list")
	_, err = f.st.ListExchanges(f.ctx, exchange.Filter{CredentialDefinitionID: "da"},
		exchange.PageRequest{Limit: 1, Cursor: p.NextCursor})
	f.is(err, exchange.ErrInvalidCursor, "a cursor of another filter")
	_, err = f.st.ListExchanges(f.ctx, exchange.Filter{}, exchange.PageRequest{Limit: 1, Cursor: "%%%"})
	f.is(err, exchange.ErrInvalidCursor, "garbage cursor")
}

func pointers(f *fixture) {
	p := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerNonce, "n"), ExpiresAt: f.unix(5 * time.Second),
		Attributes: map[string]string{"a": "1", "b": "two"}}
	f.must(f.st.PutPointer(f.ctx, p), "put")
	f.is(f.st.PutPointer(f.ctx, p), exchange.ErrAlreadyExists, "put a live key again")
	got, err := f.st.GetPointer(f.ctx, p.Key)
	f.must(err, "get")
	if !reflect.DeepEqual(got, p) {
		f.t.Fatalf("pointer %+v, want %+v", got, p)
	}
	got.Attributes["a"] = "changed"
	if again, _ := f.st.GetPointer(f.ctx, p.Key); again.Attributes["a"] != "1" {
		f.t.Fatal("a caller changed the stored pointer")
	}
	f.clock.Advance(5 * time.Second)
	_, err = f.st.GetPointer(f.ctx, p.Key)
	f.is(err, exchange.ErrNotFound, "get at its ttl")
	p.ExpiresAt = f.unix(time.Minute)
	f.must(f.st.PutPointer(f.ctx, p), "put over an expired leftover")
	if err := f.st.PutPointer(f.ctx, exchange.Pointer{ExpiresAt: f.unix(time.Minute)}); err == nil {
		f.t.Fatal("a pointer without a key was stored")
	}
}

func pointerWrites(f *fixture) {
	par := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerPushedRequest, "r"), ExchangeID: "e1",
		ExpiresAt: f.unix(time.Minute), Attributes: map[string]string{"v": "1"}}
	session := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerAuthorization, "s"), ExpiresAt: f.unix(5 * time.Minute)}
	f.must(f.st.WritePointers(f.ctx, exchange.PointerOp{Put: &par}), "put the pushed request")
	f.is(f.st.WritePointers(f.ctx, exchange.PointerOp{Put: &par}), exchange.ErrAlreadyExists, "put it again")
	f.must(f.st.WritePointers(f.ctx, exchange.PointerOp{Consume: par.Key}, exchange.PointerOp{Put: &session}),
		"turn it into a session")
	var gone *exchange.PointerGoneError
	err := f.st.WritePointers(f.ctx, exchange.PointerOp{Consume: par.Key},
		exchange.PointerOp{Put: &exchange.Pointer{Key: exchange.PointerKey(exchange.PointerAuthorization, "s2"), ExpiresAt: f.unix(time.Minute)}})
	if !errors.Is(err, exchange.ErrConflict) || !errors.As(err, &gone) || gone.Key != par.Key {
		f.t.Fatalf("a replayed request_uri: err = %v", err)
	}
	_, err = f.st.GetPointer(f.ctx, exchange.PointerKey(exchange.PointerAuthorization, "s2"))
	f.is(err, exchange.ErrNotFound, "the refused write put nothing")
	if got, err := f.st.GetPointer(f.ctx, session.Key); err != nil || got.Key != session.Key {
		f.t.Fatalf("session %+v, %v", got, err)
	}
	f.clock.Advance(5 * time.Minute)
	err = f.st.WritePointers(f.ctx, exchange.PointerOp{Consume: session.Key})
	if !errors.As(err, &gone) {
		f.t.Fatalf("consuming an expired session: err = %v", err)
	}
	if err := f.st.WritePointers(f.ctx); err == nil {
		f.t.Fatal("an empty write was accepted")
	}
}

func exchangeCreationConsuming(f *fixture) {
	session := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerAuthorization, "s"), ExpiresAt: f.unix(time.Minute)}
	f.must(f.st.PutPointer(f.ctx, session), "put the session")
	f.must(f.st.CreateExchange(f.ctx, f.record("w1", exchange.StatusOfferReceived, "", 0), nil, session.Key),
		"create consuming the session")
	_, err := f.st.GetPointer(f.ctx, session.Key)
	f.is(err, exchange.ErrNotFound, "the session after the creation")
	var gone *exchange.PointerGoneError
	err = f.st.CreateExchange(f.ctx, f.record("w2", exchange.StatusOfferReceived, "", 0), nil, session.Key)
	if !errors.Is(err, exchange.ErrConflict) || !errors.As(err, &gone) {
		f.t.Fatalf("a second exchange of one session: err = %v", err)
	}
	_, err = f.st.GetExchange(f.ctx, "w2")
	f.is(err, exchange.ErrNotFound, "the refused exchange")
	other := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerAuthorization, "o"), ExchangeID: "someone-else",
		ExpiresAt: f.unix(time.Minute)}
	f.must(f.st.PutPointer(f.ctx, other), "put a session of another exchange")
	if err := f.st.CreateExchange(f.ctx, f.record("w3", exchange.StatusOfferReceived, "", 0), nil, other.Key); !errors.As(err, &gone) {
		f.t.Fatalf("consuming another exchange's pointer: err = %v", err)
	}
}

func individuals(f *fixture) {
	_, err := f.st.GetIndividual(f.ctx, "i1")
	f.is(err, exchange.ErrNotFound, "get unknown")
	ind := admin.Individual{IndividualID: "i1", CredentialOfferEndpoint: "https://wallet.example/offer", CreatedAt: 1, UpdatedAt: 1}
	f.must(f.st.PutIndividual(f.ctx, ind), "put")
	ind.CredentialOfferEndpoint, ind.UpdatedAt = "https://wallet.example/other", 2
	f.must(f.st.PutIndividual(f.ctx, ind), "replace")
	if got, err := f.st.GetIndividual(f.ctx, "i1"); err != nil || got != ind {
		f.t.Fatalf("individual %+v, %v", got, err)
	}
	f.must(f.st.DeleteIndividual(f.ctx, "i1"), "delete")
	f.is(f.st.DeleteIndividual(f.ctx, "i1"), exchange.ErrNotFound, "delete twice")
}

func dynamicConfigurations(f *fixture) {
	long := definition.DynamicConfiguration{ConfigurationID: "b-type", VCT: "b-type", Claims: []string{"x", "y"},
		ExpiresAt: f.unix(100 * time.Second)}
	f.must(f.st.PutDynamicConfiguration(f.ctx, long), "put")
	shorter := long
	shorter.Claims, shorter.ExpiresAt = []string{"z"}, f.unix(50*time.Second)
	f.must(f.st.PutDynamicConfiguration(f.ctx, shorter), "put a shorter-lived version")
	f.must(f.st.PutDynamicConfiguration(f.ctx, definition.DynamicConfiguration{ConfigurationID: "a-type", VCT: "a-type",
		Claims: []string{"q"}, ExpiresAt: f.unix(10 * time.Second)}), "put another")
	list, err := f.st.ListDynamicConfigurations(f.ctx)
	f.must(err, "list")
	if len(list) != 2 || list[0].ConfigurationID != "a-type" || !reflect.DeepEqual(list[1], long) {
		f.t.Fatalf("dynamic configurations %+v", list)
	}
	f.clock.Advance(10 * time.Second)
	list, err = f.st.ListDynamicConfigurations(f.ctx)
	f.must(err, "list")
	if len(list) != 1 || list[0].ConfigurationID != "b-type" {
		f.t.Fatalf("after a-type expired: %+v", list)
	}
}

func statusEntries(f *fixture) {
	id := statuslist.ListID{Shard: 1, Generation: 3}
	for want := range 3 {
		seq, key, err := f.st.ReserveStatusEntry(f.ctx, id, 3, uint64(100+want))
		f.must(err, "reserve")
		if seq != want || key != 100 {
			f.t.Fatalf("entry %d: seq %d key %d, want seq %d and the first caller's key 100", want, seq, key, want)
		}
	}
	_, _, err := f.st.ReserveStatusEntry(f.ctx, id, 3, 1)
	f.is(err, revocation.ErrStatusListFull, "reserve past the capacity")
	if _, _, err := f.st.ReserveStatusEntry(f.ctx, statuslist.ListID{}, 0, 1); err == nil {
		f.t.Fatal("capacity 0 accepted")
	}
}

func shardHeads(f *fixture) {
	gens, err := f.st.ShardGenerations(f.ctx, 3)
	f.must(err, "shard generations")
	if !slices.Equal(gens, []int{0, 0, 0}) {
		f.t.Fatalf("fresh heads %v", gens)
	}
	for _, step := range []struct{ from, want int }{{0, 1}, {0, 1}, {1, 2}, {5, 2}} {
		got, err := f.st.AdvanceShard(f.ctx, 1, step.from)
		f.must(err, "advance")
		if got != step.want {
			f.t.Fatalf("advance shard 1 from %d = %d, want %d", step.from, got, step.want)
		}
	}
	if gens, _ := f.st.ShardGenerations(f.ctx, 3); !slices.Equal(gens, []int{0, 2, 0}) {
		f.t.Fatalf("heads %v", gens)
	}
}

func revocationCommits(f *fixture) {
	rec := f.record("e1", exchange.StatusOfferReceived, "def-1", 0)
	f.must(f.st.CreateExchange(f.ctx, rec, nil), "create")
	rec = f.get("e1")
	issued := rec.Clone()
	issued.StatusEntries = []exchange.StatusEntry{{List: "0.0", Index: 5}, {List: "1.0", Index: 9}}
	f.must(issued.Transition(exchange.StatusCredentialIssued, f.unix(time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, issued, exchange.Expect{Version: rec.Version, Status: rec.Status}), "issue")
	issued.Version = rec.Version + 1 // as the store wrote it
	want, ok := revocation.OnIssue(&issued, rec.Status)
	if !ok {
		f.t.Fatal("OnIssue refused the issuing write")
	}
	if !want.RecordWritten || want.RecordVersion != issued.Version {
		f.t.Fatalf("OnIssue: recordWritten %v, recordVersion %d; want the record's new version %d", want.RecordWritten,
			want.RecordVersion, issued.Version)
	}
	item, err := f.st.GetRevocation(f.ctx, "e1")
	f.must(err, "the revocation item of the issuance")
	if !reflect.DeepEqual(item, want) {
		f.t.Fatalf("revocation item\n got %+v\nwant %+v", item, want)
	}
	accepted := f.get("e1")
	next := accepted.Clone()
	f.must(next.Transition(exchange.StatusCredentialAccepted, f.unix(2*time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: accepted.Version, Status: accepted.Status}), "accept")
	if again, _ := f.st.GetRevocation(f.ctx, "e1"); !reflect.DeepEqual(again, want) {
		f.t.Fatalf("a later write changed the revocation item: %+v", again)
	}

	l0 := statuslist.ListID{Shard: 0}
	state, err := f.st.GetStatusList(f.ctx, l0, layout)
	f.must(err, "get an unwritten list")
	if st, _ := state.List.Get(5); state.Version != 0 || st != statuslist.Valid || state.List.Len() != layout.Capacity {
		f.t.Fatalf("unwritten list: version %d, entry %v", state.Version, st)
	}
	f.must(state.List.Set(5, statuslist.Suspended), "set")
	cur := f.get("e1")
	revoked := cur.Clone()
	revoked.RevocationStatus = exchange.RevocationSuspended
	commit := revocation.Commit{Revocation: want, Record: &revoked,
		Expect: exchange.Expect{Version: cur.Version, Status: cur.Status}, Lists: []revocation.StatusListState{state}}
	commit.Revocation.RevocationStatus, commit.Revocation.Version = exchange.RevocationSuspended, want.Version+1
	commit.Revocation.RecordVersion = cur.Version + 1

	stale := commit
	stale.Expect.Version = cur.Version - 1
	f.is(f.st.CommitRevocation(f.ctx, stale), exchange.ErrConflict, "commit over a stale record")
	create := commit
	create.Create = true
	f.is(f.st.CommitRevocation(f.ctx, create), exchange.ErrConflict, "create an existing revocation item")
	wrong := commit
	wrong.Revocation.Version = want.Version + 5
	f.is(f.st.CommitRevocation(f.ctx, wrong), exchange.ErrConflict, "commit over a stale revocation item")
	if s, _ := f.st.GetStatusList(f.ctx, l0, layout); s.Version != 0 {
		f.t.Fatalf("a refused commit wrote the list (version %d)", s.Version)
	}
	f.unchanged(cur, "a refused commit")

	f.must(f.st.CommitRevocation(f.ctx, commit), "commit")
	s, err := f.st.GetStatusList(f.ctx, l0, layout)
	f.must(err, "get the list")
	if st, _ := s.List.Get(5); s.Version != 1 || st != statuslist.Suspended {
		f.t.Fatalf("committed list: version %d, entry %v", s.Version, st)
	}
	if got := f.get("e1"); got.RevocationStatus != exchange.RevocationSuspended || got.Version != cur.Version+1 {
		f.t.Fatalf("committed record %+v", got)
	}
	if got, _ := f.st.GetRevocation(f.ctx, "e1"); got.RevocationStatus != exchange.RevocationSuspended || got.Version != want.Version+1 ||
		!got.RecordWritten || got.RecordVersion != cur.Version+1 {
		f.t.Fatalf("committed revocation item %+v", got)
	}
	f.is(f.st.CommitRevocation(f.ctx, commit), exchange.ErrConflict, "the same commit again (list and item moved on)")

	// Without the record (expired or deleted): the item and the lists alone; an expired item may be created anew.
	orphan := revocation.Record{ExchangeID: "gone", Entries: []exchange.StatusEntry{{List: "1.0", Index: 3}},
		RevocationStatus: exchange.RevocationOperational, Version: 1, ExpiresAt: f.unix(time.Minute), RecordVersion: 7}
	l1, err := f.st.GetStatusList(f.ctx, statuslist.ListID{Shard: 1}, layout)
	f.must(err, "get list 1")
	f.must(f.st.CommitRevocation(f.ctx, revocation.Commit{Revocation: orphan, Create: true,
		Lists: []revocation.StatusListState{l1}}), "create a revocation item without a record")
	if got, _ := f.st.GetRevocation(f.ctx, "gone"); !reflect.DeepEqual(got, orphan) {
		f.t.Fatalf("revocation item without a record\n got %+v\nwant %+v", got, orphan)
	}
	f.clock.Advance(time.Minute)
	_, err = f.st.GetRevocation(f.ctx, "gone")
	f.is(err, exchange.ErrNotFound, "an expired revocation item")
	orphan.ExpiresAt = f.unix(time.Hour)
	l1, _ = f.st.GetStatusList(f.ctx, statuslist.ListID{Shard: 1}, layout)
	f.must(f.st.CommitRevocation(f.ctx, revocation.Commit{Revocation: orphan, Create: true,
		Lists: []revocation.StatusListState{l1}}), "create over an expired revocation item")
	if l1.Version != 1 {
		f.t.Fatalf("list 1 at version %d, want 1", l1.Version)
	}
}

func statusListTokens(f *fixture) {
	id := statuslist.ListID{Shard: 0, Generation: 2}
	read, err := f.st.GetStatusListToken(f.ctx, id)
	f.must(err, "read an unopened list")
	if read.Exists {
		f.t.Fatal("a list no entry was reserved in exists")
	}
	_, _, err = f.st.ReserveStatusEntry(f.ctx, id, layout.Capacity, 1)
	f.must(err, "reserve")
	read, err = f.st.GetStatusListToken(f.ctx, id)
	f.must(err, "read an opened list")
	if !read.Exists || read.Token.Token != "" || read.ListVersion != 0 {
		f.t.Fatalf("opened list %+v", read)
	}
	now := f.clock.Now()
	claim := func(at time.Time, want bool) {
		f.t.Helper()
		got, err := f.st.ClaimStatusListSigning(f.ctx, id, at, at.Add(10*time.Second))
		f.must(err, "claim")
		if got != want {
			f.t.Fatalf("claim at %s = %v, want %v", at, got, want)
		}
	}
	claim(now, true)
	claim(now.Add(time.Second), false)
	claim(now.Add(10*time.Second), true)
	const sub = "https://issuer.example/status-lists/0-2"
	tok := revocation.StoredStatusToken{Token: "t-v0-100", Version: 0, IssuedAt: 1, ExpiresAt: 100, TTL: 60, Subject: sub}
	f.must(f.st.PutStatusListToken(f.ctx, id, tok), "put a token")
	claim(now.Add(11*time.Second), true) // storing the token released the lease
	read, _ = f.st.GetStatusListToken(f.ctx, id)
	if read.Token != tok {
		f.t.Fatalf("stored token %+v, want %+v", read.Token, tok)
	}
	for _, step := range []struct {
		tok  revocation.StoredStatusToken
		want error
	}{
		{revocation.StoredStatusToken{Token: "t-v0-100b", Version: 0, ExpiresAt: 100, Subject: sub}, exchange.ErrConflict},
		{revocation.StoredStatusToken{Token: "t-v0-90", Version: 0, ExpiresAt: 90, Subject: sub}, exchange.ErrConflict},
		{revocation.StoredStatusToken{Token: "t-v0-200", Version: 0, ExpiresAt: 200, Subject: sub}, nil},
		// signed for another issuer URL: replaces the cached token even though it expires no later
		{revocation.StoredStatusToken{Token: "t-v0-150-moved", Version: 0, ExpiresAt: 150, Subject: sub + "x"}, nil},
		{revocation.StoredStatusToken{Token: "t-v0-150", Version: 0, ExpiresAt: 150, Subject: sub}, nil},
		{revocation.StoredStatusToken{Token: "t-v1-50", Version: 1, ExpiresAt: 50, Subject: sub}, nil},
		{revocation.StoredStatusToken{Token: "t-v0-300", Version: 0, ExpiresAt: 300, Subject: sub}, exchange.ErrConflict},
	} {
		err := f.st.PutStatusListToken(f.ctx, id, step.tok)
		if !errors.Is(err, step.want) || (step.want == nil && err != nil) {
			f.t.Fatalf("put %s: err = %v, want %v", step.tok.Token, err, step.want)
		}
	}
	if read, _ := f.st.GetStatusListToken(f.ctx, id); read.Token.Token != "t-v1-50" {
		f.t.Fatalf("the newest token lost: %+v", read.Token)
	}
	if err := f.st.PutStatusListToken(f.ctx, id, revocation.StoredStatusToken{Version: 9}); err == nil {
		f.t.Fatal("an empty token was stored")
	}
}

// nonceMarkers: a stateless c_nonce is single use through its used-marker (exchange.CNonceMarker), put under
// attribute_not_exists in the credential write: a second write putting it is ErrConflict wrapping
// *exchange.PointerGoneError of kind NONCE (answered invalid_nonce), and changes nothing (docs/security.md).
func nonceMarkers(f *fixture) {
	for _, id := range []string{"e1", "e2"} {
		f.must(f.st.CreateExchange(f.ctx, f.record(id, exchange.StatusOfferReceived, "", 0), nil), "create "+id)
	}
	marker := exchange.Pointer{Key: exchange.CNonceMarker("stateless-nonce"), ExpiresAt: f.unix(time.Minute)}
	first := f.get("e1")
	f.must(f.st.UpdateExchange(f.ctx, first.Clone(), exchange.Expect{Version: first.Version, Status: first.Status},
		exchange.PointerOp{Put: &marker}), "first use")
	for _, id := range []string{"e1", "e2"} {
		before := f.get(id)
		again := marker
		err := f.st.UpdateExchange(f.ctx, before.Clone(), exchange.Expect{Version: before.Version, Status: before.Status},
			exchange.PointerOp{Put: &again})
		var pg *exchange.PointerGoneError
		if !errors.Is(err, exchange.ErrConflict) || !errors.As(err, &pg) || pg.Kind() != exchange.PointerNonce {
			f.t.Fatalf("second use on %s: err = %v, want ErrConflict with the c_nonce gone", id, err)
		}
		f.unchanged(before, "second use on "+id)
	}
}

// changeFeed writes an exchange through its life (creation, a status change, a write without one, a refused
// write, the issuance with its revocation item, a revocation change with the record, the deletion, a revocation
// change without the record) and checks the events its change feed calls for: the same for every store, each with
// the version the write left.
func changeFeed(f *fixture) {
	rec := f.record("e1", exchange.StatusOfferSent, "", 0)
	rec.IssuanceMode, rec.CredentialStatus = exchange.ModeDeferred, exchange.CredentialPending
	f.must(f.st.CreateExchange(f.ctx, rec, nil), "create")
	cur := f.get("e1")
	next := cur.Clone()
	f.must(next.Transition(exchange.StatusOfferReceived, f.unix(time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status}), "offer received")
	stale := next.Clone()
	stale.AccessTokenHash = "h"
	if err := f.st.UpdateExchange(f.ctx, stale, exchange.Expect{Version: cur.Version, Status: cur.Status}); err == nil {
		f.t.Fatal("a stale write was accepted")
	}
	cur = f.get("e1")
	next = cur.Clone()
	next.AccessTokenHash = "h" // a write subscribers do not see
	f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status}), "token")
	cur = f.get("e1")
	next = cur.Clone()
	next.CredentialStatus = exchange.CredentialReady
	f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status}), "claims")
	cur = f.get("e1")
	next = cur.Clone()
	next.StatusEntries = []exchange.StatusEntry{{List: "0.0", Index: 3}}
	f.must(next.Transition(exchange.StatusCredentialIssued, f.unix(2*time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status}), "issue")
	cur = f.get("e1")
	item, err := f.st.GetRevocation(f.ctx, "e1")
	f.must(err, "revocation item")
	l0, err := f.st.GetStatusList(f.ctx, statuslist.ListID{}, layout)
	f.must(err, "list")
	suspended := cur.Clone()
	suspended.RevocationStatus = exchange.RevocationSuspended
	commit := revocation.Commit{Revocation: item, Record: &suspended, Expect: exchange.Expect{Version: cur.Version, Status: cur.Status},
		Lists: []revocation.StatusListState{l0}}
	commit.Revocation.RevocationStatus, commit.Revocation.Version = exchange.RevocationSuspended, item.Version+1
	commit.Revocation.RecordWritten, commit.Revocation.RecordVersion = true, cur.Version+1
	f.must(f.st.CommitRevocation(f.ctx, commit), "suspend with the record")
	f.must(f.st.DeleteExchange(f.ctx, "e1"), "delete")
	item, err = f.st.GetRevocation(f.ctx, "e1")
	f.must(err, "revocation item")
	l0, err = f.st.GetStatusList(f.ctx, statuslist.ListID{}, layout)
	f.must(err, "list")
	gone := revocation.Commit{Revocation: item, Lists: []revocation.StatusListState{l0}}
	gone.Revocation.RevocationStatus, gone.Revocation.Version = exchange.RevocationRevoked, item.Version+1
	gone.Revocation.RecordWritten, gone.Revocation.RecordVersion = false, item.RecordVersion+1
	f.must(f.st.CommitRevocation(f.ctx, gone), "revoke without the record")
	// A dynamic credential request: two refusals alike in the same second (their count tells them apart), then a
	// verified presentation.
	f.must(f.st.CreateExchange(f.ctx, f.record("e2", exchange.StatusOfferSent, "", 0), nil), "create e2")
	for i := 1; i <= 2; i++ {
		cur = f.get("e2")
		next = cur.Clone()
		next.PresentationFailure = &exchange.PresentationFailure{Reason: "wrong nonce", At: f.unix(3 * time.Second), Count: i}
		f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status}), "refusal")
	}
	cur = f.get("e2")
	if pf := cur.PresentationFailure; pf == nil || pf.Count != 2 || pf.Reason != "wrong nonce" {
		f.t.Fatalf("stored presentation failure %+v, want the second refusal", pf)
	}
	next = cur.Clone()
	next.PresentationFailure, next.PresentationExchangeID = nil, "pe-1"
	f.must(next.Transition(exchange.StatusOfferReceived, f.unix(4*time.Second)), "transition")
	f.must(f.st.UpdateExchange(f.ctx, next, exchange.Expect{Version: cur.Version, Status: cur.Status}), "verified")

	var got []string
	for _, c := range f.changes() {
		for _, e := range c.Events() {
			got = append(got, fmt.Sprintf("%s %s v%d", e.ExchangeID, e.DetailType, e.Detail.Version))
			if e.Detail.CredentialOffer != "" || len(e.Detail.Credentials) != 0 {
				f.t.Errorf("event %s carries the offer link or claims", e.DetailType)
			}
		}
	}
	want := []string{"e1 credential.offer_sent v1", "e1 credential.offer_received v2", "e1 credential.ready v4",
		"e1 credential.credential_issued v5", "e1 credential.revocation_status_changed v6",
		"e1 credential.revocation_status_changed v7", "e2 credential.offer_sent v1", "e2 credential.presentation_failed v2",
		"e2 credential.presentation_failed v3", "e2 credential.offer_received v4", "e2 credential.presentation_verified v4"}
	if !slices.Equal(got, want) {
		f.t.Fatalf("events of the change feed\n got %v\nwant %v", got, want)
	}
}
