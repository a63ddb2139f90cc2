package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/internal/domaintest"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.t.Store(t.UnixNano()); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) {
	c.t.Add(int64(d))
}

type fixture struct {
	st    *store.Store
	db    *dynamodb.Client
	table string
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureAt(t, domaintest.Epoch)
}

// newFixtureAt is a store on a fresh table of the local stack whose clock starts at start, which may not be
// behind the real clock: DynamoDB Local's TTL sweep would delete what the test writes (domaintest.Epoch).
func newFixtureAt(t *testing.T, start time.Time) *fixture {
	t.Helper()
	if start.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("test clock starts at %s, behind the real clock: DynamoDB Local would expire the items it writes "+
			"(start at domaintest.Epoch or time.Now())", start)
	}
	stack := localstack.ForTest(t)
	ctx := context.Background()
	table := stack.NewTable(ctx, t)
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	c := newClock(start)
	st, err := store.New(db, table, store.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, db: db, table: table, clock: c}
}

func (f *fixture) rawItem(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{store.AttrPK: &types.AttributeValueMemberS{Value: pk},
			store.AttrSK: &types.AttributeValueMemberS{Value: sk}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// record builds an exchange record created at the fixture's clock plus offset.
func (f *fixture) record(id string, status exchange.Status, defID string, offset time.Duration) exchange.Record {
	at := f.clock.now().Add(offset)
	rec := exchange.Record{
		CredentialExchangeID: id, IssuanceMode: exchange.ModeInTime, IsPreAuthorised: true,
		CredentialOffer: "openid-credential-offer://?credential_offer_uri=x", Status: status,
		CreatedAt: at.Unix(), UpdatedAt: at.Unix(), CredentialDefinitionID: defID, CredentialFormat: "dc+sd-jwt",
		Version: 1, ExpiresAt: at.Add(30 * 24 * time.Hour).Unix(),
		CreatedNanos: at.UnixNano(),
	}
	rec.SetCredentials([]exchange.CredentialPayload{{CredentialSubject: map[string]any{"given_name": "Erika"}}})
	return rec
}

// render prints an item deterministically, for comparing items.
func render(item map[string]types.AttributeValue) string {
	var m map[string]any
	if err := attributevalue.UnmarshalMap(item, &m); err != nil {
		return "undecodable: " + err.Error()
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func pointers(id string, exp int64, secrets ...string) []exchange.Pointer {
	var out []exchange.Pointer
	for _, s := range secrets {
		out = append(out, exchange.Pointer{Key: exchange.PointerKey(exchange.PointerCode, s), ExchangeID: id, ExpiresAt: exp})
	}
	return out
}

func TestExchangeCreateGetDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.record("ex-1", exchange.StatusOfferSent, "def-1", 0)
	ptrs := pointers("ex-1", rec.ExpiresAt, "code-a", "code-b")
	for _, p := range ptrs {
		rec.Pointers = append(rec.Pointers, p.Key)
	}
	if err := f.st.CreateExchange(ctx, rec, ptrs); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := f.st.CreateExchange(ctx, rec, nil); !errors.Is(err, exchange.ErrAlreadyExists) {
		t.Fatalf("second create: got %v, want ErrAlreadyExists", err)
	}
	got, err := f.st.GetExchange(ctx, "ex-1")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Status != exchange.StatusOfferSent || got.Version != 1 || got.CredentialDefinitionID != "def-1" ||
		len(got.Credentials) != 1 || fmt.Sprint(got.Credentials[0].CredentialSubject["given_name"]) != "Erika" {
		t.Fatalf("get returned %+v", got)
	}
	for _, p := range ptrs {
		if f.rawItem(t, p.Key, "PTR") == nil {
			t.Fatalf("pointer %s not stored", p.Key)
		}
	}
	if err := f.st.DeleteExchange(ctx, "ex-1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := f.st.GetExchange(ctx, "ex-1"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	for _, p := range ptrs {
		if f.rawItem(t, p.Key, "PTR") != nil {
			t.Fatalf("pointer %s survived the delete", p.Key)
		}
	}
	if err := f.st.DeleteExchange(ctx, "ex-1"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("second delete: got %v, want ErrNotFound", err)
	}
}

func TestUpdateExchangeStatusMachine(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		from, to exchange.Status
		allowed  bool
	}{
		{exchange.StatusOfferSent, exchange.StatusOfferReceived, true},
		{exchange.StatusOfferSent, exchange.StatusIssuanceDenied, true},
		{exchange.StatusOfferReceived, exchange.StatusCredentialIssued, true},
		{exchange.StatusCredentialIssued, exchange.StatusCredentialAccepted, true},
		{exchange.StatusOfferReceived, exchange.StatusCredentialAcked, true},
		{exchange.StatusCredentialAcked, exchange.StatusCredentialDeleted, true},
		{exchange.StatusOfferReceived, exchange.StatusOfferSent, false},
		{exchange.StatusCredentialIssued, exchange.StatusIssuanceDenied, false},
		{exchange.StatusCredentialAccepted, exchange.StatusCredentialIssued, false},
		{exchange.StatusIssuanceDenied, exchange.StatusOfferReceived, false},
		{exchange.StatusCredentialDeleted, exchange.StatusCredentialAccepted, false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s->%s", tt.from, tt.to), func(t *testing.T) {
			id := fmt.Sprintf("sm-%d", i)
			rec := f.record(id, tt.from, "", 0)
			if err := f.st.CreateExchange(ctx, rec, nil); err != nil {
				t.Fatal(err)
			}
			before := f.rawItem(t, "EXCHANGE#"+id, "EXCHANGE")
			next := rec.Clone()
			next.Status = tt.to
			next.IssuanceDeniedReason = "changed"
			err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: 1, Status: tt.from})
			if tt.allowed != (err == nil) {
				t.Fatalf("update: err=%v, want allowed=%v", err, tt.allowed)
			}
			got, gerr := f.st.GetExchange(ctx, id)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if !tt.allowed {
				if !errors.Is(err, exchange.ErrTransitionRefused) {
					t.Fatalf("refusal is %v, want ErrTransitionRefused", err)
				}
				after := f.rawItem(t, "EXCHANGE#"+id, "EXCHANGE")
				if render(after) != render(before) || got.Status != tt.from || got.Version != 1 {
					t.Fatalf("refused transition changed the item")
				}
				return
			}
			if got.Status != tt.to || got.Version != 2 || got.IssuanceDeniedReason != "changed" {
				t.Fatalf("after transition: status %s version %d", got.Status, got.Version)
			}
			if s := f.rawItem(t, "EXCHANGE#"+id, "EXCHANGE")[store.AttrGSI2PK].(*types.AttributeValueMemberS).Value; s != "EXCHANGE#STATUS#"+string(tt.to) {
				t.Fatalf("gsi2pk %s not moved with the status", s)
			}
		})
	}
}

func TestUpdateExchangeStaleVersionRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.record("stale", exchange.StatusOfferSent, "", 0)
	if err := f.st.CreateExchange(ctx, rec, nil); err != nil {
		t.Fatal(err)
	}
	next := rec.Clone()
	next.Status = exchange.StatusOfferReceived
	if err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent}); err != nil {
		t.Fatal(err)
	}
	// A writer that read version 1 and tries to deny loses, although offer_received -> issuance_denied is allowed.
	deny := rec.Clone()
	deny.Status = exchange.StatusIssuanceDenied
	err := f.st.UpdateExchange(ctx, deny, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent})
	if !errors.Is(err, exchange.ErrConflict) {
		t.Fatalf("stale update: got %v, want ErrConflict", err)
	}
	got, _ := f.st.GetExchange(ctx, "stale")
	if got.Status != exchange.StatusOfferReceived || got.Version != 2 {
		t.Fatalf("stale update changed the record: %s v%d", got.Status, got.Version)
	}
	if err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: 7, Status: exchange.StatusOfferSent}); !errors.Is(err, exchange.ErrConflict) {
		t.Fatalf("wrong version: got %v", err)
	}
	missing := f.record("missing", exchange.StatusOfferReceived, "", 0)
	if err := f.st.UpdateExchange(ctx, missing, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent}); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("missing record: got %v, want ErrNotFound", err)
	}
}

func TestConcurrentTransitionsExactlyOneWins(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.record("race", exchange.StatusOfferSent, "", 0)
	if err := f.st.CreateExchange(ctx, rec, nil); err != nil {
		t.Fatal(err)
	}
	targets := []exchange.Status{exchange.StatusOfferReceived, exchange.StatusIssuanceDenied,
		exchange.StatusCredentialIssued, exchange.StatusOfferReceived, exchange.StatusIssuanceDenied,
		exchange.StatusCredentialIssued, exchange.StatusOfferReceived, exchange.StatusIssuanceDenied}
	var wins atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, to := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := rec.Clone()
			next.Status = to
			<-start
			err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent})
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(to)
			case !errors.Is(err, exchange.ErrConflict):
				t.Errorf("loser got %v, want ErrConflict", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins.Load())
	}
	got, _ := f.st.GetExchange(ctx, "race")
	if got.Status != winner.Load().(exchange.Status) || got.Version != 2 {
		t.Fatalf("stored %s v%d, winner %v", got.Status, got.Version, winner.Load())
	}
}

func TestPointerOpsSingleUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.record("ptr", exchange.StatusOfferSent, "", 0)
	code := pointers("ptr", rec.ExpiresAt, "the-code")[0]
	rec.Pointers = []string{code.Key}
	if err := f.st.CreateExchange(ctx, rec, []exchange.Pointer{code}); err != nil {
		t.Fatal(err)
	}
	token := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerAccessToken, "tok"), ExchangeID: "ptr",
		ExpiresAt: rec.ExpiresAt}
	next := rec.Clone()
	next.Status = exchange.StatusOfferReceived
	if err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent},
		exchange.PointerOp{Consume: code.Key}, exchange.PointerOp{Put: &token}); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if f.rawItem(t, code.Key, "PTR") != nil {
		t.Fatal("consumed code pointer still there")
	}
	got, _ := f.st.GetExchange(ctx, "ptr")
	if len(got.Pointers) != 2 || got.Pointers[1] != token.Key {
		t.Fatalf("record pointers %v, want the code and the token", got.Pointers)
	}
	// Redeeming again (with a fresh read) fails: the code is gone; nothing changes.
	again := got.Clone()
	again.IssuanceDeniedReason = "x"
	err := f.st.UpdateExchange(ctx, again, exchange.Expect{Version: 2, Status: exchange.StatusOfferReceived},
		exchange.PointerOp{Consume: code.Key})
	if !errors.Is(err, exchange.ErrConflict) {
		t.Fatalf("second redeem: got %v, want ErrConflict", err)
	}
	if g, _ := f.st.GetExchange(ctx, "ptr"); g.Version != 2 || g.IssuanceDeniedReason != "" {
		t.Fatal("failed transaction changed the record")
	}
	if err := f.st.DeleteExchange(ctx, "ptr"); err != nil {
		t.Fatal(err)
	}
	if f.rawItem(t, token.Key, "PTR") != nil {
		t.Fatal("token pointer survived the exchange's delete")
	}
}

func TestExpiredItemsAreAbsent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.record("old", exchange.StatusOfferSent, "def-x", 0)
	code := pointers("old", f.clock.now().Add(time.Hour).Unix(), "c")[0]
	rec.Pointers = []string{code.Key}
	if err := f.st.CreateExchange(ctx, rec, []exchange.Pointer{code}); err != nil {
		t.Fatal(err)
	}
	f.clock.add(2 * time.Hour)
	// The code pointer has expired (DynamoDB has not deleted it): consuming it fails.
	next := rec.Clone()
	next.Status = exchange.StatusOfferReceived
	if err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent},
		exchange.PointerOp{Consume: code.Key}); !errors.Is(err, exchange.ErrConflict) {
		t.Fatalf("consume expired code: got %v, want ErrConflict", err)
	}
	f.clock.add(31 * 24 * time.Hour)
	if _, err := f.st.GetExchange(ctx, "old"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("get expired: got %v, want ErrNotFound", err)
	}
	for _, filter := range []exchange.Filter{{}, {Status: exchange.StatusOfferSent}, {CredentialDefinitionID: "def-x"}} {
		p, err := f.st.ListExchanges(ctx, filter, exchange.PageRequest{Limit: 10})
		if err != nil || len(p.Items) != 0 {
			t.Fatalf("list %+v: %d items, err %v; want none", filter, len(p.Items), err)
		}
	}
	if err := f.st.UpdateExchange(ctx, next, exchange.Expect{Version: 1, Status: exchange.StatusOfferSent}); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("update expired: got %v, want ErrNotFound", err)
	}
	if err := f.st.DeleteExchange(ctx, "old"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("delete expired: got %v, want ErrNotFound", err)
	}
	if f.rawItem(t, code.Key, "PTR") != nil {
		t.Fatal("deleting an expired record left its pointer")
	}
}

func TestListExchangesPaginationAndFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	statuses := []exchange.Status{exchange.StatusOfferSent, exchange.StatusOfferReceived, exchange.StatusCredentialIssued}
	var all []string
	for i := 0; i < 25; i++ {
		id := fmt.Sprintf("rec-%02d", i)
		def := "def-a"
		if i%2 == 1 {
			def = "def-b"
		}
		rec := f.record(id, statuses[i%3], def, time.Duration(i)*time.Millisecond)
		if err := f.st.CreateExchange(ctx, rec, nil); err != nil {
			t.Fatal(err)
		}
		all = append([]string{id}, all...) // newest first
	}
	collect := func(filter exchange.Filter, limit int) []string {
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatal("pagination does not end")
			}
			p, err := f.st.ListExchanges(ctx, filter, exchange.PageRequest{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatalf("list %+v: %v", filter, err)
			}
			if len(p.Items) > limit {
				t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
			}
			for _, r := range p.Items {
				ids = append(ids, r.CredentialExchangeID)
			}
			if p.NextCursor == "" {
				return ids
			}
			cursor = p.NextCursor
		}
	}
	want := func(keep func(i int) bool) []string {
		var out []string
		for i := 24; i >= 0; i-- {
			if keep(i) {
				out = append(out, fmt.Sprintf("rec-%02d", i))
			}
		}
		return out
	}
	tests := []struct {
		name   string
		filter exchange.Filter
		limit  int
		want   []string
	}{
		{"all by 7", exchange.Filter{}, 7, all},
		{"all by 25", exchange.Filter{}, 25, all},
		{"all by 100", exchange.Filter{}, 100, all},
		{"status", exchange.Filter{Status: exchange.StatusOfferReceived}, 3, want(func(i int) bool { return i%3 == 1 })},
		{"definition", exchange.Filter{CredentialDefinitionID: "def-b"}, 4, want(func(i int) bool { return i%2 == 1 })},
		{"definition and status", exchange.Filter{CredentialDefinitionID: "def-a", Status: exchange.StatusOfferSent}, 2,
			want(func(i int) bool { return i%2 == 0 && i%3 == 0 })},
		{"unknown definition", exchange.Filter{CredentialDefinitionID: "nope"}, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(tt.filter, tt.limit)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
	first, err := f.st.ListExchanges(ctx, exchange.Filter{}, exchange.PageRequest{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	badCursors := []string{"!!!", "e30", first.NextCursor + "x", "eyJwIjoiREVGI3giLCJzIjoiREVGIiwiZ3AiOiJERUYiLCJncyI6IjEifQ"}
	for _, c := range badCursors {
		if _, err := f.st.ListExchanges(ctx, exchange.Filter{}, exchange.PageRequest{Limit: 5, Cursor: c}); !errors.Is(err, exchange.ErrInvalidCursor) {
			t.Errorf("cursor %q: got %v, want ErrInvalidCursor", c, err)
		}
	}
	// A cursor of one list is refused by another.
	if _, err := f.st.ListExchanges(ctx, exchange.Filter{Status: exchange.StatusOfferSent},
		exchange.PageRequest{Limit: 5, Cursor: first.NextCursor}); !errors.Is(err, exchange.ErrInvalidCursor) {
		t.Errorf("cursor of another list: got %v", err)
	}
}

func TestDefinitionsCRUDAndList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	spec := definition.Spec{Label: "PDA1", CredentialFormat: "dc+sd-jwt", VCT: "PortableDocumentA1",
		ExpirationInDays: 365, Claims: []definition.Claim{{Path: []any{"nationalities", nil}, LimitDisclosure: true},
			{Path: []any{"address", "street_address"}, LimitDisclosure: true}, {Path: []any{"list", 2}}}}
	for i := 0; i < 5; i++ {
		d := definition.Definition{ID: fmt.Sprintf("def-%d", i), Spec: spec,
			CreatedAt: f.clock.now().Unix() + int64(i), UpdatedAt: f.clock.now().Unix(), Version: 1}
		if err := f.st.CreateDefinition(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	d, err := f.st.GetDefinition(ctx, "def-2")
	if err != nil {
		t.Fatal(err)
	}
	if d.VCT != "PortableDocumentA1" || d.Version != 1 || len(d.Claims) != 3 || d.Claims[0].Path[1] != nil ||
		fmt.Sprint(d.Claims[2].Path[1]) != "2" {
		t.Fatalf("definition round trip: %+v", d)
	}
	if err := f.st.CreateDefinition(ctx, d); !errors.Is(err, exchange.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	d.Label = "changed"
	d.Version = 2
	if err := f.st.ReplaceDefinition(ctx, d, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.st.ReplaceDefinition(ctx, d, 1); !errors.Is(err, exchange.ErrConflict) {
		t.Fatalf("stale replace: %v", err)
	}
	d.ID = "missing"
	if err := f.st.ReplaceDefinition(ctx, d, 1); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("replace missing: %v", err)
	}
	var ids []string
	cursor := ""
	for {
		p, err := f.st.ListDefinitions(ctx, exchange.PageRequest{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Items {
			ids = append(ids, d.ID)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(ids) != "[def-4 def-3 def-2 def-1 def-0]" {
		t.Fatalf("list: %v", ids)
	}
	if err := f.st.DeleteDefinition(ctx, "def-2"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.DeleteDefinition(ctx, "def-2"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := f.st.GetDefinition(ctx, "def-2"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestIndividualsAndDynamicConfigurations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ind := admin.Individual{IndividualID: "ind-1", CredentialOfferEndpoint: "https://w.example/o", CreatedAt: 1, UpdatedAt: 2}
	if err := f.st.PutIndividual(ctx, ind); err != nil {
		t.Fatal(err)
	}
	if got, err := f.st.GetIndividual(ctx, "ind-1"); err != nil || got != ind {
		t.Fatalf("get individual: %+v %v", got, err)
	}
	if err := f.st.DeleteIndividual(ctx, "ind-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.GetIndividual(ctx, "ind-1"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("deleted individual: %v", err)
	}
	if err := f.st.DeleteIndividual(ctx, "ind-1"); !errors.Is(err, exchange.ErrNotFound) {
		t.Fatalf("delete missing individual: %v", err)
	}
	now := f.clock.now().Unix()
	for _, c := range []definition.DynamicConfiguration{
		{ConfigurationID: "A", VCT: "A", Claims: []string{"x"}, ExpiresAt: now + 100},
		{ConfigurationID: "A", VCT: "A", Claims: []string{"old"}, ExpiresAt: now + 50}, // does not shorten
		{ConfigurationID: "B", VCT: "B", ExpiresAt: now + 10},
	} {
		if err := f.st.PutDynamicConfiguration(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.add(20 * time.Second)
	got, err := f.st.ListDynamicConfigurations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ConfigurationID != "A" || fmt.Sprint(got[0].Claims) != "[x]" {
		t.Fatalf("dynamic configurations: %+v", got)
	}
}

func TestDeleteExchangeWithManyPointers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.record("many", exchange.StatusOfferSent, "", 0)
	if err := f.st.CreateExchange(ctx, rec, nil); err != nil {
		t.Fatal(err)
	}
	// 130 pointers added over several updates (more than one transaction can delete).
	var keys []string
	version := int64(1)
	for batch := 0; batch < 5; batch++ {
		cur, err := f.st.GetExchange(ctx, "many")
		if err != nil {
			t.Fatal(err)
		}
		var ops []exchange.PointerOp
		for i := 0; i < 26; i++ {
			p := exchange.Pointer{Key: exchange.PointerKey(exchange.PointerNonce, fmt.Sprintf("n-%d-%d", batch, i)),
				ExchangeID: "many", ExpiresAt: rec.ExpiresAt}
			keys = append(keys, p.Key)
			ops = append(ops, exchange.PointerOp{Put: &p})
		}
		if err := f.st.UpdateExchange(ctx, cur, exchange.Expect{Version: version, Status: cur.Status}, ops...); err != nil {
			t.Fatal(err)
		}
		version++
	}
	if err := f.st.DeleteExchange(ctx, "many"); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if f.rawItem(t, k, "PTR") != nil {
			t.Fatalf("pointer %s survived", k)
		}
	}
}
