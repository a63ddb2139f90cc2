// Command devserver is what `make run` runs: the whole API on http://127.0.0.1:$PORT, backed by DynamoDB Local
// and local-kms (the local stack), with the very handlers the Lambda functions run, behind the local API gateway
// and event bus (infra/gateway).
//
// Environment: PORT (default 3000), ISSUER_URL (default http://127.0.0.1:$PORT, used byte for byte),
// ADMIN_API_KEY (at least 16 characters; default: a generated key, kept under .local so a restart prints the
// same one), COMPLETION_EVENT_SOURCE (the source of completion events, default com.example.hr), LOG_LEVEL, and the
// functions' own variables, e.g. WALLET_TRUST_ANCHORS (paths of the wallet providers' trust files) and
// REQUIRE_DPOP.
// Flags: -clean starts with empty data and a new generated key; -dir moves .local; -template picks the SAM
// template. Logs are JSON lines on stderr; the banner with the key and sample curls goes to stdout.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sdjwt-issuer/issuer/infra/gateway"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/infra/template"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
	"github.com/sdjwt-issuer/issuer/shared/config"
	"github.com/sdjwt-issuer/issuer/shared/handlers"
	"github.com/sdjwt-issuer/issuer/shared/platform"
)

// Defaults of the dev server.
const (
	defaultPort  = "3000"
	eventBusName = "local"
	// streamCheckpointFile, under the data directory, keeps the position in the table's stream across restarts.
	streamCheckpointFile = "stream-positions.json"
	shutdownTimeout      = 10 * time.Second
	// defaultCompletionSource is the local CompletionEventSource: the source DeferredCredentialReady/Denied
	// events must carry to be delivered.
	defaultCompletionSource = "com.example.hr"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// options are the dev server's flags and environment, resolved.
type options struct {
	clean        bool
	localDir     string
	templatePath string
	port         string
	issuerURL    string
	adminKeyEnv  string
	// completionSource is the source of the organisation's completion events (the template's
	// CompletionEventSource), COMPLETION_EVENT_SOURCE or defaultCompletionSource.
	completionSource string
	logLevel         slog.Level
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("devserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.BoolVar(&o.clean, "clean", false, "start with empty data (and a new generated admin API key)")
	fs.StringVar(&o.localDir, "dir", "", "directory of local data and the generated key (default <repo>/.local)")
	fs.StringVar(&o.templatePath, "template", "", "SAM template whose routes are served (default <repo>/template.yaml)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q: the dev server takes only flags", fs.Args())
	}
	o.port = getenv("PORT")
	if o.port == "" {
		o.port = defaultPort
	}
	if n, err := strconv.Atoi(o.port); err != nil || n < 1 || n > 65535 {
		return options{}, fmt.Errorf("PORT=%q is not a TCP port: set it to a number between 1 and 65535", o.port)
	}
	o.issuerURL = getenv(config.EnvIssuerURL)
	if o.issuerURL == "" {
		o.issuerURL = "http://127.0.0.1:" + o.port
	}
	o.adminKeyEnv = getenv("ADMIN_API_KEY")
	o.completionSource = getenv("COMPLETION_EVENT_SOURCE")
	if o.completionSource == "" {
		o.completionSource = defaultCompletionSource
	}
	if lv := getenv(config.EnvLogLevel); lv != "" {
		if err := o.logLevel.UnmarshalText([]byte(lv)); err != nil {
			return options{}, fmt.Errorf("LOG_LEVEL=%q: use debug, info, warn or error", lv)
		}
	}
	if o.localDir == "" || o.templatePath == "" {
		root, err := repoRoot()
		if err != nil {
			return options{}, err
		}
		if o.localDir == "" {
			o.localDir = filepath.Join(root, ".local")
		}
		if o.templatePath == "" {
			o.templatePath = filepath.Join(root, "template.yaml")
		}
	}
	var err error
	if o.localDir, err = filepath.Abs(o.localDir); err != nil {
		return options{}, fmt.Errorf("resolve -dir: %w", err)
	}
	return o, nil
}

// run starts everything, serves until SIGINT or SIGTERM, and stops everything; it returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "devserver: %v\n", err)
		return 2
	}
	log := platform.NewLogger(stderr, o.logLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, log, stdout); err != nil {
		log.Error("devserver stopped", slog.String("error", err.Error()))
		fmt.Fprintf(stderr, "devserver: %v\n", err)
		return 1
	}
	return 0
}

// serve claims the port first (so a taken port fails at once), then starts the stack, builds the handlers once
// and serves until ctx ends.
func serve(ctx context.Context, o options, log *slog.Logger, stdout io.Writer) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", o.port))
	if err != nil {
		return fmt.Errorf("port %s is taken or not allowed (%w): stop what uses it, or start on another one, e.g. PORT=%d make run",
			o.port, err, suggestPort(o.port))
	}
	defer ln.Close()
	localURL := "http://" + ln.Addr().String()

	key, source, err := adminAPIKey(o.adminKeyEnv, o.localDir, o.clean)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(o.localDir, "data")
	log.Info("starting the local stack", slog.String("data_dir", dataDir), slog.Bool("clean", o.clean))
	stack, err := localstack.Start(ctx, localstack.Options{DataDir: dataDir, Clean: o.clean})
	if err != nil {
		return err
	}
	// On an error before serving; once serving, shutdown stops the stack last (after the gateway flushed).
	stackStopped := false
	defer func() {
		if !stackStopped {
			stack.Stop()
		}
	}()
	log.Info("local stack started", slog.String("dynamodb_endpoint", stack.DynamoDBEndpoint),
		slog.String("kms_endpoint", stack.KMSEndpoint), slog.String("table", stack.TableName),
		slog.Float64("start_seconds", stack.StartDuration.Seconds()))

	chain, rootPath, err := localChain(ctx, stack, o.localDir, o.issuerURL, o.clean)
	if err != nil {
		return err
	}
	var nonceKeyRaw [32]byte
	if _, err := rand.Read(nonceKeyRaw[:]); err != nil {
		return fmt.Errorf("generate the c_nonce key: %w", err)
	}
	nonceKey := base64.RawURLEncoding.EncodeToString(nonceKeyRaw[:])
	requestKey, err := localRequestKey(ctx, stack)
	if err != nil {
		return err
	}
	env := append(stack.Env(),
		config.EnvIssuerURL+"="+o.issuerURL,
		config.EnvIssuerCertChain+"="+string(chain),
		config.EnvRequestEncryptionKMSKeyID+"="+requestKey,
		config.EnvAdminAPIKeyHashes+"="+apigw.HashAPIKey(key),
		config.EnvEventBusName+"="+eventBusName,
		"AWS_ENDPOINT_URL_EVENTBRIDGE="+localURL,
		// The functions sign their PutEvents with the admin key, which the local bus requires; DynamoDB Local
		// and local-kms accept any secret.
		"AWS_SECRET_ACCESS_KEY="+key,
		// A fresh c_nonce (and DPoP server nonce) key per start: nonces live minutes, and the functions share
		// this process.
		config.EnvNonceKey+"="+nonceKey,
		// A developer's ~/.aws must not reach the local stack, nor real AWS.
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
	if err := setenv(env, "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"); err != nil {
		return err
	}
	functions, err := buildFunctions(ctx, log)
	if err != nil {
		return err
	}
	routes, err := template.Routes(o.templatePath)
	if err != nil {
		return err
	}
	rules, err := template.EventRules(o.templatePath)
	if err != nil {
		return err
	}
	preflights, err := template.Preflights(o.templatePath)
	if err != nil {
		return err
	}
	// The template's deferred rule admits only the organisation's source (its CompletionEventSource parameter).
	if rules, err = template.ResolveParameters(rules, map[string]string{"CompletionEventSource": o.completionSource}); err != nil {
		return err
	}
	sources, err := template.StreamSources(o.templatePath)
	if err != nil {
		return err
	}
	stackCfg, err := stack.AWSConfig(ctx)
	if err != nil {
		return err
	}
	// An ISSUER_URL with a path (e.g. http://127.0.0.1:3000/stage, or a tunnel's https://host/stage) is served
	// like an API Gateway stage: the API under the path, the path-inserted well-known documents at the root.
	basePath := config.IssuerPath(o.issuerURL)
	gw := gateway.New(routes, functions, gateway.WithLogger(log), gateway.WithEventRules(rules),
		gateway.WithAccount(localstack.DefaultAccountID, stack.Region), gateway.WithAdminKey(key),
		gateway.WithIssuerURL(o.issuerURL), gateway.WithBasePath(basePath), gateway.WithPreflights(preflights),
		// The publisher reads DynamoDB Local's stream as Lambda reads the table's: the events of every committed
		// write reach the local bus, also those of a write made just before a kill (the position is kept with the
		// data, so a restart goes on from there).
		gateway.WithTableStream(stackCfg, stack.TableName, sources),
		gateway.WithStreamCheckpoints(filepath.Join(dataDir, streamCheckpointFile)))
	if err := gw.Err(); err != nil {
		gw.Close()
		return err
	}

	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", slog.String("url", localURL), slog.String("issuer_url", o.issuerURL),
		slog.Int("routes", len(routes)), slog.Int("functions", len(functions)))
	printBanner(stdout, bannerInfo{issuerURL: o.issuerURL, localURL: localURL, basePath: basePath, adminKey: key,
		keySource: source, keyPath: displayPath(filepath.Join(o.localDir, adminKeyFile)), dataDir: displayPath(dataDir),
		caRoot: displayPath(rootPath)})

	var serveErr error
	select {
	case err := <-served:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown(log, srv, gw, stack)
	stackStopped = true
	return serveErr
}

// The parts shutdown stops, in its order.
type (
	httpServer interface{ Shutdown(context.Context) error }
	localBus   interface {
		FlushStreams(context.Context) error
		WaitIdle(context.Context) error
		Close()
		WaitInvocations(context.Context) error
	}
	stackStopper interface{ Stop() }
)

// shutdown stops in the order that loses no acknowledged work (docs/security.md, "Data after a kill"): first the
// HTTP server (no new request; the running ones finish), then the stream (the events of the writes committed so far
// are published), then the local bus's pending deliveries (an event PutEvents acknowledged is delivered, e.g. a
// DeferredCredentialReady), then the gateway and any invocation still running
// after a time-out, and only then the local stack, whose DynamoDB Local ends on SIGTERM with every write on disk.
// Each wait is bounded by shutdownTimeout.
func shutdown(log *slog.Logger, srv httpServer, gw localBus, stack stackStopper) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("requests still running at shutdown", slog.String("error", err.Error()))
	}
	if err := gw.FlushStreams(ctx); err != nil {
		log.Warn("events of committed writes not published yet at shutdown: the next start publishes them",
			slog.String("error", err.Error()))
	}
	if err := gw.WaitIdle(ctx); err != nil {
		log.Warn("event deliveries still pending at shutdown: they are lost", slog.String("error", err.Error()))
	}
	gw.Close()
	if err := gw.WaitInvocations(ctx); err != nil {
		log.Warn("function invocations still running at shutdown", slog.String("error", err.Error()))
	}
	stack.Stop()
	log.Info("local stack stopped")
}

// buildFunctions builds every function's handler once, in-process, the way each function's main does on a cold
// start: configuration from the environment, the AWS clients, the shared dependencies.
func buildFunctions(ctx context.Context, log *slog.Logger) (map[string]lambda.Handler, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	clients, err := platform.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	deps, err := handlers.NewDeps(ctx, cfg, clients, handlers.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return handlers.Lambda(deps), nil
}

// setenv sets the functions' environment in this process (the handlers read it through config.FromEnv and the
// AWS SDK) and removes variables that would point the SDK elsewhere.
func setenv(env []string, unset ...string) error {
	for _, name := range unset {
		if err := os.Unsetenv(name); err != nil {
			return fmt.Errorf("unset %s: %w", name, err)
		}
	}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("environment entry without '=': %q", k)
		}
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// suggestPort proposes the next port for the error message.
func suggestPort(port string) int {
	n, _ := strconv.Atoi(port)
	if n <= 0 || n >= 65535 {
		return 3001
	}
	return n + 1
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the repository root: no go.mod above the working directory; run from the repository (make run)")
		}
		dir = parent
	}
}
