package handlers

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/dpop"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/jwtverify"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/requestkeys"
	"github.com/sdjwt-issuer/issuer/shared/vpverify"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// DefaultMetadataTTL is how long a container serves its cached well-known documents before rebuilding them, so
// that new credential definitions appear within that time; it is also the documents' Cache-Control max-age.
const DefaultMetadataTTL = 30 * time.Second

// Wallet holds what the wallet functions' handlers share within one container: the wallet use cases, the
// signing key (set up on first use: GetPublicKey once per container, and only by the functions that sign) and
// the cache of the well-known documents.
type Wallet struct {
	deps        *Deps
	cfg         wallet.Config
	metadataTTL time.Duration
	now         func() time.Time

	// nonces and replay are shared by both services of the container: a nonce of one is good at the other, and a
	// proof seen by one is a replay at the other.
	nonces *dpop.Nonces
	replay jwtverify.ReplayCache

	mu        sync.Mutex
	signer    wallet.CredentialSigner
	newSigner func(ctx context.Context) (wallet.CredentialSigner, error)
	signing   *wallet.Service
	plain     *wallet.Service
	cache     map[string]cachedDocument
	// droppedFor is when the cached credential issuer metadata was last dropped for lacking a configuration an
	// offer names (forgetStaleMetadata), by configuration id; entries older than the metadata TTL are forgotten.
	droppedFor map[string]time.Time
	types      typeDocuments
	ring       *requestkeys.Ring

	// vpMu guards vpRing, the OpenID4VP response encryption keys (built while mu is held).
	vpMu   sync.Mutex
	vpRing *requestkeys.Ring
}

// WalletOption configures NewWallet.
type WalletOption func(*Wallet)

// WithWalletSigner sets the signing key instead of the KMS key of the configuration (tests, local runs).
func WithWalletSigner(s wallet.CredentialSigner) WalletOption {
	return func(w *Wallet) { w.signer = s }
}

// WithWalletConfig sets the wallet use cases' lifetimes and limits (the issuer URL always comes from Deps).
func WithWalletConfig(cfg wallet.Config) WalletOption {
	return func(w *Wallet) { w.cfg = cfg }
}

// WithMetadataTTL sets how long the well-known documents are cached (DefaultMetadataTTL when zero).
func WithMetadataTTL(d time.Duration) WalletOption {
	return func(w *Wallet) { w.metadataTTL = d }
}

// NewWallet builds the wallet functions' shared state over d. It makes no AWS call.
func NewWallet(d *Deps, opts ...WalletOption) *Wallet {
	w := &Wallet{deps: d, metadataTTL: DefaultMetadataTTL, now: d.Now, cache: map[string]cachedDocument{}}
	if w.now == nil {
		w.now = time.Now
	}
	w.newSigner = func(ctx context.Context) (wallet.CredentialSigner, error) {
		return newIssuerKey(ctx, d)
	}
	for _, o := range opts {
		o(w)
	}
	if w.metadataTTL <= 0 {
		w.metadataTTL = DefaultMetadataTTL
	}
	w.cfg.IssuerURL = d.Config.IssuerURL
	if w.cfg.NonceKey == nil {
		// Every wallet service of this process shares one c_nonce key: NONCE_KEY, else a random one (then only
		// this process accepts its nonces; the template always sets NONCE_KEY).
		w.cfg.NonceKey = d.Config.NonceKey
		if w.cfg.NonceKey == nil {
			w.cfg.NonceKey = make([]byte, exchange.CNonceKeyBytes)
			_, _ = rand.Read(w.cfg.NonceKey) // crypto/rand.Read never fails on supported platforms
		}
	}
	w.cfg.ResponseEncryptionRequired = w.cfg.ResponseEncryptionRequired || d.Config.Trust.ResponseEncryptionRequired
	w.cfg.RequireDPoP = d.Config.RequireDPoP
	w.cfg.ClientAttestationMaxLifetime = time.Duration(d.Config.ClientAttestationMaxLifetimeHours) * time.Hour
	w.cfg.Retention = d.Config.Retention()
	w.cfg.HolderAuthentication = d.Config.HolderAuthentication
	if len(d.Config.NonceKey) > 0 {
		// A derived key is 32 bytes: NewNonces cannot fail.
		w.nonces, _ = dpop.NewNonces(0, dpop.KeyFrom(d.Config.NonceKey))
	}
	w.replay = jwtverify.NewMemoryReplayCache(0)
	return w
}

// service returns the wallet use cases; withSigner sets up the signing key first (credential endpoints and the
// jwt-vc-issuer document). A failed set-up is not cached: the next request tries again.
func (w *Wallet) service(ctx context.Context, withSigner bool) (*wallet.Service, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.signing != nil {
		return w.signing, nil // a service with the key serves every use case
	}
	if !withSigner && w.signer == nil {
		if w.plain == nil {
			svc, err := w.build(noSigner{})
			if err != nil {
				return nil, err
			}
			w.plain = svc
		}
		return w.plain, nil
	}
	if w.signer == nil {
		s, err := w.newSigner(ctx)
		if err != nil {
			return nil, apigw.Wrap(fmt.Errorf("set up signing key: %w", err), http.StatusServiceUnavailable,
				oid4vci.ErrServerError, "the issuer's signing key is not available; retry later")
		}
		w.signer = s
	}
	svc, err := w.build(w.signer)
	if err != nil {
		return nil, err
	}
	w.signing = svc
	return svc, nil
}

func (w *Wallet) build(signer wallet.CredentialSigner) (*wallet.Service, error) {
	opts := []exchange.Option{exchange.WithClock(w.now), exchange.WithLogger(w.deps.Log)}
	alloc, err := w.statusListRoutes().Allocator()
	if err != nil {
		return nil, fmt.Errorf("build wallet service: %w", err)
	}
	deps := wallet.Deps{Store: w.deps.Store, Signer: signer, StatusAllocator: alloc,
		Trust: w.deps.WalletTrust, DPoPNonces: w.nonces, Replay: w.replay}
	if own, ok := alloc.(vpverify.OwnStatus); ok && signer != (noSigner{}) {
		// Only a service with the key asks for and verifies presentations: the request is signed with it, and this
		// issuer's own credentials are verified with its public key.
		step, err := w.presentationStep(signer, own)
		if err != nil {
			return nil, fmt.Errorf("build wallet service: %w", err)
		}
		if step != nil {
			deps.HolderAuthenticators = append(deps.HolderAuthenticators, step)
		}
	}
	svc, err := wallet.New(w.cfg, deps, opts...)
	if err != nil {
		return nil, fmt.Errorf("build wallet service: %w", err)
	}
	return svc, nil
}

// errNoAuthorization is the answer to a wallet request without an Authorization header: invalid_token in the body,
// a bare `Bearer` challenge in WWW-Authenticate.
var errNoAuthorization error = &noAuthorization{oauth: oid4vci.Errorf(oid4vci.ErrInvalidToken,
	"send the access token of the token endpoint as Authorization: Bearer <token>")}

// noAuthorization marks the oid4vci error of a request that carried no authentication at all.
type noAuthorization struct{ oauth *oid4vci.Error }

// Error is the OAuth error's text.
func (n *noAuthorization) Error() string { return n.oauth.Error() }

// Unwrap exposes the OAuth error for the answer's body.
func (n *noAuthorization) Unwrap() error { return n.oauth }

// errNoSigner is what signing through noSigner fails with.
var errNoSigner = errors.New("this function has no signing key")

// noSigner stands in for the signing key in the functions that never sign (token, notification, offers): any
// attempt to sign or publish a key fails cleanly.
type noSigner struct{}

// KeyID is empty: there is no key.
func (noSigner) KeyID() string { return "" }

// PublicJWK is nil: there is no key.
func (noSigner) PublicJWK() jwk.Key { return nil }

// CryptoSigner returns a signer that always fails.
func (noSigner) CryptoSigner(context.Context) crypto.Signer { return failingSigner{} }

// failingSigner is a crypto.Signer that always fails.
type failingSigner struct{}

// Public is nil: there is no key.
func (failingSigner) Public() crypto.PublicKey { return nil }

// Sign fails with errNoSigner.
func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errNoSigner
}
