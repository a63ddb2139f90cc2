package issuance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultRetention       = 30 * 24 * time.Hour
	DefaultOfferValidity   = 30 * 24 * time.Hour
	DefaultDeliveryTimeout = 5 * time.Second
	DefaultPageLimit       = 20
	MaxPageLimit           = 100
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
	// DeliveryTimeout bounds the delivery of an offer to a wallet endpoint; zero: DefaultDeliveryTimeout.
	DeliveryTimeout time.Duration
}

// Service runs the admin use cases over its ports.
type Service struct {
	cfg    Config
	store  AdminStore
	events EventPublisher
	http   HTTPDoer
	now    func() time.Time
	rand   io.Reader
	log    *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithRandom sets the source of ids and secrets (tests); production uses crypto/rand.
func WithRandom(r io.Reader) Option { return func(s *Service) { s.rand = r } }

// WithEvents sets the event publisher.
func WithEvents(p EventPublisher) Option { return func(s *Service) { s.events = p } }

// WithHTTPDoer sets the client that delivers offers to wallet endpoints.
func WithHTTPDoer(d HTTPDoer) Option { return func(s *Service) { s.http = d } }

// WithLogger sets the logger (which never receives claim values or secrets).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService builds the service; the issuer URL is required.
func NewService(cfg Config, store AdminStore, opts ...Option) (*Service, error) {
	if store == nil {
		return nil, errors.New("new issuance service: store is required")
	}
	cfg.IssuerURL = strings.TrimRight(cfg.IssuerURL, "/")
	if cfg.IssuerURL == "" {
		return nil, errors.New("new issuance service: issuer URL is required")
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
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = DefaultDeliveryTimeout
	}
	s := &Service{cfg: cfg, store: store, now: time.Now, rand: rand.Reader, log: slog.Default(),
		http: NewDeliveryClient(cfg.DeliveryTimeout, IsLocalIssuer(cfg.IssuerURL))}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// noRedirects keeps the offer delivery on the endpoint the organisation named.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// publish sends the status event of rec. A failed publication is logged (id and type only) and does not undo
// the change that was already stored.
func (s *Service) publish(ctx context.Context, rec *ExchangeRecord) {
	if s.events == nil {
		return
	}
	e := StatusEvent(rec, s.now())
	if err := s.events.Publish(ctx, e); err != nil {
		s.log.WarnContext(ctx, "publish status event failed", slog.String("detail_type", e.DetailType),
			slog.String("credential_exchange_id", e.ExchangeID), slog.String("error", err.Error()))
	}
}

// pageRequest validates a page request.
func pageRequest(p PageRequest) (PageRequest, error) {
	switch {
	case p.Limit == 0:
		p.Limit = DefaultPageLimit
	case p.Limit < 1 || p.Limit > MaxPageLimit:
		return p, invalid("limit", "must be from 1 to %d", MaxPageLimit)
	}
	if len(p.Cursor) > 2048 {
		return p, invalid("cursor", "is not a cursor this service issued; pass nextCursor from the previous page")
	}
	return p, nil
}

// cursorError turns the store's ErrInvalidCursor into a validation error naming the field.
func cursorError(err error) error {
	if errors.Is(err, ErrInvalidCursor) {
		return invalid("cursor", "is not a cursor of this list; pass nextCursor from the previous page unchanged")
	}
	return err
}

// unix is the clock in unix seconds.
func (s *Service) unix() int64 { return s.now().Unix() }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
