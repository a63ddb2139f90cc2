package revocation

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
)

// Defaults of Config (docs/status-lists.md).
const (
	// DefaultStatusTokenValidity is the `exp` - `iat` of a status list token.
	DefaultStatusTokenValidity = 24 * time.Hour
	// DefaultStatusTokenTTL is the `ttl` of a status list token and the longest Cache-Control max-age.
	DefaultStatusTokenTTL = time.Hour
	// DefaultStatusReissueMargin: a stored token expiring within this margin is re-signed before it is served.
	DefaultStatusReissueMargin = 6 * time.Hour
	// DefaultStatusSigningLease is how long one server holds the right to re-sign a list's token, so that
	// concurrent requests for a stale token cost one KMS Sign, not one each.
	DefaultStatusSigningLease = 10 * time.Second
	// maxShardRotations bounds how many full lists one allocation skips before giving up.
	maxShardRotations = 64
)

// Errors of the status list use cases; check them with errors.Is.
var (
	// ErrStatusListFull is returned by Store.ReserveStatusEntry when the list has no free entry left.
	ErrStatusListFull = errors.New("status list is full")
	// ErrStatusSigningUnavailable: a token must be signed but no signing key is set up (yet).
	ErrStatusSigningUnavailable = errors.New("no key to sign status list tokens is available")
)

// StatusListState is one stored status list: its statuses and the version of its last status write (0: never
// written, every entry VALID).
type StatusListState struct {
	ID      statuslist.ListID
	List    *statuslist.List
	Version int64
}

// StoredStatusToken is the signed token of a list as the store caches it.
type StoredStatusToken struct {
	// Token is the compact statuslist+jwt.
	Token string
	// Version is the list version the token carries.
	Version int64
	// IssuedAt and ExpiresAt are the token's iat and exp (unix seconds).
	IssuedAt, ExpiresAt int64
	// TTL is the token's ttl claim (seconds).
	TTL int64
	// Subject is the token's sub, the list URI under the issuer URL it was signed for: a token whose Subject is
	// not this issuer's URI of the list (ISSUER_URL changed) is re-signed before it is served.
	Subject string
}

// StatusListRead is what GetStatusListToken finds for a list.
type StatusListRead struct {
	// Exists is false when no credential was ever allocated an entry of the list (nothing to serve).
	Exists bool
	// ListVersion is the version of the list's statuses.
	ListVersion int64
	// Token is the cached token; its Token is empty when none was signed yet.
	Token StoredStatusToken
}

// Store is what the status list use cases need from storage (shared/store implements it over
// DynamoDB; the conditions are the ones of docs/status-lists.md).
type Store interface {
	// GetExchange returns a record or ErrNotFound.
	GetExchange(ctx context.Context, id string) (exchange.Record, error)
	// ReserveStatusEntry takes the next free sequence number of list id (0-based, each handed out once) and
	// returns it with the list's permutation key (proposedKey when this call opened the list). It returns
	// ErrStatusListFull when all capacity sequence numbers are taken.
	ReserveStatusEntry(ctx context.Context, id statuslist.ListID, capacity int, proposedKey uint64) (seq int, key uint64, err error)
	// ShardGenerations returns the generation of the open list of each of the first shards shards.
	ShardGenerations(ctx context.Context, shards int) ([]int, error)
	// AdvanceShard moves shard's open list from generation from to from+1 (if no one did it yet) and returns
	// the shard's current generation.
	AdvanceShard(ctx context.Context, shard, from int) (int, error)
	// GetStatusList returns the statuses of list id (all VALID, version 0, when never written).
	GetStatusList(ctx context.Context, id statuslist.ListID, layout statuslist.Layout) (StatusListState, error)
	// GetRevocation returns the revocation item of an exchange, or ErrNotFound when there is none (never
	// issued, not revocable) or its ttl has passed.
	GetRevocation(ctx context.Context, exchangeID string) (Record, error)
	// CommitRevocation writes, in one transaction, c.Revocation (under the version it was read at, or as a new
	// item with c.Create), c.Record when it is set (under c.Expect, not expired; its status does not change) and
	// every list of c.Lists (each under the version it was read at, stored as version+1). ErrConflict when any
	// of them changed meanwhile (or the record expired); nothing is written then.
	CommitRevocation(ctx context.Context, c Commit) error
	// GetStatusListToken reads the cached token and the current version of list id.
	GetStatusListToken(ctx context.Context, id statuslist.ListID) (StatusListRead, error)
	// ClaimStatusListSigning takes the right to re-sign list id's token until until; false when another
	// server holds it.
	ClaimStatusListSigning(ctx context.Context, id statuslist.ListID, now, until time.Time) (bool, error)
	// PutStatusListToken caches tok unless the store holds a token of a newer list version, or of the same
	// version expiring no earlier for the same subject (then ErrConflict: serve what is stored).
	PutStatusListToken(ctx context.Context, id statuslist.ListID, tok StoredStatusToken) error
}

// Config is what the status list use cases need from the deployment.
type Config struct {
	// IssuerURL is the credential issuer identifier; list URIs are under it.
	IssuerURL string
	// Layout is the shard layout; zero: statuslist.DefaultLayout().
	Layout statuslist.Layout
	// TokenValidity is exp - iat of tokens; zero: DefaultStatusTokenValidity.
	TokenValidity time.Duration
	// TokenTTL is the ttl claim of tokens; zero: DefaultStatusTokenTTL (capped at TokenValidity).
	TokenTTL time.Duration
	// ReissueMargin re-signs tokens expiring within it; zero: DefaultStatusReissueMargin (capped below
	// TokenValidity).
	ReissueMargin time.Duration
	// SigningLease is how long a re-signing server holds the list; zero: DefaultStatusSigningLease.
	SigningLease time.Duration
}

// Deps are the ports of the status list use cases.
type Deps struct {
	// Store keeps status lists, their tokens and revocation items (required).
	Store Store
	// Signer signs status list tokens (keys.KMSSigner in production); nil: tokens are neither signed nor served
	// (allocation works without it).
	Signer statuslist.Signer
}

// StatusLists runs the status list use cases: allocation of entries for credentials (it is the wallet's
// StatusAllocator), revocation and suspension of an exchange's credentials, and the status list token.
type StatusLists struct {
	cfg    Config
	store  Store
	signer statuslist.Signer
	rt     exchange.Runtime

	// mu guards gens, this container's cache of each shard's open generation (nil until first loaded).
	mu   sync.Mutex
	gens []int
}

// New builds the status list use cases; the issuer URL and the store are required.
func New(cfg Config, deps Deps, opts ...exchange.Option) (*StatusLists, error) {
	if deps.Store == nil {
		return nil, errors.New("new status lists: store is required")
	}
	cfg.IssuerURL = strings.TrimRight(cfg.IssuerURL, "/")
	if cfg.IssuerURL == "" {
		return nil, errors.New("new status lists: issuer URL is required")
	}
	if cfg.Layout == (statuslist.Layout{}) {
		cfg.Layout = statuslist.DefaultLayout()
	}
	if err := cfg.Layout.Validate(); err != nil {
		return nil, fmt.Errorf("new status lists: %w", err)
	}
	if cfg.TokenValidity <= 0 {
		cfg.TokenValidity = DefaultStatusTokenValidity
	}
	cfg.TokenValidity = cfg.TokenValidity.Truncate(time.Second)
	if cfg.TokenValidity < time.Minute {
		return nil, fmt.Errorf("new status lists: token validity %s is below one minute", cfg.TokenValidity)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultStatusTokenTTL
	}
	cfg.TokenTTL = min(cfg.TokenTTL.Truncate(time.Second), cfg.TokenValidity)
	if cfg.ReissueMargin <= 0 {
		cfg.ReissueMargin = DefaultStatusReissueMargin
	}
	cfg.ReissueMargin = min(cfg.ReissueMargin, cfg.TokenValidity/2)
	if cfg.SigningLease <= 0 {
		cfg.SigningLease = DefaultStatusSigningLease
	}
	return &StatusLists{cfg: cfg, store: deps.Store, signer: deps.Signer, rt: exchange.NewRuntime(opts...)}, nil
}

// Config returns the effective configuration (defaults applied).
func (l *StatusLists) Config() Config { return l.cfg }

// AllocateStatus implements StatusAllocator: it reserves a fresh entry (never handed out before) in the open list
// of a shard chosen at random, records it in rec.StatusEntries (the caller stores rec with the
// credential) and returns the credential's `status` reference. A full list moves its shard to the next list.
func (l *StatusLists) AllocateStatus(ctx context.Context, rec *exchange.Record) (*sdjwt.StatusReference, error) {
	if rec == nil {
		return nil, errors.New("allocate status: no exchange record")
	}
	layout := l.cfg.Layout
	shard := mrand.IntN(layout.Shards)
	gen, err := l.generation(ctx, shard)
	if err != nil {
		return nil, fmt.Errorf("allocate status: %w", err)
	}
	for range maxShardRotations {
		id := statuslist.ListID{Shard: shard, Generation: gen}
		proposed, err := l.randomKey()
		if err != nil {
			return nil, fmt.Errorf("allocate status: %w", err)
		}
		seq, key, err := l.store.ReserveStatusEntry(ctx, id, layout.Capacity, proposed)
		if errors.Is(err, ErrStatusListFull) {
			next, aerr := l.store.AdvanceShard(ctx, shard, gen)
			if aerr != nil {
				return nil, fmt.Errorf("allocate status: open the next list of shard %d: %w", shard, aerr)
			}
			gen = l.setGeneration(shard, max(next, gen+1))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("allocate status: reserve an entry of list %s: %w", id, err)
		}
		idx, err := layout.Index(seq, key)
		if err != nil {
			return nil, fmt.Errorf("allocate status: %w", err)
		}
		rec.StatusEntries = append(rec.StatusEntries, exchange.StatusEntry{List: id.String(), Index: idx})
		return &sdjwt.StatusReference{Index: int64(idx), URI: statuslist.URI(l.cfg.IssuerURL, id)}, nil
	}
	return nil, fmt.Errorf("allocate status: shard %d: %d lists in a row were full", shard, maxShardRotations)
}

// generation returns the cached open generation of shard, loading every shard's head once per container.
func (l *StatusLists) generation(ctx context.Context, shard int) (int, error) {
	l.mu.Lock()
	if l.gens != nil {
		g := l.gens[shard]
		l.mu.Unlock()
		return g, nil
	}
	l.mu.Unlock()
	gens, err := l.store.ShardGenerations(ctx, l.cfg.Layout.Shards)
	if err != nil {
		return 0, fmt.Errorf("read shard heads: %w", err)
	}
	if len(gens) != l.cfg.Layout.Shards {
		return 0, fmt.Errorf("read shard heads: %d generations for %d shards", len(gens), l.cfg.Layout.Shards)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gens == nil {
		l.gens = gens
	}
	return l.gens[shard], nil
}

// setGeneration raises the cached generation of shard to at least g and returns it.
func (l *StatusLists) setGeneration(shard, g int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gens == nil {
		return g
	}
	l.gens[shard] = max(l.gens[shard], g)
	return l.gens[shard]
}

func (l *StatusLists) randomKey() (uint64, error) {
	var b [8]byte
	if _, err := io.ReadFull(l.rt.Random(), b[:]); err != nil {
		return 0, fmt.Errorf("list permutation key: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

// ServedStatusToken is a status list token as GET /status-lists/{statusListId} serves it.
type ServedStatusToken struct {
	// Token is the compact statuslist+jwt.
	Token string
	// MaxAge is the Cache-Control max-age: the token's ttl, cut at its exp.
	MaxAge time.Duration
	// Version is the list version the token carries (a strong ETag can be derived from the token itself).
	Version int64
}

// StatusListToken returns the signed token of the list statusListID (as in its URI). It serves the cached token
// and signs (one signature) only when none is cached, when a status changed since it was signed, or when it
// expires within the reissue margin; one server signs at a time (the others serve the cached token meanwhile).
// An id that is not a list id, or a list no credential was ever allocated in, is ErrNotFound.
func (l *StatusLists) StatusListToken(ctx context.Context, statusListID string) (ServedStatusToken, error) {
	id, err := statuslist.ParseListID(statusListID)
	if err != nil {
		return ServedStatusToken{}, fmt.Errorf("status list token: %w", exchange.ErrNotFound)
	}
	read, err := l.store.GetStatusListToken(ctx, id)
	if err != nil {
		return ServedStatusToken{}, fmt.Errorf("status list token %s: %w", id, err)
	}
	if !read.Exists {
		return ServedStatusToken{}, fmt.Errorf("status list token %s: %w", id, exchange.ErrNotFound)
	}
	now := l.rt.Now()
	cached := read.Token.Token != ""
	if cached && !l.stale(id, read, now) {
		return l.served(read.Token, now), nil
	}
	if l.signer == nil {
		return ServedStatusToken{}, fmt.Errorf("status list token %s: %w", id, ErrStatusSigningUnavailable)
	}
	if cached {
		claimed, err := l.store.ClaimStatusListSigning(ctx, id, now, now.Add(l.cfg.SigningLease))
		if err != nil {
			return ServedStatusToken{}, fmt.Errorf("status list token %s: %w", id, err)
		}
		if !claimed && read.Token.ExpiresAt > now.Unix() {
			// Another server is re-signing it right now: serve the cached token, cacheable only until then.
			st := l.served(read.Token, now)
			st.MaxAge = min(st.MaxAge, l.cfg.SigningLease)
			return st, nil
		}
	}
	tok, err := l.resign(ctx, id)
	if err != nil {
		return ServedStatusToken{}, err
	}
	return l.served(tok, now), nil
}

// stale says whether a cached token must be re-signed before it is served.
func (l *StatusLists) stale(id statuslist.ListID, read StatusListRead, now time.Time) bool {
	claims := statuslist.TokenClaims{ExpiresAt: read.Token.ExpiresAt}
	return read.Token.Version < read.ListVersion || claims.NeedsReissue(now, l.cfg.ReissueMargin) ||
		read.Token.Subject != statuslist.URI(l.cfg.IssuerURL, id)
}

func (l *StatusLists) served(tok StoredStatusToken, now time.Time) ServedStatusToken {
	claims := statuslist.TokenClaims{TTL: tok.TTL, ExpiresAt: tok.ExpiresAt}
	return ServedStatusToken{Token: tok.Token, MaxAge: claims.MaxAge(now).Truncate(time.Second), Version: tok.Version}
}

// resign reads list id, signs its token once and caches it. When a newer token was cached meanwhile, that one
// is returned instead (this server's signature is dropped).
func (l *StatusLists) resign(ctx context.Context, id statuslist.ListID) (StoredStatusToken, error) {
	state, err := l.store.GetStatusList(ctx, id, l.cfg.Layout)
	if err != nil {
		return StoredStatusToken{}, fmt.Errorf("re-sign status list %s: %w", id, err)
	}
	now := l.rt.Now().Truncate(time.Second)
	claims, err := statuslist.NewClaims(state.List, statuslist.TokenOptions{URI: statuslist.URI(l.cfg.IssuerURL, id),
		Issuer: l.cfg.IssuerURL, IssuedAt: now, Validity: l.cfg.TokenValidity, TTL: l.cfg.TokenTTL})
	if err != nil {
		return StoredStatusToken{}, fmt.Errorf("re-sign status list %s: %w", id, err)
	}
	token, err := statuslist.SignToken(ctx, l.signer, claims)
	if err != nil {
		return StoredStatusToken{}, fmt.Errorf("re-sign status list %s: %w", id, err)
	}
	tok := StoredStatusToken{Token: token, Version: state.Version, IssuedAt: claims.IssuedAt,
		ExpiresAt: claims.ExpiresAt, TTL: claims.TTL, Subject: claims.Subject}
	err = l.store.PutStatusListToken(ctx, id, tok)
	if errors.Is(err, exchange.ErrConflict) {
		read, rerr := l.store.GetStatusListToken(ctx, id)
		if rerr == nil && read.Token.Token != "" && read.Token.Version >= tok.Version && read.Token.Subject == tok.Subject {
			return read.Token, nil
		}
		return tok, nil // still a valid signature of what was read
	}
	if err != nil {
		return StoredStatusToken{}, fmt.Errorf("re-sign status list %s: cache the token: %w", id, err)
	}
	return tok, nil
}

// StatusOf reads the current status of entry idx of this issuer's status list at uri, straight from the store
// (how the issuer checks its own credentials when a holder presents one: no token, no cache, no HTTP round trip).
// A uri that is not one of this issuer's lists is an error wrapping statuslist.ErrInvalidListID.
func (l *StatusLists) StatusOf(ctx context.Context, uri string, idx int) (statuslist.Status, error) {
	id, err := statuslist.ParseURI(l.cfg.IssuerURL, uri)
	if err != nil {
		return 0, fmt.Errorf("status of a credential: %w", err)
	}
	st, err := l.store.GetStatusList(ctx, id, l.cfg.Layout)
	if err != nil {
		return 0, fmt.Errorf("status of a credential: %w", err)
	}
	s, err := st.List.Get(idx)
	if err != nil {
		return 0, fmt.Errorf("status of a credential: %w", err)
	}
	return s, nil
}
