// Package handlers turns API Gateway proxy events into issuance calls: one router constructor per Lambda
// function (Definitions, Issue, Status, DeferredIssue, and the wallet functions), the dependencies they share,
// built once per cold start (Deps), and the registry of Lambda handlers by the template's logical IDs.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/admin"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/delivery"
	"github.com/sdjwt-issuer/issuer/shared/events"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/issuercert"
	"github.com/sdjwt-issuer/issuer/shared/issuerdoc"
	"github.com/sdjwt-issuer/issuer/shared/platform"
	"github.com/sdjwt-issuer/issuer/shared/store"
	"github.com/sdjwt-issuer/issuer/shared/wallettrust"
)

// AdminBase is the base path of every admin route.
const AdminBase = "/v2/config/digital-wallet/openid/sdjwt"

// Deps are the dependencies of the handlers, built once per cold start. Building them makes no AWS call: the
// store and the publisher only wrap the clients, and signing (wallet functions) is set up lazily by them.
type Deps struct {
	// Config is the function's configuration.
	Config config.Config
	// Clients are the AWS clients (nil in tests that pass Store and Events directly).
	Clients *platform.Clients
	// Log is the structured logger of request lines and warnings.
	Log *slog.Logger
	// APIKeys are the accepted admin API key hashes.
	APIKeys *apigw.APIKeys
	// Store is the DynamoDB adapter.
	Store *store.Store
	// Events publishes the events the publisher function derives from the table's stream (EventBridge, or the
	// log when no bus is configured). The other functions publish nothing: their writes are the events' source.
	Events events.Publisher
	// Issuance runs the use cases.
	Issuance *admin.Service
	// Now is the clock.
	Now func() time.Time
	// WalletTrust are the wallet providers trusted for client and key attestations (WALLET_TRUST_ANCHORS).
	WalletTrust *wallettrust.Anchors
	// IssuerTrust are the credential issuers trusted for presentations (ISSUER_TRUST_ANCHORS).
	IssuerTrust *wallettrust.Anchors
	// IssuerDocs fetches other issuers' keys and status lists for presentations, through the same SSRF-safe HTTP
	// client as offer delivery (one per container, with its cache).
	IssuerDocs *issuerdoc.Client
}

// options collects NewDeps options before the dependencies are built.
type options struct {
	log     *slog.Logger
	events  events.Publisher
	http    delivery.HTTPDoer
	now     func() time.Time
	timeout time.Duration
}

// Option configures NewDeps.
type Option func(*options)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithEvents replaces the publisher function's publisher chosen from the configuration (tests read events back).
func WithEvents(p events.Publisher) Option { return func(o *options) { o.events = p } }

// WithHTTPDoer sets the client that delivers offers to wallet endpoints.
func WithHTTPDoer(d delivery.HTTPDoer) Option { return func(o *options) { o.http = d } }

// WithClock sets the clock of the use cases and of the store's expiry checks.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithDeliveryTimeout bounds the delivery of an offer to a wallet endpoint.
func WithDeliveryTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// NewDeps builds the dependencies from the configuration and the clients of platform.New.
func NewDeps(_ context.Context, cfg config.Config, clients *platform.Clients, opts ...Option) (*Deps, error) {
	if clients == nil || clients.DynamoDB == nil {
		return nil, errors.New("build handler dependencies: AWS clients are required")
	}
	o := options{log: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	keys, err := apigw.NewAPIKeys(cfg.AdminAPIKeyHashes...)
	if err != nil {
		return nil, fmt.Errorf("build handler dependencies: %w", err)
	}
	trust, err := loadTrust(o.log, cfg.WalletTrustAnchors, wallettrust.WalletProviders)
	if err != nil {
		return nil, err
	}
	issuerTrust, err := loadTrust(o.log, cfg.IssuerTrustAnchors, wallettrust.CredentialIssuers)
	if err != nil {
		return nil, err
	}
	st, err := store.New(clients.DynamoDB, cfg.TableName, store.WithClock(o.now))
	if err != nil {
		return nil, fmt.Errorf("build handler dependencies: %w", err)
	}
	pub := o.events
	if pub == nil {
		if pub, err = publisherOf(cfg.EventBusName, cfg.EventSource, clients, o.log); err != nil {
			return nil, fmt.Errorf("build handler dependencies: %w", err)
		}
	}
	httpDoer := o.http
	if httpDoer == nil {
		timeout := o.timeout
		if timeout <= 0 {
			timeout = delivery.DefaultTimeout
		}
		httpDoer = delivery.NewHTTPClient(timeout, admin.IsLocalIssuer(cfg.IssuerURL))
	}
	deliverer, err := delivery.New(httpDoer, o.timeout)
	if err != nil {
		return nil, fmt.Errorf("build handler dependencies: %w", err)
	}
	docs, err := issuerdoc.New(httpDoer, issuerdoc.DefaultTimeout, o.now)
	if err != nil {
		return nil, fmt.Errorf("build handler dependencies: %w", err)
	}
	country, err := documentSignerCountry(cfg.Trust.IssuerCertChain)
	if err != nil {
		return nil, err
	}
	svc, err := admin.New(admin.Config{IssuerURL: cfg.IssuerURL, Retention: cfg.Retention(), OfferValidity: cfg.OfferValidity(),
		DocumentSignerCountry: country},
		admin.Deps{Store: st, Deliverer: deliverer},
		exchange.WithClock(o.now), exchange.WithLogger(o.log))
	if err != nil {
		return nil, fmt.Errorf("build handler dependencies: %w", err)
	}
	return &Deps{Config: cfg, Clients: clients, Log: o.log, APIKeys: keys, Store: st, Events: pub, Issuance: svc,
		Now: o.now, WalletTrust: trust, IssuerTrust: issuerTrust, IssuerDocs: docs}, nil
}

// loadTrust loads the trust files of a party and logs what is trusted (never key material).
func loadTrust(log *slog.Logger, paths []string, party wallettrust.Party) (*wallettrust.Anchors, error) {
	trust, err := wallettrust.LoadFor(paths, party)
	if err != nil {
		return nil, fmt.Errorf("build handler dependencies: %s: %w", party.Env, err)
	}
	if !trust.Empty() {
		log.Info("trust anchors loaded", "variable", party.Env, "trusted", trust.Summary())
	}
	for _, warning := range trust.Warnings() {
		log.Warn("trust anchor", "variable", party.Env, "warning", warning)
	}
	return trust, nil
}

// publisherOf is the publisher to bus with source, or the log when bus is empty.
func publisherOf(bus, source string, clients *platform.Clients, log *slog.Logger) (events.Publisher, error) {
	if bus == "" {
		return events.NewLog(log, 0), nil
	}
	return events.NewEventBridge(clients.EventBridge, bus, source)
}

// router builds an empty router of a function with the shared logger and API keys.
func (d *Deps) router(name string, opts ...apigw.RouterOption) *apigw.Router {
	return apigw.NewRouter(name, append([]apigw.RouterOption{apigw.WithLogger(d.Log), apigw.WithAPIKeys(d.APIKeys),
		apigw.WithHSTS(strings.HasPrefix(d.Config.IssuerURL, "https://"))}, opts...)...)
}

// walletRouter is router for the functions wallets and web verifiers call cross-origin (public documents and
// wallet endpoints): their answers carry CORS headers.
func (d *Deps) walletRouter(name string) *apigw.Router { return d.router(name, apigw.WithCORS(true)) }

// documentSignerCountry is the countryName (C) of the leaf of the configured chain, which an mDL's issuing_country
// must equal (admin.Config.DocumentSignerCountry); "" without a chain or without one country.
func documentSignerCountry(chainPEM []byte) (string, error) {
	if len(chainPEM) == 0 {
		return "", nil
	}
	chain, err := issuercert.ParsePEM(chainPEM)
	if err != nil {
		return "", fmt.Errorf("build handler dependencies: %s: %w", config.EnvIssuerCertChain, err)
	}
	if c := chain.Leaf().Subject.Country; len(c) == 1 {
		return c[0], nil
	}
	return "", nil
}
