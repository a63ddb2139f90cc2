package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sdjwt-issuer/issuer/shared/exchange"
	"github.com/sdjwt-issuer/issuer/shared/validation"
)

// Defaults of Config.
const (
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultOfferValidity is short: an offer is scanned when it is made; a leaked link or QR code is worth
	// nothing an hour later (OFFER_VALIDITY_MINUTES raises it, e.g. for offers sent by mail).
	DefaultOfferValidity = time.Hour
)

// Config is what the use cases need from the deployment.
type Config struct {
	// IssuerURL is the credential issuer identifier; offers are served under it.
	IssuerURL string
	// Retention is how long exchange records live (DynamoDB TTL); zero: DefaultRetention.
	Retention time.Duration
	// OfferValidity is how long an offer can be fetched and its code redeemed (capped by Retention); zero:
	// DefaultOfferValidity.
	OfferValidity time.Duration
	// DocumentSignerCountry is the countryName (C) of the certificate mdocs are signed under (the leaf of
	// ISSUER_CERT_CHAIN): an mDL's issuing_country must equal it (ISO/IEC 18013-5). Empty: no chain is
	// configured (mdocs carry a self-signed certificate of country ZZ) and nothing is compared.
	DocumentSignerCountry string
}

// OfferDeliverer sends an offer to a wallet's credential offer endpoint and reports the outcome (shared/delivery
// does it over HTTP). It never fails: a failure is an outcome.
type OfferDeliverer interface {
	DeliverOffer(ctx context.Context, endpoint, offerURL string) exchange.OfferDelivery
}

// Deps are the ports of the admin use cases.
type Deps struct {
	// Store keeps definitions, exchanges, individuals and dynamic configurations (required).
	Store Store
	// Deliverer delivers offers to wallet endpoints (required).
	Deliverer OfferDeliverer
}

// Service runs the admin use cases over its ports.
type Service struct {
	cfg     Config
	store   Store
	deliver OfferDeliverer
	rt      exchange.Runtime
}

// New builds the service; the issuer URL, the store and the deliverer are required.
func New(cfg Config, deps Deps, opts ...exchange.Option) (*Service, error) {
	if deps.Store == nil {
		return nil, errors.New("new admin service: store is required")
	}
	if deps.Deliverer == nil {
		return nil, errors.New("new admin service: offer deliverer is required")
	}
	cfg.IssuerURL = strings.TrimRight(cfg.IssuerURL, "/")
	if cfg.IssuerURL == "" {
		return nil, errors.New("new admin service: issuer URL is required")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.OfferValidity <= 0 {
		cfg.OfferValidity = DefaultOfferValidity
	}
	if cfg.OfferValidity > cfg.Retention {
		cfg.OfferValidity = cfg.Retention
	}
	return &Service{cfg: cfg, store: deps.Store, deliver: deps.Deliverer, rt: exchange.NewRuntime(opts...)}, nil
}

// pageRequest validates a page request.
func pageRequest(p exchange.PageRequest) (exchange.PageRequest, error) {
	switch {
	case p.Limit == 0:
		p.Limit = exchange.DefaultPageLimit
	case p.Limit < 1 || p.Limit > exchange.MaxPageLimit:
		return p, validation.Invalid("limit", "must be from 1 to %d", exchange.MaxPageLimit)
	}
	if len(p.Cursor) > 2048 {
		return p, validation.Invalid("cursor", "is not a cursor this service issued; pass nextCursor from the previous page")
	}
	return p, nil
}

// cursorError turns the store's ErrInvalidCursor into a validation error naming the field.
func cursorError(err error) error {
	if errors.Is(err, exchange.ErrInvalidCursor) {
		return validation.Invalid("cursor", "is not a cursor of this list; pass nextCursor from the previous page unchanged")
	}
	return err
}

// wrap adds the use case to err, except to a *validation.Error, which is shown as it is.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var v *validation.Error
	if errors.As(err, &v) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
