// Package inproc serves the whole issuer API on a loopback port inside the calling process: the local API gateway
// (infra/gateway) with template.yaml's routes in front of the functions' Lambda handlers (handlers.Lambda), on
// the AWS configuration the caller passes. The benchmarks pass the local stack's configuration with a counting
// middleware; the fault tests pass one whose HTTP client fails or delays chosen operations.
package inproc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/sdjwt-issuer/issuer/infra/gateway"
	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/infra/template"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

// Options configure Start.
type Options struct {
	// AWS is the SDK configuration of the functions' clients (the call counter is attached on top of it).
	AWS aws.Config
	// TableName and KMSKeyID are the functions' TABLE_NAME and KMS_KEY_ID.
	TableName, KMSKeyID string
	// AdminKey is the accepted admin API key.
	AdminKey string
	// Logger receives the functions' and the gateway's logs; nil: discarded.
	Logger *slog.Logger
	// TemplatePath is the SAM template; empty: template.yaml at the module root above the working directory.
	TemplatePath string
	// IntegrationTimeout bounds each function invocation like API Gateway's integration timeout; zero: the
	// gateway's default (29 s).
	IntegrationTimeout time.Duration
	// Events has the gateway play the template's stream event source mapping on the table (the publisher function
	// derives the events of every committed write) and the publisher put them on the gateway's own local bus
	// (Server.Events, Server.WaitEvents, Server.FlushEvents), signed with the admin key as the local bus requires.
	// False: no stream is read and nothing is published.
	Events bool
	// StreamAWS is the SDK configuration the stream is read with (what Lambda's service does, not a function);
	// nil: AWS.
	StreamAWS *aws.Config
}

// Server is the API on a loopback port.
type Server struct {
	// URL is the issuer URL (http://127.0.0.1:PORT), also the base of every route.
	URL string
	// Deps are the handlers' dependencies (store, use cases), for checks behind the API.
	Deps *handlers.Deps

	srv  *http.Server
	gw   *gateway.Gateway
	done chan error
}

// Start listens on a free loopback port and serves the API there until Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	tpl := opts.TemplatePath
	if tpl == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, fmt.Errorf("start issuer: %w", err)
		}
		tpl = filepath.Join(root, "template.yaml")
	}
	routes, err := template.Routes(tpl)
	if err != nil {
		return nil, fmt.Errorf("start issuer: %w", err)
	}
	preflights, err := template.Preflights(tpl)
	if err != nil {
		return nil, fmt.Errorf("start issuer: %w", err)
	}
	sources, err := template.StreamSources(tpl)
	if err != nil {
		return nil, fmt.Errorf("start issuer: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start issuer: listen: %w", err)
	}
	url := "http://" + ln.Addr().String()
	// A deployment's functions share NONCE_KEY, the c_nonce and DPoP nonce key (the template generates one); here
	// one per server.
	nonceKey := make([]byte, 32)
	if _, err := rand.Read(nonceKey); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("start issuer: %w", err)
	}
	cfg := config.Config{IssuerURL: url, TableName: opts.TableName, KMSKeyID: opts.KMSKeyID,
		AdminAPIKeyHashes: []string{apigw.HashAPIKey(opts.AdminKey)}, RetentionDays: 30, EventSource: "inproc",
		NonceKey: nonceKey}
	clients := platform.FromAWSConfig(opts.AWS)
	var gwOpts []gateway.Option
	if opts.Events {
		cfg.EventBusName = EventBusName
		busCfg := opts.AWS.Copy()
		busCfg.Credentials = credentials.NewStaticCredentialsProvider("local", opts.AdminKey, "")
		clients.EventBridge = eventbridge.NewFromConfig(busCfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(url) })
		streamCfg := opts.AWS
		if opts.StreamAWS != nil {
			streamCfg = *opts.StreamAWS
		}
		gwOpts = append(gwOpts, gateway.WithAdminKey(opts.AdminKey), gateway.WithTableStream(streamCfg, opts.TableName, sources))
	}
	deps, err := handlers.NewDeps(ctx, cfg, clients, handlers.WithLogger(log))
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("start issuer: %w", err)
	}
	gwOpts = append(gwOpts, gateway.WithLogger(log), gateway.WithPreflights(preflights))
	if opts.IntegrationTimeout > 0 {
		gwOpts = append(gwOpts, gateway.WithIntegrationTimeout(opts.IntegrationTimeout))
	}
	gw := gateway.New(routes, handlers.Lambda(deps), gwOpts...)
	if err := gw.Err(); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("start issuer: gateway: %w", err)
	}
	s := &Server{URL: url, Deps: deps, gw: gw, done: make(chan error, 1),
		srv: &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// EventBusName is the bus the functions publish to with Options.Events.
const EventBusName = "inproc-bus"

// Events returns the events recorded on the local bus (Options.Events), oldest first.
func (s *Server) Events() []gateway.RecordedEvent { return s.gw.Events() }

// WaitEvents blocks until done reports true for the recorded events, or ctx ends (gateway.Gateway.WaitEvents).
func (s *Server) WaitEvents(ctx context.Context, done func([]gateway.RecordedEvent) bool) error {
	return s.gw.WaitEvents(ctx, done)
}

// FlushEvents blocks until the events of every write committed before the call are published (or given up on:
// StreamFailures), or ctx ends (gateway.Gateway.FlushStreams). A no-op without Options.Events.
func (s *Server) FlushEvents(ctx context.Context) error { return s.gw.FlushStreams(ctx) }

// StreamFailures are the batches of the stream the publisher could not publish within its retries.
func (s *Server) StreamFailures() []gateway.StreamFailure { return s.gw.StreamFailures() }

// WaitInvocations blocks until no function invocation is running, including one the gateway gave up on after
// the integration timeout, or until ctx ends (gateway.Gateway.WaitInvocations).
func (s *Server) WaitInvocations(ctx context.Context) error { return s.gw.WaitInvocations(ctx) }

// Close stops serving and waits for requests in progress (at most 10 s).
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	s.gw.Close()
	if err != nil {
		return fmt.Errorf("stop issuer: %w", err)
	}
	return nil
}

// ModuleRoot is the first directory at or above the working directory holding go.mod.
func ModuleRoot() (string, error) {
	return testkit.RepoRoot()
}

// ForTest serves the API for one test on a fresh table of the local stack (localstack.ForTest: the test skips
// without a stack) with adminKey accepted; it stops when the test ends.
func ForTest(tb testing.TB, adminKey string) *Server {
	tb.Helper()
	stack := localstack.ForTest(tb)
	ctx := context.Background()
	table := stack.NewTable(ctx, tb)
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := Start(ctx, Options{AWS: cfg, TableName: table, KMSKeyID: stack.KeyID, AdminKey: adminKey})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Error(err)
		}
	})
	return srv
}
