package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/oid4vci"
	"github.com/sdjwt-issuer/issuer/shared/wallet"
)

// Routes of the MetadataFunction served here (GET /status-lists/{statusListId} belongs to the status list
// handlers).
const (
	RouteCredentialIssuerMetadata = "/.well-known/" + oid4vci.WellKnownCredentialIssuer
	RouteAuthorizationServer      = "/.well-known/" + oid4vci.WellKnownAuthorizationServer
	RouteJWTVCIssuer              = "/.well-known/" + oid4vci.WellKnownJWTVCIssuer
	RouteCredentialOffer          = "/credential-offer/{offerId}"
)

// cachedDocument is a well-known document as served: body, strong ETag and when it was built.
type cachedDocument struct {
	body  []byte
	etag  string
	built time.Time
	// configurations are the credential configuration ids of the credential issuer metadata (nil for the other
	// documents), so that an offer naming one it lacks can drop it (forgetStaleMetadata).
	configurations map[string]bool
}

// Metadata is the router of the MetadataFunction's wallet routes: the three well-known documents (cached per
// container for the metadata TTL, with Cache-Control max-age and ETag / If-None-Match -> 304) and credential
// offers by reference (never cached).
func Metadata(w *Wallet) *apigw.Router {
	r := w.deps.router("metadata")
	w.RegisterMetadata(r)
	w.statusListRoutes().RegisterStatusList(r)
	return r
}

// RegisterMetadata adds the wallet routes of the MetadataFunction to r (the function's router also serves the
// status list tokens).
func (w *Wallet) RegisterMetadata(r *apigw.Router) {
	r.Handle(http.MethodGet, RouteCredentialIssuerMetadata, apigw.Public, w.document(false,
		func(ctx context.Context, s *wallet.Service) (any, error) { return s.IssuerMetadata(ctx) }))
	r.Handle(http.MethodGet, RouteAuthorizationServer, apigw.Public, w.document(false,
		func(_ context.Context, s *wallet.Service) (any, error) {
			return s.AuthorizationServerMetadata()
		}))
	r.Handle(http.MethodGet, RouteJWTVCIssuer, apigw.Public, w.document(true,
		func(_ context.Context, s *wallet.Service) (any, error) { return s.JWTVCIssuerMetadata() }))
	r.Handle(http.MethodGet, RouteCredentialOffer, apigw.Public, w.credentialOffer)
}

// document serves one well-known document from the container's cache, rebuilding it when older than the TTL.
func (w *Wallet) document(needsKey bool, build func(context.Context, *wallet.Service) (any, error)) apigw.HandlerFunc {
	return func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		doc, err := w.cachedDocument(ctx, req.Resource, needsKey, build)
		if err != nil {
			return apigw.Response{}, err
		}
		maxAge := int(w.metadataTTL / time.Second)
		headers := []string{"Cache-Control", "public, max-age=" + strconv.Itoa(maxAge), "ETag", doc.etag}
		if etagMatches(apigw.Header(req, "If-None-Match"), doc.etag) {
			r := apigw.Raw(http.StatusNotModified, "application/json", "", headers...)
			delete(r.Headers, "Content-Type")
			return r, nil
		}
		return apigw.Raw(http.StatusOK, "application/json", string(doc.body), headers...), nil
	}
}

func (w *Wallet) cachedDocument(ctx context.Context, key string, needsKey bool, build func(context.Context, *wallet.Service) (any, error)) (cachedDocument, error) {
	now := w.now()
	w.mu.Lock()
	doc, ok := w.cache[key]
	w.mu.Unlock()
	if ok && now.Sub(doc.built) < w.metadataTTL && now.Sub(doc.built) >= 0 {
		return doc, nil
	}
	svc, err := w.service(ctx, needsKey)
	if err != nil {
		return cachedDocument{}, err
	}
	v, err := build(ctx, svc)
	if err != nil {
		return cachedDocument{}, fmt.Errorf("build %s: %w", key, err)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return cachedDocument{}, fmt.Errorf("encode %s: %w", key, err)
	}
	sum := sha256.Sum256(body)
	doc = cachedDocument{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`, built: now}
	if md, ok := v.(*oid4vci.CredentialIssuerMetadata); ok {
		doc.configurations = make(map[string]bool, len(md.CredentialConfigurationsSupported))
		for id := range md.CredentialConfigurationsSupported {
			doc.configurations[id] = true
		}
	}
	w.mu.Lock()
	w.cache[key] = doc
	w.mu.Unlock()
	return doc, nil
}

// etagMatches applies If-None-Match (a list of entity tags, or *; weak comparison).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func (w *Wallet) credentialOffer(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	offerID, err := apigw.PathParam(req, "offerId")
	if err != nil {
		return apigw.Response{}, err
	}
	svc, err := w.service(ctx, false)
	if err != nil {
		return apigw.Response{}, err
	}
	offer, err := svc.FetchOffer(ctx, offerID)
	if errors.Is(err, exchange.ErrNotFound) {
		e := apigw.Errorf(http.StatusNotFound, "invalid_request", "no credential offer at this address: it is "+
			"unknown, expired or already redeemed; ask the issuer for a new offer")
		e.Headers = map[string]string{"Cache-Control": "no-store"}
		return apigw.Response{}, e
	}
	if err != nil {
		return apigw.Response{}, err
	}
	w.forgetStaleMetadata(offer.CredentialConfigurationIDs)
	return apigw.JSON(http.StatusOK, offer, "Cache-Control", "no-store")
}

// forgetStaleMetadata drops the cached credential issuer metadata when it lacks a configuration that an offer
// served by this container names. A wallet fetches the metadata right after the offer; a definition created (or
// a configuration first issued without one) after the document was cached must be in it then, not a TTL later,
// or the wallet fails on its first try. The offer and the metadata are served by the same function, so the
// container that answered the offer usually answers the metadata too.
func (w *Wallet) forgetStaleMetadata(configurationIDs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	doc, ok := w.cache[RouteCredentialIssuerMetadata]
	if !ok {
		return
	}
	for _, id := range configurationIDs {
		if !doc.configurations[id] {
			delete(w.cache, RouteCredentialIssuerMetadata)
			return
		}
	}
}
