package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
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
	// IssuerPathParam is the greedy path parameter of the path-inserted well-known routes below.
	IssuerPathParam = "issuerPath"
	// The same documents at the location OpenID4VCI 1.0 section 12.2.2, RFC 8414 section 3 and SD-JWT VC's JWT VC
	// Issuer Metadata define for an issuer identifier with a path: /.well-known/<name> inserted between the host
	// and the path (https://host/prod -> https://host/.well-known/openid-credential-issuer/prod). They answer only
	// for the issuer URL's own path, 404 for any other.
	RouteCredentialIssuerMetadataInserted = RouteCredentialIssuerMetadata + "/{" + IssuerPathParam + "+}"
	RouteAuthorizationServerInserted      = RouteAuthorizationServer + "/{" + IssuerPathParam + "+}"
	RouteJWTVCIssuerInserted              = RouteJWTVCIssuer + "/{" + IssuerPathParam + "+}"
	RouteTypeMetadata                     = "/vct/{vctName}"
)

// cachedDocument is a well-known document as served: body, strong ETag and when it was built.
type cachedDocument struct {
	body  []byte
	etag  string
	built time.Time
	// signed is the signed form of the credential issuer metadata (nil for the other documents, or when it could
	// not be signed), served for Accept: application/jwt with its own ETag.
	signed     []byte
	signedETag string
	// configurations are the credential configuration ids of the credential issuer metadata (nil for the other
	// documents), so that an offer naming one it lacks can drop it (forgetStaleMetadata).
	configurations map[string]bool
}

// Metadata is the router of the MetadataFunction's wallet routes: the three well-known documents (cached per
// container for the metadata TTL, with Cache-Control max-age and ETag / If-None-Match -> 304) and credential
// offers by reference (never cached).
func Metadata(w *Wallet) *apigw.Router {
	r := w.deps.walletRouter("metadata")
	w.RegisterMetadata(r)
	w.statusListRoutes().RegisterStatusList(r)
	return r
}

// RegisterMetadata adds the wallet routes of the MetadataFunction to r (the function's router also serves the
// status list tokens).
func (w *Wallet) RegisterMetadata(r *apigw.Router) {
	documents := []struct {
		route, inserted string
		handler         apigw.HandlerFunc
	}{
		{RouteCredentialIssuerMetadata, RouteCredentialIssuerMetadataInserted, w.document(RouteCredentialIssuerMetadata, false, w.issuerMetadata)},
		{RouteAuthorizationServer, RouteAuthorizationServerInserted, w.document(RouteAuthorizationServer, false,
			func(_ context.Context, s *wallet.Service) (any, error) { return s.AuthorizationServerMetadata() })},
		{RouteJWTVCIssuer, RouteJWTVCIssuerInserted, w.document(RouteJWTVCIssuer, true,
			func(_ context.Context, s *wallet.Service) (any, error) { return s.JWTVCIssuerMetadata() })},
	}
	for _, d := range documents {
		r.Handle(http.MethodGet, d.route, apigw.Public, d.handler)
		r.Handle(http.MethodGet, d.inserted, apigw.Public, w.forIssuerPath(d.handler))
	}
	r.Handle(http.MethodGet, RouteCredentialOffer, apigw.Public, w.credentialOffer)
	r.Handle(http.MethodGet, RouteTypeMetadata, apigw.Public, w.typeMetadata)
}

// typeDocuments is the container's cache of the hosted SD-JWT VC type metadata documents, by name.
type typeDocuments struct {
	docs  map[string][]byte
	built time.Time
}

// typeMetadata serves <issuer URL>/vct/<name>: the type metadata document of the definitions whose vct is that
// URL, from a per-container cache rebuilt after the metadata TTL (one pass over the definitions for all names, so
// unknown names cost no read), with Cache-Control max-age and an ETag. An unknown name is 404.
func (w *Wallet) typeMetadata(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	name, err := apigw.PathParam(req, "vctName")
	if err != nil {
		return apigw.Response{}, err
	}
	now := w.now()
	w.mu.Lock()
	cached := w.types
	w.mu.Unlock()
	if cached.docs == nil || now.Sub(cached.built) >= w.metadataTTL || now.Before(cached.built) {
		svc, err := w.service(ctx, false)
		if err != nil {
			return apigw.Response{}, err
		}
		docs, err := svc.TypeMetadataDocuments(ctx)
		if err != nil {
			return apigw.Response{}, err
		}
		cached = typeDocuments{docs: docs, built: now}
		w.mu.Lock()
		w.types = cached
		w.mu.Unlock()
	}
	doc, ok := cached.docs[name]
	if !ok {
		return apigw.Response{}, apigw.NotFound("no type metadata at this address: no credential definition has " +
			"this vct")
	}
	return w.cacheable(req, "application/json", doc, strongETag(doc)), nil
}

// cacheable answers a cached document: public for the metadata TTL, its ETag, 304 for a matching If-None-Match.
func (w *Wallet) cacheable(req *apigw.Request, contentType string, body []byte, etag string, extra ...string) apigw.Response {
	headers := append([]string{"Cache-Control", "public, max-age=" + strconv.Itoa(int(w.metadataTTL/time.Second)), "ETag", etag}, extra...)
	if etagMatches(apigw.Header(req, "If-None-Match"), etag) {
		r := apigw.Raw(http.StatusNotModified, contentType, "", headers...)
		delete(r.Headers, "Content-Type")
		return r
	}
	return apigw.Raw(http.StatusOK, contentType, string(body), headers...)
}

// issuerMetadata builds the credential issuer metadata with its signed form (signed_metadata, and the JWT served
// for Accept: application/jwt), signed by the issuer key through keys.SignJWS (x5c when the key is certified):
// one KMS Sign per rebuild. Without the key (KMS unreachable, a refused chain) the document is served unsigned, so
// that wallets can still read it; the reason is logged.
func (w *Wallet) issuerMetadata(ctx context.Context, s *wallet.Service) (any, error) {
	md, err := s.IssuerMetadata(ctx)
	if err != nil {
		return nil, err
	}
	if ring := w.requestKeys(); ring != nil {
		key, err := ring.Current(ctx)
		if err != nil {
			return nil, err
		}
		set := jwk.NewSet()
		if err := set.AddKey(key); err != nil {
			return nil, fmt.Errorf("request encryption key set: %w", err)
		}
		md.CredentialRequestEncryption = &oid4vci.RequestEncryptionMetadata{JWKS: set,
			EncValuesSupported: oid4vci.EncryptionEncs(), ZipValuesSupported: oid4vci.EncryptionZips(),
			EncryptionRequired: w.deps.Config.Trust.RequestEncryptionRequired}
	}
	signer, err := w.service(ctx, true)
	if err == nil {
		md.SignedMetadata, err = signer.SignIssuerMetadata(ctx, md)
	}
	if err != nil {
		w.deps.Log.WarnContext(ctx, "issuer metadata served unsigned", "error", err.Error())
	}
	return md, nil
}

// forIssuerPath serves a path-inserted well-known route: the document when the inserted path is the issuer URL's
// path, 404 otherwise (another issuer's location, or any path when the issuer URL has none).
func (w *Wallet) forIssuerPath(h apigw.HandlerFunc) apigw.HandlerFunc {
	issuerPath := config.IssuerPath(w.cfg.IssuerURL)
	return func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		if issuerPath == "" || "/"+req.PathParameters[IssuerPathParam] != issuerPath {
			return apigw.Response{}, apigw.Errorf(http.StatusNotFound, "not_found",
				"no well-known document here: this issuer's identifier is %s", w.cfg.IssuerURL)
		}
		return h(ctx, req)
	}
}

// document serves one well-known document (cached under key) from the container's cache, rebuilding it when older
// than the TTL.
func (w *Wallet) document(key string, needsKey bool, build func(context.Context, *wallet.Service) (any, error)) apigw.HandlerFunc {
	return func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		doc, err := w.cachedDocument(ctx, key, needsKey, build)
		if err != nil {
			return apigw.Response{}, err
		}
		contentType, body, etag := "application/json", doc.body, doc.etag
		var vary []string
		if doc.signed != nil {
			vary = []string{"Vary", "Accept"}
			if prefersJWT(apigw.Header(req, "Accept")) {
				contentType, body, etag = oid4vci.MediaTypeJWT, doc.signed, doc.signedETag
			}
		}
		return w.cacheable(req, contentType, body, etag, vary...), nil
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
	doc = cachedDocument{body: body, etag: strongETag(body), built: now}
	if md, ok := v.(*oid4vci.CredentialIssuerMetadata); ok {
		if md.SignedMetadata != "" {
			doc.signed = []byte(md.SignedMetadata)
			doc.signedETag = strongETag(doc.signed)
		}
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

// strongETag is the entity tag of a body: 128 bits of its SHA-256.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// prefersJWT reports whether an Accept header ranks application/jwt above application/json (missing types
// count as q=0; application/json wins ties, */* included).
func prefersJWT(accept string) bool {
	q := func(want string) float64 {
		best := 0.0
		for _, part := range strings.Split(accept, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != want {
				continue
			}
			v := 1.0
			if raw, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(raw, 64); err == nil {
					v = f
				}
			}
			best = max(best, v)
		}
		return best
	}
	return q(oid4vci.MediaTypeJWT) > q("application/json")
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
//
// A document rebuilt after such a drop that still lacks the configuration (its definition was deleted while its
// offers live on) is kept until its TTL: otherwise every fetch of such an offer would make the next metadata
// request rebuild and sign the document again, a KMS Sign and the definition queries for every other anonymous
// request of whoever holds the link (docs/security.md 14e).
func (w *Wallet) forgetStaleMetadata(configurationIDs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	doc, ok := w.cache[RouteCredentialIssuerMetadata]
	if !ok {
		return
	}
	now := w.now()
	for id, at := range w.droppedFor {
		if now.Sub(at) >= w.metadataTTL || now.Before(at) {
			delete(w.droppedFor, id)
		}
	}
	for _, id := range configurationIDs {
		if doc.configurations[id] {
			continue
		}
		if at, dropped := w.droppedFor[id]; dropped && !doc.built.Before(at) {
			continue // built since the drop for id, still without it: no definition has it any more
		}
		if w.droppedFor == nil {
			w.droppedFor = map[string]time.Time{}
		}
		w.droppedFor[id] = now
		delete(w.cache, RouteCredentialIssuerMetadata)
		return
	}
}
