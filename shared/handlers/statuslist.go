package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/keys"
	"github.com/sdjwt-issuer/issuer/shared/revocation"
	"github.com/sdjwt-issuer/issuer/shared/statuslist"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// RouteStatusList is the status list token route of the MetadataFunction (the `uri` of credentials' status).
const RouteStatusList = statuslist.StatusListsPath + "{statusListId}"

// StatusListRoutes holds the status list use cases of one container: the revocation status route
// (StatusFunction), the status list token route (MetadataFunction) and the allocator of the credential
// endpoint. The signing key is set up on first use (one GetPublicKey per container) and only by the routes that
// sign; when it cannot be set up, a change is still stored and its token is signed by a later request.
type StatusListRoutes struct {
	deps      *Deps
	cfg       revocation.Config
	newSigner func(ctx context.Context) (statuslist.Signer, error)

	mu      sync.Mutex
	signer  statuslist.Signer
	signing *revocation.StatusLists
	plain   *revocation.StatusLists
}

// StatusListOption configures NewStatusListRoutes.
type StatusListOption func(*StatusListRoutes)

// WithStatusListSigner sets the key that signs status list tokens instead of the configuration's KMS key.
func WithStatusListSigner(s statuslist.Signer) StatusListOption {
	return func(r *StatusListRoutes) { r.signer = s }
}

// WithStatusListConfig sets the layout and token lifetimes (the issuer URL always comes from Deps).
func WithStatusListConfig(cfg revocation.Config) StatusListOption {
	return func(r *StatusListRoutes) { r.cfg = cfg }
}

// NewStatusListRoutes builds the status list routes over d. It makes no AWS call.
func NewStatusListRoutes(d *Deps, opts ...StatusListOption) *StatusListRoutes {
	r := &StatusListRoutes{deps: d}
	r.newSigner = func(ctx context.Context) (statuslist.Signer, error) {
		return newIssuerKey(ctx, d)
	}
	for _, o := range opts {
		o(r)
	}
	r.cfg.IssuerURL = d.Config.IssuerURL
	return r
}

// Allocator returns the status list allocator of the credential endpoint (it never signs).
func (r *StatusListRoutes) Allocator() (wallet.StatusAllocator, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plainLocked()
}

func (r *StatusListRoutes) plainLocked() (*revocation.StatusLists, error) {
	if r.plain == nil {
		svc, err := r.build(nil)
		if err != nil {
			return nil, err
		}
		r.plain = svc
	}
	return r.plain, nil
}

// service returns the use cases with the signing key, or without it (logged) while it cannot be set up.
func (r *StatusListRoutes) service(ctx context.Context) (*revocation.StatusLists, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.signing != nil {
		return r.signing, nil
	}
	if r.signer == nil {
		s, err := r.newSigner(ctx)
		if err != nil {
			r.deps.Log.WarnContext(ctx, "status list signing key unavailable", slog.String("error", err.Error()))
			return r.plainLocked()
		}
		r.signer = s
	}
	svc, err := r.build(r.signer)
	if err != nil {
		return nil, err
	}
	r.signing = svc
	return svc, nil
}

func (r *StatusListRoutes) build(signer statuslist.Signer) (*revocation.StatusLists, error) {
	if r.deps.Store == nil {
		return nil, errors.New("build status lists: no store")
	}
	opts := []exchange.Option{exchange.WithLogger(r.deps.Log)}
	if r.deps.Now != nil {
		opts = append(opts, exchange.WithClock(r.deps.Now))
	}
	deps := revocation.Deps{Store: r.deps.Store}
	if signer != nil {
		deps.Signer = signer
	}
	svc, err := revocation.New(r.cfg, deps, opts...)
	if err != nil {
		return nil, fmt.Errorf("build status lists: %w", err)
	}
	return svc, nil
}

// RegisterStatusList adds GET /status-lists/{statusListId} to r (MetadataFunction).
func (r *StatusListRoutes) RegisterStatusList(rt *apigw.Router) {
	rt.Handle(http.MethodGet, RouteStatusList, apigw.Public, r.statusListToken)
}

// statusListToken serves a list's signed token as application/statuslist+jwt with Cache-Control max-age (the
// token's ttl, cut at its exp) and a strong ETag (If-None-Match answers 304). It never signs per request: the
// use case signs only a changed or expiring list, one server at a time.
func (r *StatusListRoutes) statusListToken(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id, err := apigw.PathParam(req, "statusListId")
	if err != nil {
		return apigw.Response{}, err
	}
	svc, err := r.service(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	tok, err := svc.StatusListToken(ctx, id)
	switch {
	case errors.Is(err, exchange.ErrNotFound):
		return apigw.Response{}, apigw.NotFound("no such status list; use the uri of a credential's status claim")
	case errors.Is(err, keys.ErrUnavailable) || errors.Is(err, revocation.ErrStatusSigningUnavailable):
		e := apigw.Wrap(err, http.StatusServiceUnavailable, "temporarily_unavailable",
			"the status list cannot be signed right now; retry later")
		e.Headers = map[string]string{"Retry-After": "5"}
		return apigw.Response{}, e
	case err != nil:
		return apigw.Response{}, err
	}
	sum := sha256.Sum256([]byte(tok.Token))
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	headers := []string{"Cache-Control", "public, max-age=" + strconv.Itoa(int(tok.MaxAge/time.Second)), "ETag", etag}
	if etagMatches(apigw.Header(req, "If-None-Match"), etag) {
		resp := apigw.Raw(http.StatusNotModified, statuslist.MediaType, "", headers...)
		delete(resp.Headers, "Content-Type")
		return resp, nil
	}
	return apigw.Raw(http.StatusOK, statuslist.MediaType, tok.Token, headers...), nil
}

// statusListRoutes builds the status list routes of the wallet functions, signing with the wallet's key when one
// was given (WithWalletSigner), else with the configuration's KMS key as the wallet does. It reads w.signer
// without the lock: it runs while building the routers or under w.mu.
func (w *Wallet) statusListRoutes() *StatusListRoutes {
	var opts []StatusListOption
	if w.signer != nil {
		opts = append(opts, WithStatusListSigner(w.signer))
	}
	return NewStatusListRoutes(w.deps, opts...)
}
