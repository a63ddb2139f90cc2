package wallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/definition"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/sdjwt"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// Store is everything the wallet (OID4VCI) use cases need from storage. Single use of codes, nonces and
// transaction ids rests on UpdateExchange consuming their pointers in the same transaction as the record write.
type Store interface {
	// GetPointer returns the pointer item stored under key, or ErrNotFound (also once it has expired).
	GetPointer(ctx context.Context, key string) (exchange.Pointer, error)
	// PutPointer stores a pointer of no exchange write (a c_nonce of the nonce endpoint); ErrAlreadyExists.
	PutPointer(ctx context.Context, p exchange.Pointer) error
	// GetExchange returns a record or ErrNotFound (also when its retention has passed).
	GetExchange(ctx context.Context, id string) (exchange.Record, error)
	// UpdateExchange writes rec under expect's condition with ops in the same transaction (see ExchangeStore).
	UpdateExchange(ctx context.Context, rec exchange.Record, expect exchange.Expect, ops ...exchange.PointerOp) error
	// ListDefinitions lists definitions newest first (the metadata pages through all of them).
	ListDefinitions(ctx context.Context, page exchange.PageRequest) (exchange.Page[definition.Definition], error)
	// ListDynamicConfigurations lists the unexpired dynamic configurations.
	ListDynamicConfigurations(ctx context.Context) ([]definition.DynamicConfiguration, error)
	// GetDefinition returns a definition or ErrNotFound (wallet-initiated issuance names one).
	GetDefinition(ctx context.Context, id string) (definition.Definition, error)
	// CreateExchange stores a new record (a wallet-initiated exchange), consuming the pointers consume names in
	// the same transaction (its authorization session: one session, one exchange).
	CreateExchange(ctx context.Context, rec exchange.Record, pointers []exchange.Pointer, consume ...string) error
	// WritePointers applies pointer changes of no exchange write in one transaction: a consumed pointer must exist
	// unexpired (else ErrConflict wrapping *exchange.PointerGoneError), a put one must not exist.
	WritePointers(ctx context.Context, ops ...exchange.PointerOp) error
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
	AllocateStatus(ctx context.Context, rec *exchange.Record) (*sdjwt.StatusReference, error)
}

// Defaults of Config.
const (
	DefaultAccessTokenTTL         = 15 * time.Minute
	DefaultDeferredAccessTokenTTL = 24 * time.Hour
	DefaultNonceTTL               = 5 * time.Minute
	DefaultMaxTxCodeAttempts      = 5
	DefaultBatchSize              = 10
	DefaultDeferredInterval       = 60
	// MaxBatchSize bounds Config.BatchSize: one KMS Sign per credential.
	MaxBatchSize = 20
)

// TxCodeAttemptsExhaustedReason is the issuanceDeniedReason of an exchange whose pre-authorized code died after
// too many wrong tx_code submissions.
const TxCodeAttemptsExhaustedReason = "too many wrong tx_code attempts: the pre-authorized code is no longer valid; issue a new offer"

// Config is what the wallet use cases need from the deployment.
type Config struct {
	// IssuerURL is the credential issuer identifier, byte for byte (proof aud, credential iss, metadata).
	IssuerURL string
	// AccessTokenTTL is the lifetime of access tokens of InTime exchanges; zero: DefaultAccessTokenTTL.
	AccessTokenTTL time.Duration
	// DeferredAccessTokenTTL is the lifetime of access tokens of Deferred exchanges, long enough for the
	// deferred wait; zero: DefaultDeferredAccessTokenTTL.
	DeferredAccessTokenTTL time.Duration
	// NonceTTL is the lifetime of a c_nonce; zero: DefaultNonceTTL.
	NonceTTL time.Duration
	// NonceKey is the AES-256 key of stateless c_nonces (exchange.CNonces), shared by every function of the
	// deployment (NONCE_KEY); nil: a random key of this process, so that only this process accepts its nonces.
	NonceKey []byte
	// MaxTxCodeAttempts is how many wrong tx_codes kill a pre-authorized code; zero: DefaultMaxTxCodeAttempts.
	MaxTxCodeAttempts int
	// BatchSize is the advertised batch_size: the most proofs (and credentials) per request; zero:
	// DefaultBatchSize, capped at MaxBatchSize.
	BatchSize int
	// DeferredInterval is the interval (seconds) a deferred answer asks the wallet to wait; zero:
	// DefaultDeferredInterval.
	DeferredInterval int
	// TxCodeDescription is the tx_code description of offers; empty: a generic English sentence.
	TxCodeDescription string
	// ResponseEncryptionRequired makes every credential and deferred credential request ask for an encrypted
	// response (credential_response_encryption); a definition's encryptionRequired does so for its own.
	ResponseEncryptionRequired bool
	// RequireDPoP is the deployment default of a definition's requireDpop (false: bearer tokens allowed).
	RequireDPoP bool
	// DPoPAlgs are the accepted DPoP proof algorithms; jwtverify.DefaultAlgs when empty.
	DPoPAlgs []string
	// ClientAttestationMaxLifetime is the longest client attestation lifetime accepted
	// (CLIENT_ATTESTATION_MAX_LIFETIME_HOURS); zero: clientattest.DefaultMaxLifetime.
	ClientAttestationMaxLifetime time.Duration
	// AuthorizationCodeFlow holds the authorization code flow's lifetimes and defaults.
	AuthorizationCodeFlow
}

// AuthorizationCodeFlow is the authorization code flow's part of Config.
type AuthorizationCodeFlow struct {
	// PushedRequestTTL is how long a request_uri of the PAR endpoint works; zero: DefaultPushedRequestTTL.
	PushedRequestTTL time.Duration
	// AuthorizationSessionTTL is how long the holder has to answer the authentication request; zero:
	// DefaultAuthorizationSessionTTL.
	AuthorizationSessionTTL time.Duration
	// AuthorizationCodeTTL is how long an authorization code can be redeemed; zero: DefaultAuthorizationCodeTTL.
	AuthorizationCodeTTL time.Duration
	// Retention is how long a wallet-initiated exchange is kept (RETENTION_DAYS); zero: 30 days.
	Retention time.Duration
	// HolderAuthentication is the deployment's holder authentication of offers whose definition names none
	// (HOLDER_AUTHENTICATION: definition.HolderAuthIDToken, the default, or definition.HolderAuthIssuerState).
	HolderAuthentication string
}

// withDefaults applies the defaults of the authorization code flow.
func (a *AuthorizationCodeFlow) withDefaults() {
	if a.PushedRequestTTL <= 0 {
		a.PushedRequestTTL = DefaultPushedRequestTTL
	}
	if a.AuthorizationSessionTTL <= 0 {
		a.AuthorizationSessionTTL = DefaultAuthorizationSessionTTL
	}
	if a.AuthorizationCodeTTL <= 0 {
		a.AuthorizationCodeTTL = DefaultAuthorizationCodeTTL
	}
	if a.Retention <= 0 {
		a.Retention = 30 * 24 * time.Hour
	}
	if a.HolderAuthentication == "" {
		a.HolderAuthentication = definition.HolderAuthIDToken
	}
}

// Deps are the ports of the wallet use cases.
type Deps struct {
	// Store keeps exchanges, pointers, definitions and dynamic configurations (required).
	Store Store
	// Signer is the issuer's credential signing key (required).
	Signer CredentialSigner
	// StatusAllocator adds a status list reference to every credential of revocable exchanges; nil: credentials
	// carry no status claim.
	StatusAllocator StatusAllocator
	// MdocIssuer signs mdocs; nil: the Signer with a self-signed document signer certificate, made on the first
	// mdoc (mdoc.SelfSignedIssuer).
	MdocIssuer MdocIssuer
	// HolderAuthenticators are holder authentications of the authorization endpoint besides the ID token (an
	// OpenID4VP presentation), by Method.
	HolderAuthenticators []HolderAuthenticator
	// Trust are the wallet providers whose client and key attestations are accepted; nil trusts none.
	Trust *wallettrust.Anchors
	// DPoPNonces issues and checks DPoP server nonces; nil: DPoP proofs need no nonce.
	DPoPNonces *dpop.Nonces
	// Replay remembers the jti of DPoP proofs and client attestation PoPs within their window; nil: a memory of
	// this process (jwtverify.MemoryReplayCache).
	Replay jwtverify.ReplayCache
}

// Service runs the wallet use cases (offer by reference, token, nonce, credential, deferred credential,
// notification, metadata) over its ports.
type Service struct {
	cfg        Config
	store      Store
	signer     CredentialSigner
	status     StatusAllocator
	mdoc       MdocIssuer
	rt         exchange.Runtime
	nonces     *exchange.CNonces
	trust      *wallettrust.Anchors
	dpopNonces *dpop.Nonces
	replay     jwtverify.ReplayCache
	// authenticators are the holder authentications of the authorization endpoint, by method.
	authenticators map[string]HolderAuthenticator
}

// New builds the wallet service; the issuer URL, the store and the signer are required.
func New(cfg Config, deps Deps, opts ...exchange.Option) (*Service, error) {
	if deps.Store == nil {
		return nil, errors.New("new wallet service: store is required")
	}
	if deps.Signer == nil {
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
	if cfg.NonceKey == nil {
		cfg.NonceKey = make([]byte, exchange.CNonceKeyBytes)
		if _, err := rand.Read(cfg.NonceKey); err != nil {
			return nil, fmt.Errorf("new wallet service: c_nonce key: %w", err)
		}
	}

	if cfg.MaxTxCodeAttempts <= 0 {
		cfg.MaxTxCodeAttempts = DefaultMaxTxCodeAttempts
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	cfg.BatchSize = min(cfg.BatchSize, MaxBatchSize)
	if cfg.DeferredInterval <= 0 {
		cfg.DeferredInterval = DefaultDeferredInterval
	}
	if cfg.TxCodeDescription == "" {
		cfg.TxCodeDescription = "Enter the transaction code you received from the issuer"
	}
	mdocIssuer := deps.MdocIssuer
	if mdocIssuer == nil {
		mdocIssuer = defaultMdocIssuer(deps.Signer, cfg.IssuerURL)
	}
	rt := exchange.NewRuntime(opts...)
	nonces, err := exchange.NewCNonces(cfg.NonceKey, rt.Random())
	if err != nil {
		return nil, fmt.Errorf("new wallet service: %w", err)
	}
	replay := deps.Replay
	if replay == nil {
		replay = jwtverify.NewMemoryReplayCache(0)
	}
	trust := deps.Trust
	if trust == nil {
		trust = &wallettrust.Anchors{}
	}
	cfg.AuthorizationCodeFlow.withDefaults()
	svc := &Service{cfg: cfg, store: deps.Store, signer: deps.Signer, status: deps.StatusAllocator,
		mdoc: mdocIssuer, rt: rt, nonces: nonces, authenticators: map[string]HolderAuthenticator{},
		trust: trust, dpopNonces: deps.DPoPNonces, replay: replay}
	for _, a := range append([]HolderAuthenticator{idTokenAuthenticator{svc}}, deps.HolderAuthenticators...) {
		svc.authenticators[a.Method()] = a
	}
	return svc, nil
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }
