package issuance

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
)

// WalletStore is everything the wallet (OID4VCI) use cases need from storage. Single use of codes, nonces and
// transaction ids rests on UpdateExchange consuming their pointers in the same transaction as the record write.
type WalletStore interface {
	// GetPointer returns the pointer item stored under key, or ErrNotFound (also once it has expired).
	GetPointer(ctx context.Context, key string) (Pointer, error)
	// PutPointer stores a pointer of no exchange write (a c_nonce of the nonce endpoint); ErrAlreadyExists.
	PutPointer(ctx context.Context, p Pointer) error
	// GetExchange returns a record or ErrNotFound (also when its retention has passed).
	GetExchange(ctx context.Context, id string) (ExchangeRecord, error)
	// UpdateExchange writes rec under expect's condition with ops in the same transaction (see ExchangeStore).
	UpdateExchange(ctx context.Context, rec ExchangeRecord, expect Expect, ops ...PointerOp) error
	// ListDefinitions lists definitions newest first (the metadata pages through all of them).
	ListDefinitions(ctx context.Context, page PageRequest) (Page[CredentialDefinition], error)
	// ListDynamicConfigurations lists the unexpired dynamic configurations.
	ListDynamicConfigurations(ctx context.Context) ([]DynamicConfiguration, error)
}

// PointerGoneError is why an UpdateExchange was refused when a pointer it consumes was gone: used, expired or
// of another exchange. The store wraps it with ErrConflict (errors.Is(err, ErrConflict) holds). Its message
// names only the pointer kind, never the key (a hash of a secret).
type PointerGoneError struct {
	// Key is the pointer's key, PointerKey(kind, secret).
	Key string
}

// Error implements error.
func (e *PointerGoneError) Error() string {
	return e.Kind() + " pointer used, expired or of another exchange"
}

// Kind is the pointer kind of Key (PointerNonce, PointerCode, ...).
func (e *PointerGoneError) Kind() string {
	kind, _, _ := strings.Cut(e.Key, "#")
	return kind
}

// CredentialSigner is the issuer's signing key: sdjwt signs through it and its public JWK (kid = the
// credential header's kid) is published at /.well-known/jwt-vc-issuer. shared/keys implements it.
type CredentialSigner interface {
	sdjwt.Signer
	// PublicJWK is the public key with kid, as published.
	PublicJWK() jwk.Key
}

// StatusAllocator reserves a Token Status List entry for a credential about to be issued (issue 6). Without
// one, credentials carry no status claim; with one, every credential of an exchange whose definition supports
// revocation gets the reference it returns.
type StatusAllocator interface {
	// AllocateStatus returns the status reference of the next credential of rec.
	AllocateStatus(ctx context.Context, rec *ExchangeRecord) (*sdjwt.StatusReference, error)
}

// Defaults of WalletConfig.
const (
	DefaultAccessTokenTTL         = 15 * time.Minute
	DefaultDeferredAccessTokenTTL = 24 * time.Hour
	DefaultNonceTTL               = 5 * time.Minute
	DefaultMaxTxCodeAttempts      = 5
	DefaultBatchSize              = 10
	DefaultWalletDeferredInterval = 60
	// MaxBatchSize bounds WalletConfig.BatchSize: one KMS Sign per credential.
	MaxBatchSize = 20
)

// TxCodeAttemptsExhaustedReason is the issuanceDeniedReason of an exchange whose pre-authorized code died after
// too many wrong tx_code submissions.
const TxCodeAttemptsExhaustedReason = "too many wrong tx_code attempts: the pre-authorized code is no longer valid; issue a new offer"

// WalletConfig is what the wallet use cases need from the deployment.
type WalletConfig struct {
	// IssuerURL is the credential issuer identifier, byte for byte (proof aud, credential iss, metadata).
	IssuerURL string
	// AccessTokenTTL is the lifetime of access tokens of InTime exchanges; zero: DefaultAccessTokenTTL.
	AccessTokenTTL time.Duration
	// DeferredAccessTokenTTL is the lifetime of access tokens of Deferred exchanges, long enough for the
	// deferred wait; zero: DefaultDeferredAccessTokenTTL.
	DeferredAccessTokenTTL time.Duration
	// NonceTTL is the lifetime of a c_nonce; zero: DefaultNonceTTL.
	NonceTTL time.Duration
	// MaxTxCodeAttempts is how many wrong tx_codes kill a pre-authorized code; zero: DefaultMaxTxCodeAttempts.
	MaxTxCodeAttempts int
	// BatchSize is the advertised batch_size: the most proofs (and credentials) per request; zero:
	// DefaultBatchSize, capped at MaxBatchSize.
	BatchSize int
	// DeferredInterval is the interval (seconds) a deferred answer asks the wallet to wait; zero:
	// DefaultWalletDeferredInterval.
	DeferredInterval int
	// TxCodeDescription is the tx_code description of offers; empty: a generic English sentence.
	TxCodeDescription string
}

// WalletService runs the wallet use cases (offer by reference, token, nonce, credential, deferred credential,
// notification, metadata) over its ports.
type WalletService struct {
	cfg    WalletConfig
	store  WalletStore
	signer CredentialSigner
	status StatusAllocator
	events EventPublisher
	now    func() time.Time
	rand   io.Reader
	log    *slog.Logger
}

// WalletOption configures a WalletService.
type WalletOption func(*WalletService)

// WithWalletClock sets the clock (tests).
func WithWalletClock(now func() time.Time) WalletOption {
	return func(s *WalletService) { s.now = now }
}

// WithWalletRandom sets the source of secrets (tests); production uses crypto/rand.
func WithWalletRandom(r io.Reader) WalletOption { return func(s *WalletService) { s.rand = r } }

// WithWalletEvents sets the publisher of status changes.
func WithWalletEvents(p EventPublisher) WalletOption { return func(s *WalletService) { s.events = p } }

// WithWalletLogger sets the logger (which never receives claim values or secrets).
func WithWalletLogger(l *slog.Logger) WalletOption { return func(s *WalletService) { s.log = l } }

// WithStatusAllocator adds a status list reference to every credential of revocable exchanges.
func WithStatusAllocator(a StatusAllocator) WalletOption {
	return func(s *WalletService) { s.status = a }
}

// NewWalletService builds the wallet service; the issuer URL, the store and the signer are required.
func NewWalletService(cfg WalletConfig, store WalletStore, signer CredentialSigner, opts ...WalletOption) (*WalletService, error) {
	if store == nil {
		return nil, errors.New("new wallet service: store is required")
	}
	if signer == nil {
		return nil, errors.New("new wallet service: signer is required")
	}
	cfg.IssuerURL = strings.TrimRight(cfg.IssuerURL, "/")
	if cfg.IssuerURL == "" {
		return nil, errors.New("new wallet service: issuer URL is required")
	}
	if cfg.AccessTokenTTL <= 0 {
		cfg.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if cfg.DeferredAccessTokenTTL <= 0 {
		cfg.DeferredAccessTokenTTL = DefaultDeferredAccessTokenTTL
	}
	if cfg.NonceTTL <= 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.MaxTxCodeAttempts <= 0 {
		cfg.MaxTxCodeAttempts = DefaultMaxTxCodeAttempts
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	cfg.BatchSize = min(cfg.BatchSize, MaxBatchSize)
	if cfg.DeferredInterval <= 0 {
		cfg.DeferredInterval = DefaultWalletDeferredInterval
	}
	if cfg.TxCodeDescription == "" {
		cfg.TxCodeDescription = "Enter the transaction code you received from the issuer"
	}
	s := &WalletService{cfg: cfg, store: store, signer: signer, now: time.Now, rand: rand.Reader, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Config returns the effective configuration (defaults applied).
func (s *WalletService) Config() WalletConfig { return s.cfg }

// publish sends the status event of rec; a failure is logged (type and id only) and does not undo the change.
func (s *WalletService) publish(ctx context.Context, rec *ExchangeRecord) {
	if s.events == nil {
		return
	}
	e := StatusEvent(rec, s.now())
	if err := s.events.Publish(ctx, e); err != nil {
		s.log.WarnContext(ctx, "publish status event failed", slog.String("detail_type", e.DetailType),
			slog.String("credential_exchange_id", e.ExchangeID), slog.String("error", err.Error()))
	}
}
