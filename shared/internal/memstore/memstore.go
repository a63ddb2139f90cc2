// Package memstore is the in-memory store the tests of the use case packages run on: one Store that implements
// admin.Store, wallet.Store and revocation.Store with the conditions of the DynamoDB store (shared/store), item
// by item: expired items are absent, record writes are conditional on version, status machine and retention,
// pointer changes and the revocation item join the record write atomically, and a refused write changes nothing.
// The contract suite (shared/internal/storetest) runs against both, so this fake cannot drift from the real
// store (its TestContract also checks at compile time that Store implements all three). Exchange records are
// kept in the store's own JSON shape (store.MarshalExchange), so both hand out the same values. Only tests
// import it.
package memstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/presentationdef"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/store"
)

// maxTransactItems is DynamoDB's limit of items in one transaction, which the DynamoDB store observes.
const maxTransactItems = 100

// maxDynamicConfigurations bounds ListDynamicConfigurations as the DynamoDB store does.
const maxDynamicConfigurations = 1000

// Store is the in-memory store. The zero value is not usable; call New.
type Store struct {
	mu  sync.Mutex
	now func() time.Time

	definitions map[string]definitionItem
	// presentations are the presentation definitions, kept like credential definitions.
	presentations map[string]definitionItem
	exchanges     map[string]exchangeItem
	pointers      map[string]exchange.Pointer
	individuals   map[string]admin.Individual
	dynamic       map[string]definition.DynamicConfiguration
	revocations   map[string]revocation.Record
	counters      map[statuslist.ListID]counterItem
	heads         map[int]int
	lists         map[statuslist.ListID]*listItem

	changes func(store.Change)
}

// definitionItem is a stored credential or presentation definition with the attributes its conditions read.
type definitionItem struct {
	data    []byte
	version int64
	nanos   int64
}

// exchangeItem is a stored exchange record: its data in the store's shape and the top-level attributes.
type exchangeItem struct {
	data    []byte
	version int64
	status  exchange.Status
	ttl     int64
	nanos   int64
	defID   string
}

// counterItem is a status list's allocation counter.
type counterItem struct {
	next int
	key  uint64
}

// listItem is a status list's statuses, token and signing lease; version 0 is "never written".
type listItem struct {
	bits    int
	lst     string
	version int64
	token   revocation.StoredStatusToken
	hasTok  bool
	lease   int64
}

// Option configures New.
type Option func(*Store)

// WithClock sets the clock the expiry checks read (the DynamoDB store's WithClock); default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithChanges reports every committed write of an exchange record or a revocation item to f, in order, as the
// table's stream reports it to the publisher (store.Change: the item before and after the write), so that a test
// sees the events a use case's writes call for (store.Change.Events). f runs under the store's lock and must not
// call the store. Seed, SeedRevocation and the Drop methods report nothing: they stand for what happened before.
func WithChanges(f func(store.Change)) Option { return func(s *Store) { s.changes = f } }

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now, definitions: map[string]definitionItem{}, presentations: map[string]definitionItem{}, exchanges: map[string]exchangeItem{},
		pointers: map[string]exchange.Pointer{}, individuals: map[string]admin.Individual{},
		dynamic: map[string]definition.DynamicConfiguration{}, revocations: map[string]revocation.Record{},
		counters: map[statuslist.ListID]counterItem{}, heads: map[int]int{}, lists: map[statuslist.ListID]*listItem{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Store) unix() int64 { return s.now().Unix() }

// live is the DynamoDB store's notExpired: no ttl, or a ttl still ahead.
func (s *Store) live(ttl int64) bool { return ttl > s.unix() }

// --- credential and presentation definitions (configuration items: no ttl) ---

// CreateDefinition implements admin.DefinitionStore.
func (s *Store) CreateDefinition(_ context.Context, d definition.Definition) error {
	return s.createConfig(s.definitions, d.ID, d, d.Version, d.CreatedAt, d.CreatedNanos)
}

// GetDefinition implements admin.DefinitionStore.
func (s *Store) GetDefinition(_ context.Context, id string) (definition.Definition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.definition(id)
}

func (s *Store) definition(id string) (definition.Definition, error) {
	var d definition.Definition
	var err error
	d.Version, d.CreatedNanos, err = getConfig(s.definitions, id, &d)
	return d, err
}

// ReplaceDefinition implements admin.DefinitionStore.
func (s *Store) ReplaceDefinition(_ context.Context, d definition.Definition, expectedVersion int64) error {
	return s.replaceConfig(s.definitions, d.ID, d, d.Version, d.CreatedAt, d.CreatedNanos, expectedVersion)
}

// DeleteDefinition implements admin.DefinitionStore.
func (s *Store) DeleteDefinition(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return deleteItem(s.definitions, id)
}

// ListDefinitions implements admin.DefinitionStore: newest first.
func (s *Store) ListDefinitions(_ context.Context, page exchange.PageRequest) (exchange.Page[definition.Definition], error) {
	return listConfig(s, s.definitions, "DEF", page, s.definition)
}

// CreatePresentationDefinition implements admin.PresentationDefinitionStore.
func (s *Store) CreatePresentationDefinition(_ context.Context, d presentationdef.Definition) error {
	return s.createConfig(s.presentations, d.ID, d, d.Version, d.CreatedAt, d.CreatedNanos)
}

// GetPresentationDefinition implements admin.PresentationDefinitionStore.
func (s *Store) GetPresentationDefinition(_ context.Context, id string) (presentationdef.Definition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presentationDefinition(id)
}

func (s *Store) presentationDefinition(id string) (presentationdef.Definition, error) {
	var d presentationdef.Definition
	var err error
	d.Version, d.CreatedNanos, err = getConfig(s.presentations, id, &d)
	return d, err
}

// ReplacePresentationDefinition implements admin.PresentationDefinitionStore.
func (s *Store) ReplacePresentationDefinition(_ context.Context, d presentationdef.Definition, expectedVersion int64) error {
	return s.replaceConfig(s.presentations, d.ID, d, d.Version, d.CreatedAt, d.CreatedNanos, expectedVersion)
}

// DeletePresentationDefinition implements admin.PresentationDefinitionStore.
func (s *Store) DeletePresentationDefinition(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return deleteItem(s.presentations, id)
}

// ListPresentationDefinitions implements admin.PresentationDefinitionStore: newest first.
func (s *Store) ListPresentationDefinitions(_ context.Context, page exchange.PageRequest) (exchange.Page[presentationdef.Definition], error) {
	return listConfig(s, s.presentations, "PRESDEF", page, s.presentationDefinition)
}

// createConfig stores a new configuration item (ErrAlreadyExists if its id is taken).
func (s *Store) createConfig(items map[string]definitionItem, id string, v any, version, createdAt, nanos int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := items[id]; ok {
		return exchange.ErrAlreadyExists
	}
	return putConfig(items, id, v, version, createdAt, nanos)
}

// replaceConfig overwrites a configuration item stored at expectedVersion (ErrNotFound, ErrConflict).
func (s *Store) replaceConfig(items map[string]definitionItem, id string, v any, version, createdAt, nanos, expectedVersion int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := items[id]
	if !ok {
		return exchange.ErrNotFound
	}
	if it.version != expectedVersion {
		return exchange.ErrConflict
	}
	return putConfig(items, id, v, version, createdAt, nanos)
}

func putConfig(items map[string]definitionItem, id string, v any, version, createdAt, nanos int64) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode definition: %w", err)
	}
	if nanos == 0 {
		nanos = createdAt * 1e9
	}
	items[id] = definitionItem{data: data, version: version, nanos: nanos}
	return nil
}

// getConfig decodes the item of id into v and returns its version and creation order (ErrNotFound).
func getConfig(items map[string]definitionItem, id string, v any) (int64, int64, error) {
	it, ok := items[id]
	if !ok {
		return 0, 0, exchange.ErrNotFound
	}
	if err := decodeJSON(it.data, v); err != nil {
		return 0, 0, fmt.Errorf("decode definition: %w", err)
	}
	return it.version, it.nanos, nil
}

// listConfig pages the items newest first; get reads one (under the lock).
func listConfig[T any](s *Store, items map[string]definitionItem, partition string, page exchange.PageRequest,
	get func(string) (T, error)) (exchange.Page[T], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []row
	for id, it := range items {
		rows = append(rows, row{id: id, sortKey: sortKey(it.nanos, id)})
	}
	ids, next, err := pageOf(rows, partition, page)
	if err != nil {
		return exchange.Page[T]{}, err
	}
	out := exchange.Page[T]{NextCursor: next, Items: make([]T, 0, len(ids))}
	for _, id := range ids {
		v, err := get(id)
		if err != nil {
			return exchange.Page[T]{}, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// --- exchange records and their pointers ---

// CreateExchange implements admin.ExchangeStore: the record and its pointers, none of which may exist yet (an
// expired leftover counts: DynamoDB has not deleted it), consuming the pointers consume names (each must exist
// unexpired and belong to no exchange or to this one; else ErrConflict wrapping *exchange.PointerGoneError).
func (s *Store) CreateExchange(_ context.Context, rec exchange.Record, pointers []exchange.Pointer, consume ...string) error {
	if len(pointers)+len(consume)+1 > maxTransactItems {
		return fmt.Errorf("create exchange: %d pointers exceed one transaction", len(pointers)+len(consume))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range consume {
		p, ok := s.pointers[key]
		if !ok || !s.live(p.ExpiresAt) || (p.ExchangeID != "" && p.ExchangeID != rec.CredentialExchangeID) {
			return fmt.Errorf("create exchange: %w: %w", exchange.ErrConflict, &exchange.PointerGoneError{Key: key})
		}
	}
	if _, ok := s.exchanges[rec.CredentialExchangeID]; ok {
		return exchange.ErrAlreadyExists
	}
	for _, p := range pointers {
		if _, ok := s.pointers[p.Key]; ok {
			return exchange.ErrAlreadyExists
		}
	}
	if err := s.writeExchange(&rec); err != nil {
		return err
	}
	for _, p := range pointers {
		s.pointers[p.Key] = clonePointer(p)
	}
	for _, key := range consume {
		delete(s.pointers, key)
	}
	return nil
}

// writeExchange puts rec as a committed write does, reporting the change (WithChanges).
func (s *Store) writeExchange(rec *exchange.Record) error {
	var before *exchange.Record
	if it, ok := s.exchanges[rec.CredentialExchangeID]; ok && s.changes != nil {
		old, err := s.decodeExchange(it)
		if err != nil {
			return err
		}
		before = &old
	}
	if err := s.putExchange(rec); err != nil {
		return err
	}
	if s.changes != nil {
		after, err := s.decodeExchange(s.exchanges[rec.CredentialExchangeID])
		if err != nil {
			return err
		}
		s.changes(store.Change{Exchange: &store.ExchangeChange{Before: before, After: &after}})
	}
	return nil
}

// writeRevocation puts r as a committed write does, reporting the change (WithChanges).
func (s *Store) writeRevocation(r revocation.Record) {
	old, existed := s.revocations[r.ExchangeID]
	s.revocations[r.ExchangeID] = cloneRevocation(r)
	if s.changes == nil {
		return
	}
	c := &store.RevocationChange{}
	if existed {
		old = cloneRevocation(old)
		c.Before = &old
	}
	after := cloneRevocation(r)
	c.After = &after
	s.changes(store.Change{Revocation: c})
}

func (s *Store) putExchange(rec *exchange.Record) error {
	data, err := store.MarshalExchange(rec)
	if err != nil {
		return err
	}
	nanos := rec.CreatedNanos
	if nanos == 0 {
		nanos = rec.CreatedAt * 1e9
	}
	s.exchanges[rec.CredentialExchangeID] = exchangeItem{data: data, version: rec.Version, status: rec.Status,
		ttl: rec.ExpiresAt, nanos: nanos, defID: rec.CredentialDefinitionID}
	return nil
}

func (s *Store) decodeExchange(it exchangeItem) (exchange.Record, error) {
	rec, err := store.UnmarshalExchange(it.data)
	if err != nil {
		return rec, err
	}
	rec.Version = it.version
	return rec, nil
}

func (s *Store) exchange(id string) (exchange.Record, error) {
	it, ok := s.exchanges[id]
	if !ok || !s.live(it.ttl) {
		return exchange.Record{}, exchange.ErrNotFound
	}
	return s.decodeExchange(it)
}

// GetExchange implements admin.ExchangeStore (and the wallet's and revocation's): an expired record is absent.
func (s *Store) GetExchange(_ context.Context, id string) (exchange.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchange(id)
}

// UpdateExchange implements admin.ExchangeStore with the DynamoDB store's conditions: the move must be one the
// status machine allows (else a *exchange.TransitionError before anything is read), the stored record must exist
// unexpired at expect's version with a status the new one may follow, each pointer to put must not exist, each
// pointer to consume must exist unexpired and belong to no exchange or to this one, and an issuing write puts the
// revocation item (revocation.OnIssue), which must not exist. A consumed pointer that was gone is ErrConflict
// wrapping *exchange.PointerGoneError; a refused record write is ErrNotFound, ErrConflict wrapping a
// *exchange.TransitionError when the record moved where it cannot go on from, or ErrConflict. Nothing changes
// unless everything does.
func (s *Store) UpdateExchange(_ context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error {
	from, err := exchange.WriteCondition(expect.Status, rec.Status)
	if err != nil {
		return err
	}
	if len(ops)+2 > maxTransactItems {
		return fmt.Errorf("update exchange: %d pointer changes exceed one transaction", len(ops))
	}
	id := rec.CredentialExchangeID
	rec.Version = expect.Version + 1
	for _, op := range ops {
		switch {
		case op.Put != nil:
			rec.Pointers = append(rec.Pointers, op.Put.Key)
		case op.Consume == "":
			return errors.New("update exchange: empty pointer op")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		if op.Put != nil && strings.HasPrefix(op.Put.Key, exchange.PointerNonce+"#") {
			// A c_nonce's used-marker that exists already: the nonce was used (exchange.CNonceMarker).
			if p, exists := s.pointers[op.Put.Key]; exists && s.live(p.ExpiresAt) {
				return fmt.Errorf("update exchange: %w: %w", exchange.ErrConflict, &exchange.PointerGoneError{Key: op.Put.Key})
			}
		}
		if op.Consume == "" {
			continue
		}
		p, ok := s.pointers[op.Consume]
		if !ok || !s.live(p.ExpiresAt) || (p.ExchangeID != "" && p.ExchangeID != id) {
			return fmt.Errorf("update exchange: %w: %w", exchange.ErrConflict, &exchange.PointerGoneError{Key: op.Consume})
		}
	}
	cur, ok := s.exchanges[id]
	if !ok || !s.live(cur.ttl) {
		return exchange.RefusedWrite(nil, expect, rec.Status)
	}
	if cur.version != expect.Version || !slices.Contains(from, cur.status) {
		stored, err := s.decodeExchange(cur)
		if err != nil {
			return err
		}
		return exchange.RefusedWrite(&stored, expect, rec.Status)
	}
	for _, op := range ops {
		if op.Put != nil {
			if _, exists := s.pointers[op.Put.Key]; exists {
				return exchange.ErrConflict
			}
		}
	}
	issued, issuing := revocation.OnIssue(&rec, expect.Status)
	if _, exists := s.revocations[id]; issuing && exists {
		return exchange.ErrConflict
	}
	if issuing && (len(issued.Entries) == 0 || issued.ExchangeID == "") {
		return errors.New("update exchange: revocation item without entries")
	}
	if err := s.writeExchange(&rec); err != nil {
		return err
	}
	if issuing {
		s.writeRevocation(issued)
	}
	for _, op := range ops {
		if op.Put != nil {
			s.pointers[op.Put.Key] = clonePointer(*op.Put)
		} else {
			delete(s.pointers, op.Consume)
		}
	}
	return nil
}

// DeleteExchange implements admin.ExchangeStore: the record and every pointer it lists (not its revocation
// item). An expired record is deleted too, and reported ErrNotFound.
func (s *Store) DeleteExchange(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.exchanges[id]
	if !ok {
		return exchange.ErrNotFound
	}
	rec, err := s.decodeExchange(it)
	if err != nil {
		return err
	}
	delete(s.exchanges, id)
	for _, k := range rec.Pointers {
		delete(s.pointers, k)
	}
	if s.changes != nil {
		s.changes(store.Change{Exchange: &store.ExchangeChange{Before: &rec}})
	}
	if !s.live(it.ttl) {
		return exchange.ErrNotFound
	}
	return nil
}

// ListExchanges implements admin.ExchangeStore: the partition of the definition (status as a filter), else of
// the status, else of every record; newest first, expired records left out.
func (s *Store) ListExchanges(_ context.Context, f exchange.Filter, page exchange.PageRequest) (exchange.Page[exchange.Record], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	partition := "EXCHANGE"
	switch {
	case f.CredentialDefinitionID != "":
		partition = "EXCHANGE#DEF#" + f.CredentialDefinitionID
	case f.Status != "":
		partition = "EXCHANGE#STATUS#" + string(f.Status)
	}
	var rows []row
	for id, it := range s.exchanges {
		if !s.live(it.ttl) || (f.Status != "" && it.status != f.Status) ||
			(f.CredentialDefinitionID != "" && it.defID != f.CredentialDefinitionID) {
			continue
		}
		rows = append(rows, row{id: id, sortKey: sortKey(it.nanos, id)})
	}
	ids, next, err := pageOf(rows, partition, page)
	if err != nil {
		return exchange.Page[exchange.Record]{}, err
	}
	out := exchange.Page[exchange.Record]{NextCursor: next, Items: make([]exchange.Record, 0, len(ids))}
	for _, id := range ids {
		rec, err := s.decodeExchange(s.exchanges[id])
		if err != nil {
			return exchange.Page[exchange.Record]{}, err
		}
		out.Items = append(out.Items, rec)
	}
	return out, nil
}

// GetPointer implements wallet.Store: an absent or expired pointer is ErrNotFound.
func (s *Store) GetPointer(_ context.Context, key string) (exchange.Pointer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pointers[key]
	if !ok || !s.live(p.ExpiresAt) {
		return exchange.Pointer{}, exchange.ErrNotFound
	}
	return clonePointer(p), nil
}

// PutPointer implements wallet.Store: a live pointer with the key is ErrAlreadyExists; an expired leftover is
// replaced.
func (s *Store) PutPointer(_ context.Context, p exchange.Pointer) error {
	if p.Key == "" {
		return errors.New("put pointer: empty key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.pointers[p.Key]; ok && s.live(old.ExpiresAt) {
		return exchange.ErrAlreadyExists
	}
	s.pointers[p.Key] = clonePointer(p)
	return nil
}

// WritePointers implements wallet.Store with the DynamoDB store's conditions: a consumed pointer must exist
// unexpired (else ErrConflict wrapping *exchange.PointerGoneError), a put one must not exist (ErrAlreadyExists);
// nothing changes unless everything does.
func (s *Store) WritePointers(_ context.Context, ops ...exchange.PointerOp) error {
	if len(ops) == 0 || len(ops) > maxTransactItems {
		return fmt.Errorf("write pointers: %d changes", len(ops))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		switch {
		case op.Put != nil:
			if _, exists := s.pointers[op.Put.Key]; exists {
				return exchange.ErrAlreadyExists
			}
		case op.Consume != "":
			if p, ok := s.pointers[op.Consume]; !ok || !s.live(p.ExpiresAt) {
				return fmt.Errorf("write pointers: %w: %w", exchange.ErrConflict, &exchange.PointerGoneError{Key: op.Consume})
			}
		default:
			return errors.New("write pointers: empty pointer op")
		}
	}
	for _, op := range ops {
		if op.Put != nil {
			s.pointers[op.Put.Key] = clonePointer(*op.Put)
		} else {
			delete(s.pointers, op.Consume)
		}
	}
	return nil
}

// --- individuals (no ttl) and dynamic configurations ---

// PutIndividual implements admin.IndividualStore (an upsert).
func (s *Store) PutIndividual(_ context.Context, ind admin.Individual) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.individuals[ind.IndividualID] = ind
	return nil
}

// GetIndividual implements admin.IndividualStore.
func (s *Store) GetIndividual(_ context.Context, id string) (admin.Individual, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ind, ok := s.individuals[id]
	if !ok {
		return admin.Individual{}, exchange.ErrNotFound
	}
	return ind, nil
}

// DeleteIndividual implements admin.IndividualStore.
func (s *Store) DeleteIndividual(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return deleteItem(s.individuals, id)
}

// PutDynamicConfiguration implements admin.ConfigurationStore: an upsert that never shortens the ttl.
func (s *Store) PutDynamicConfiguration(_ context.Context, c definition.DynamicConfiguration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.dynamic[c.ConfigurationID]; ok && old.ExpiresAt > c.ExpiresAt {
		return nil
	}
	c.Claims = slices.Clone(c.Claims)
	s.dynamic[c.ConfigurationID] = c
	return nil
}

// ListDynamicConfigurations implements admin.ConfigurationStore: the unexpired ones, by configuration id.
func (s *Store) ListDynamicConfigurations(context.Context) ([]definition.DynamicConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []definition.DynamicConfiguration
	for _, c := range s.dynamic {
		if s.live(c.ExpiresAt) {
			c.Claims = slices.Clone(c.Claims)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b definition.DynamicConfiguration) int {
		return strings.Compare(a.ConfigurationID, b.ConfigurationID)
	})
	if len(out) > maxDynamicConfigurations {
		out = out[:maxDynamicConfigurations]
	}
	return out, nil
}

// --- status lists and revocation items ---

// ReserveStatusEntry implements revocation.Store.
func (s *Store) ReserveStatusEntry(_ context.Context, id statuslist.ListID, capacity int, proposedKey uint64) (int, uint64, error) {
	if capacity < 1 {
		return 0, 0, fmt.Errorf("reserve status entry of list %s: capacity %d", id, capacity)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[id]
	if !ok {
		c.key = proposedKey
	}
	if c.next >= capacity {
		return 0, 0, fmt.Errorf("reserve status entry of list %s: %w", id, revocation.ErrStatusListFull)
	}
	c.next++
	s.counters[id] = c
	return c.next - 1, c.key, nil
}

// ShardGenerations implements revocation.Store (a shard without a head is at generation 0).
func (s *Store) ShardGenerations(_ context.Context, shards int) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gens := make([]int, shards)
	for sh := range gens {
		gens[sh] = s.heads[sh]
	}
	return gens, nil
}

// AdvanceShard implements revocation.Store.
func (s *Store) AdvanceShard(_ context.Context, shard, from int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heads[shard] == from {
		s.heads[shard] = from + 1
	}
	return s.heads[shard], nil
}

// GetStatusList implements revocation.Store: a list never written has every entry VALID at version 0.
func (s *Store) GetStatusList(_ context.Context, id statuslist.ListID, layout statuslist.Layout) (revocation.StatusListState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := revocation.StatusListState{ID: id}
	l := s.lists[id]
	if l == nil || l.lst == "" {
		list, err := layout.NewList()
		if err != nil {
			return revocation.StatusListState{}, fmt.Errorf("get status list %s: %w", id, err)
		}
		state.List = list
		if l != nil {
			state.Version = l.version
		}
		return state, nil
	}
	list, err := statuslist.Decode(l.bits, l.lst, statuslist.WithMaxBytes(max(layout.ListBytes(), 1)))
	if err != nil {
		return revocation.StatusListState{}, fmt.Errorf("get status list %s: %w", id, err)
	}
	if list.Len() != layout.Capacity || l.bits != layout.Bits {
		return revocation.StatusListState{}, fmt.Errorf("get status list %s: stored with %d entries of %d bits, "+
			"the layout has %d of %d", id, list.Len(), l.bits, layout.Capacity, layout.Bits)
	}
	state.List, state.Version = list, l.version
	return state, nil
}

// GetRevocation implements revocation.Store: an absent or expired item is ErrNotFound.
func (s *Store) GetRevocation(_ context.Context, exchangeID string) (revocation.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.revocations[exchangeID]
	if !ok || (r.ExpiresAt > 0 && !s.live(r.ExpiresAt)) {
		return revocation.Record{}, exchange.ErrNotFound
	}
	return cloneRevocation(r), nil
}

// CommitRevocation implements revocation.Store with the DynamoDB store's conditions, all or nothing.
func (s *Store) CommitRevocation(_ context.Context, c revocation.Commit) error {
	if len(c.Lists)+2 > maxTransactItems {
		return fmt.Errorf("commit revocation: %d lists exceed one transaction", len(c.Lists))
	}
	rev := c.Revocation
	if rev.ExchangeID == "" || len(rev.Entries) == 0 {
		return errors.New("commit revocation: revocation item without exchange id or entries")
	}
	if c.Record != nil {
		if c.Record.Status != c.Expect.Status {
			return fmt.Errorf("commit revocation: the exchange status must not change (%s -> %s)", c.Expect.Status, c.Record.Status)
		}
		if c.Record.CredentialExchangeID != rev.ExchangeID {
			return errors.New("commit revocation: the record and the revocation item are of different exchanges")
		}
	}
	for _, l := range c.Lists {
		if l.List == nil {
			return fmt.Errorf("commit revocation: list %s has no statuses", l.ID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, exists := s.revocations[rev.ExchangeID]
	curLive := exists && (cur.ExpiresAt == 0 || s.live(cur.ExpiresAt))
	if c.Create && curLive || !c.Create && (!curLive || cur.Version != rev.Version-1) {
		return exchange.ErrConflict
	}
	if c.Record != nil {
		it, ok := s.exchanges[rev.ExchangeID]
		if !ok || !s.live(it.ttl) || it.version != c.Expect.Version || it.status != c.Expect.Status {
			return exchange.ErrConflict
		}
	}
	for _, l := range c.Lists {
		var version int64
		if it := s.lists[l.ID]; it != nil {
			version = it.version
		}
		if version != l.Version {
			return exchange.ErrConflict
		}
	}
	if c.Record != nil {
		rec := c.Record.Clone()
		rec.Version = c.Expect.Version + 1
		if err := s.writeExchange(&rec); err != nil {
			return fmt.Errorf("commit revocation: %w", err)
		}
	}
	s.writeRevocation(rev)
	for _, l := range c.Lists {
		it := s.list(l.ID)
		it.bits, it.lst, it.version = l.List.Bits(), l.List.Encode(), l.Version+1
	}
	return nil
}

// list returns the list item of id, creating it (an UpdateItem creates the item it updates).
func (s *Store) list(id statuslist.ListID) *listItem {
	l := s.lists[id]
	if l == nil {
		l = &listItem{}
		s.lists[id] = l
	}
	return l
}

// GetStatusListToken implements revocation.Store: without a list item, the counter tells whether the list was
// ever opened.
func (s *Store) GetStatusListToken(_ context.Context, id statuslist.ListID) (revocation.StatusListRead, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lists[id]
	if l == nil {
		_, opened := s.counters[id]
		return revocation.StatusListRead{Exists: opened}, nil
	}
	read := revocation.StatusListRead{Exists: true, ListVersion: l.version}
	if l.hasTok {
		read.Token = l.token
	}
	return read, nil
}

// ClaimStatusListSigning implements revocation.Store: the lease is taken when there is none or it has passed.
func (s *Store) ClaimStatusListSigning(_ context.Context, id statuslist.ListID, now, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.list(id)
	if l.lease != 0 && l.lease > now.Unix() {
		return false, nil
	}
	l.lease = until.Unix()
	return true, nil
}

// PutStatusListToken implements revocation.Store: refused (ErrConflict) when a token of a newer list version,
// or of the same version and subject expiring no earlier, is stored; a stored token releases the lease.
func (s *Store) PutStatusListToken(_ context.Context, id statuslist.ListID, tok revocation.StoredStatusToken) error {
	if tok.Token == "" {
		return errors.New("put status list token: empty token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.list(id)
	if l.hasTok && (l.token.Version > tok.Version ||
		l.token.Version == tok.Version && l.token.ExpiresAt >= tok.ExpiresAt && l.token.Subject == tok.Subject) {
		return exchange.ErrConflict
	}
	l.token, l.hasTok, l.lease = tok, true, 0
	return nil
}

// --- what tests set up and look at directly ---

// Seed stores rec and its pointers as they are, without conditions (the record lists the pointers' keys), as
// if an earlier write had put them there.
func (s *Store) Seed(rec exchange.Record, pointers ...exchange.Pointer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pointers {
		s.pointers[p.Key] = clonePointer(p)
		if !slices.Contains(rec.Pointers, p.Key) {
			rec.Pointers = append(rec.Pointers, p.Key)
		}
	}
	return s.putExchange(&rec)
}

// SeedRevocation stores a revocation item as it is.
func (s *Store) SeedRevocation(r revocation.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revocations[r.ExchangeID] = cloneRevocation(r)
}

// DropExchange removes the exchange record only, as DynamoDB's TTL does once its retention passed (its pointers
// and revocation item stay).
func (s *Store) DropExchange(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.exchanges, id)
}

// DropPointer removes a pointer item, as if it had been consumed or its ttl deleted it.
func (s *Store) DropPointer(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pointers, key)
}

// Stored is the record stored under id whatever its ttl (DynamoDB keeps an expired item until TTL deletes it).
func (s *Store) Stored(id string) (exchange.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.exchanges[id]
	if !ok {
		return exchange.Record{}, false
	}
	rec, err := s.decodeExchange(it)
	return rec, err == nil
}

// RawExchange is the stored JSON of a record (the DynamoDB store's `data` attribute), nil when there is none.
func (s *Store) RawExchange(id string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.exchanges[id].data)
}

// ItemCount is the number of items stored, expired ones included (the table's item count).
func (s *Store) ItemCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.definitions) + len(s.exchanges) + len(s.pointers) + len(s.individuals) + len(s.dynamic) +
		len(s.revocations) + len(s.counters) + len(s.heads) + len(s.lists)
	return n
}

// LivePointers counts the unexpired pointers whose key starts with prefix (e.g. "NONCE#").
func (s *Store) LivePointers(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, p := range s.pointers {
		if strings.HasPrefix(k, prefix) && s.live(p.ExpiresAt) {
			n++
		}
	}
	return n
}

// SetStatusListCounter sets the allocation counter of list id to next (tests fill lists this way).
func (s *Store) SetStatusListCounter(id statuslist.ListID, next int, key uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters[id] = counterItem{next: next, key: key}
}

// --- paging ---

// row is one item of a list partition with its sort key.
type row struct {
	id, sortKey string
}

// cursor is what a page's NextCursor encodes: the partition listed and the sort key of the last item returned.
type cursor struct {
	Partition string `json:"p"`
	After     string `json:"a"`
}

// pageOf sorts rows newest first (descending sort key) and cuts the page after page.Cursor. A cursor that this
// store did not issue for this partition is ErrInvalidCursor.
func pageOf(rows []row, partition string, page exchange.PageRequest) ([]string, string, error) {
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(b.sortKey, a.sortKey) })
	start := 0
	if page.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(page.Cursor)
		var c cursor
		if err != nil || json.Unmarshal(b, &c) != nil || c.Partition != partition || c.After == "" {
			return nil, "", exchange.ErrInvalidCursor
		}
		start = len(rows)
		for i, r := range rows {
			if r.sortKey < c.After {
				start = i
				break
			}
		}
	}
	limit := page.Limit
	if limit <= 0 {
		limit = exchange.DefaultPageLimit
	}
	end := min(start+limit, len(rows))
	ids := make([]string, 0, end-start)
	for _, r := range rows[start:end] {
		ids = append(ids, r.id)
	}
	if end == len(rows) || end == start {
		return ids, "", nil
	}
	b, _ := json.Marshal(cursor{Partition: partition, After: rows[end-1].sortKey})
	return ids, base64.RawURLEncoding.EncodeToString(b), nil
}

// sortKey orders items as the DynamoDB store's GSIs do: creation nanos (20 digits), then the id.
func sortKey(nanos int64, id string) string { return fmt.Sprintf("%020d#%s", nanos, id) }

// deleteItem removes the item id of items; ErrNotFound when there is none.
func deleteItem[V any](items map[string]V, id string) error {
	if _, ok := items[id]; !ok {
		return exchange.ErrNotFound
	}
	delete(items, id)
	return nil
}

// --- copies, so that no caller shares the store's memory ---

func clonePointer(p exchange.Pointer) exchange.Pointer {
	if p.Attributes != nil {
		attrs := make(map[string]string, len(p.Attributes))
		for k, v := range p.Attributes {
			attrs[k] = v
		}
		p.Attributes = attrs
	}
	return p
}

func cloneRevocation(r revocation.Record) revocation.Record {
	r.Entries = slices.Clone(r.Entries)
	return r
}

// decodeJSON decodes keeping numbers as json.Number, as the DynamoDB store does.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(v)
}
