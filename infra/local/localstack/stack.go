package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// Defaults of Options.
const (
	DefaultRegion       = "us-east-1"
	DefaultAccountID    = "111122223333"
	DefaultTableName    = "sdjwt-issuer"
	DefaultKeyAlias     = "alias/sdjwt-issuer"
	DefaultStartTimeout = 90 * time.Second
)

// Dummy credentials: the local tools accept any, and real ones must never be used against them.
const (
	dummyAccessKeyID     = "local"
	dummySecretAccessKey = "local"
)

// startAttempts bounds the attempts of Start when a tool exits before answering.
const startAttempts = 3

// stopGrace is how long Stop waits for a tool to end on SIGTERM before killing it.
const stopGrace = 10 * time.Second

// Options configure Start. The zero value starts an in-memory stack from <repo>/.tools.
type Options struct {
	// DataDir keeps DynamoDB and KMS data across restarts (DataDir/dynamodb, DataDir/kms). Empty: in memory
	// (KMS data in a temporary directory removed by Stop).
	DataDir string
	// Clean removes DataDir's contents first.
	Clean bool
	// ToolsDir holds bin/local-kms and node/node_modules; empty: <repo>/.tools.
	ToolsDir string
	// Java is the java executable; empty: "java" on PATH.
	Java string
	// Region, AccountID, TableName and KeyAlias default to the Default* constants.
	Region, AccountID, TableName, KeyAlias string
	// StartTimeout bounds how long Start waits for the tools to answer; zero: DefaultStartTimeout.
	StartTimeout time.Duration
}

func (o *Options) setDefaults() {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&o.Region, DefaultRegion)
	def(&o.AccountID, DefaultAccountID)
	def(&o.TableName, DefaultTableName)
	def(&o.KeyAlias, DefaultKeyAlias)
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
}

// Stack is a running (or attached) local stack.
type Stack struct {
	// Region is the AWS region the tools pretend to be.
	Region string
	// DynamoDBEndpoint is DynamoDB Local's URL, http://127.0.0.1:PORT.
	DynamoDBEndpoint string
	// KMSEndpoint is local-kms's URL, http://127.0.0.1:PORT.
	KMSEndpoint string
	// TableName is the issuer's table, created from store.TableDefinition with TTL on `ttl`.
	TableName string
	// KeyID is the ARN of the signing key (ECC_NIST_P256, SIGN_VERIFY), also reachable as KeyAlias.
	KeyID string
	// KeyAlias is the alias of the signing key.
	KeyAlias string
	// StartDuration is how long Start took (zero for an attached stack).
	StartDuration time.Duration

	procs    []*process
	tempDirs []string
	stopOnce sync.Once
}

// Start starts DynamoDB Local and local-kms on free loopback ports, waits until both answer, and creates the
// table and the signing key (reusing them when DataDir already holds them). On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	begin := time.Now()
	opts.setDefaults()
	tools, err := findTools(opts.ToolsDir, opts.Java)
	if err != nil {
		return nil, fmt.Errorf("start local stack: %w", err)
	}
	for attempt := 1; ; attempt++ {
		s := &Stack{Region: opts.Region, TableName: opts.TableName, KeyAlias: opts.KeyAlias}
		err := s.start(ctx, opts, tools)
		if err == nil {
			s.StartDuration = time.Since(begin)
			return s, nil
		}
		s.Stop()
		// A tool that exited at once, or said it could not bind, most likely lost its port to another process
		// between freePort and its bind: try again on new ports.
		if !errors.Is(err, errExitedEarly) || attempt == startAttempts || ctx.Err() != nil {
			return nil, fmt.Errorf("start local stack: %w", err)
		}
	}
}

func (s *Stack) start(ctx context.Context, opts Options, tools toolPaths) error {
	dynamoDir, kmsDir, err := s.dataDirs(opts)
	if err != nil {
		return err
	}
	ddbPort, err := freePort()
	if err != nil {
		return err
	}
	kmsPort, err := freePort()
	if err != nil {
		return err
	}
	s.DynamoDBEndpoint = "http://127.0.0.1:" + strconv.Itoa(ddbPort)
	s.KMSEndpoint = "http://127.0.0.1:" + strconv.Itoa(kmsPort)

	args := []string{
		"-Djava.library.path=" + filepath.Join(tools.dynamoDBDir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(tools.dynamoDBDir, "DynamoDBLocal.jar"),
		"-port", strconv.Itoa(ddbPort), "-sharedDb",
	}
	if dynamoDir == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", dynamoDir)
	}
	ddbCmd := exec.Command(tools.java, args...)
	ddbCmd.Dir = tools.dynamoDBDir
	ddb, err := startProcess("DynamoDB Local", ddbCmd)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, ddb)

	kmsCmd := exec.Command(tools.localKMS)
	kmsCmd.Env = envWith(
		"PORT="+strconv.Itoa(kmsPort),
		"KMS_DATA_PATH="+kmsDir,
		"KMS_REGION="+opts.Region,
		"KMS_ACCOUNT_ID="+opts.AccountID,
	)
	kmsProc, err := startProcess("local-kms", kmsCmd)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, kmsProc)

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	cfg, err := s.pollConfig(ctx)
	if err != nil {
		return err
	}
	ddbClient := dynamodb.NewFromConfig(cfg)
	kmsClient := kms.NewFromConfig(cfg)

	// Wait for both at once: local-kms is up in milliseconds, Java takes seconds.
	errs := make(chan error, 2)
	go func() {
		errs <- ddb.waitReady(ctx, func(ctx context.Context) error {
			_, err := ddbClient.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
			return err
		})
	}()
	go func() {
		errs <- kmsProc.waitReady(ctx, func(ctx context.Context) error {
			_, err := kmsClient.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(1)})
			return err
		})
	}()
	if err := errors.Join(<-errs, <-errs); err != nil {
		return err
	}
	if err := ensureTable(ctx, ddbClient, s.TableName); err != nil {
		return err
	}
	keyID, err := ensureKey(ctx, kmsClient, s.KeyAlias)
	if err != nil {
		return err
	}
	s.KeyID = keyID
	return nil
}

// dataDirs prepares the data directories: persistent under opts.DataDir, or in memory for DynamoDB and a
// temporary directory for local-kms (which always writes to disk).
func (s *Stack) dataDirs(opts Options) (dynamoDir, kmsDir string, err error) {
	if opts.DataDir == "" {
		tmp, err := os.MkdirTemp("", "localstack-kms-")
		if err != nil {
			return "", "", fmt.Errorf("create KMS data directory: %w", err)
		}
		s.tempDirs = append(s.tempDirs, tmp)
		return "", tmp, nil
	}
	if opts.Clean {
		if err := os.RemoveAll(opts.DataDir); err != nil {
			return "", "", fmt.Errorf("clean data directory %s: %w", opts.DataDir, err)
		}
	}
	dynamoDir = filepath.Join(opts.DataDir, "dynamodb")
	kmsDir = filepath.Join(opts.DataDir, "kms")
	for _, d := range []string{dynamoDir, kmsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", "", fmt.Errorf("create data directory: %w", err)
		}
	}
	// DynamoDB Local resolves -dbPath against its working directory (the emulator directory).
	abs, err := filepath.Abs(dynamoDir)
	if err != nil {
		return "", "", fmt.Errorf("data directory %s: %w", dynamoDir, err)
	}
	return abs, kmsDir, nil
}

// pollConfig is AWSConfig without retries, so that readiness polling sees each failure at once.
func (s *Stack) pollConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := s.AWSConfig(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.RetryMaxAttempts = 1
	return cfg, nil
}

// Stop ends the tools this stack started and waits for them; it removes temporary data. Safe to call twice and
// on an attached stack (which it leaves running: the wrapper owns it).
func (s *Stack) Stop() {
	s.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, p := range s.procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(stopGrace)
			}()
		}
		wg.Wait()
		for _, d := range s.tempDirs {
			_ = os.RemoveAll(d)
		}
	})
}

// AWSConfig is an SDK configuration for this stack: dummy static credentials, the region, and the DynamoDB (and
// DynamoDB Streams) and KMS endpoints as service-specific configured endpoints (what AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_DYNAMODB_STREAMS and AWS_ENDPOINT_URL_KMS would give), taking precedence over the process environment (unless AWS_ENDPOINT_URL is set without the
// service-specific variable: the SDK then uses that one). Other services keep their normal endpoints.
func (s *Stack) AWSConfig(ctx context.Context) (aws.Config, error) {
	// Built by hand rather than with config.LoadDefaultConfig: a developer's AWS_PROFILE or ~/.aws files must
	// neither leak into nor break the local stack. Service clients fill in the remaining defaults.
	cfg := aws.NewConfig()
	cfg.Region = s.Region
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(dummyAccessKeyID, dummySecretAccessKey, ""))
	cfg.ConfigSources = []any{serviceEndpoints{"DYNAMODB": s.DynamoDBEndpoint, "DYNAMODB_STREAMS": s.DynamoDBEndpoint,
		"KMS": s.KMSEndpoint}}
	return *cfg, ctx.Err()
}

// serviceEndpoints is a configuration source of service-specific endpoints, keyed by the SDK id in the form of
// the AWS_ENDPOINT_URL_<ID> variables (upper case, spaces as underscores).
type serviceEndpoints map[string]string

// GetServiceBaseEndpoint implements the SDK's ServiceBaseEndpointProvider configuration source.
func (e serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, ok := e[strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))]
	return v, ok && v != "", nil
}

// Env is the environment a function needs to run against this stack, in the SDK-standard variables the
// functions read (config.FromEnv, platform.New).
func (s *Stack) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS=" + s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_KMS=" + s.KMSEndpoint,
		"AWS_REGION=" + s.Region,
		"AWS_ACCESS_KEY_ID=" + dummyAccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + dummySecretAccessKey,
		"TABLE_NAME=" + s.TableName,
		"KMS_KEY_ID=" + s.KeyID,
	}
}
