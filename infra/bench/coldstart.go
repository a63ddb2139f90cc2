package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

// coldAdminKey is the admin key of the sample events (infra/events/README.md).
const coldAdminKey = "local-dev-key"

// coldIssuerURL is the ISSUER_URL of the cold-started functions.
const coldIssuerURL = "https://issuer.example.com"

// functionDirs lists the function directories under root/functions, sorted.
func functionDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var dirs []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "functions", e.Name(), "main.go")); e.IsDir() && err == nil {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs, nil
}

// buildHost builds every function for this machine as Lambda builds them (-tags lambda.norpc, stripped) into
// dir/<function>.
func buildHost(ctx context.Context, root, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=",
		"-o", dir+string(os.PathSeparator), "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build functions for the host: %w\n%s", err, out)
	}
	return nil
}

// coldStart is one function's cold start.
type coldStart struct {
	// total is from starting aws-lambda-rie to the first invocation's answer.
	total time.Duration
	// status is the proxy response's statusCode (0 for a non-proxy answer, e.g. an EventBridge handler).
	status int
}

// measureColdStart starts aws-lambda-rie with bootstrap and the local stack's environment, waits for its port,
// invokes it once with event and returns the time from process start to the answer. It stops RIE and the
// bootstrap (their own process group) before returning.
func measureColdStart(ctx context.Context, rie, bootstrap string, event []byte, stack *localstack.Stack) (coldStart, error) {
	rieAddr, err := testkit.FreeAddr()
	if err != nil {
		return coldStart{}, err
	}
	apiAddr, err := testkit.FreeAddr()
	if err != nil {
		return coldStart{}, err
	}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", rieAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TZ=UTC",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"ISSUER_URL=" + coldIssuerURL, "ADMIN_API_KEY_HASHES=" + apigw.HashAPIKey(coldAdminKey),
		"AWS_LAMBDA_FUNCTION_NAME=" + filepath.Base(bootstrap), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "LOG_LEVEL=ERROR"},
		stack.Env()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return coldStart{}, fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := testkit.WaitListening(ctx, rieAddr, 100*time.Millisecond, time.Millisecond, exited); err != nil {
		return coldStart{}, fmt.Errorf("aws-lambda-rie did not listen: %w: %s", err, logs.String())
	}
	body, err := testkit.InvokeRIE(ctx, rieAddr, event)
	took := time.Since(start)
	if err != nil {
		return coldStart{}, fmt.Errorf("%w: %s", err, logs.String())
	}
	var proxy struct {
		StatusCode int `json:"statusCode"`
	}
	_ = json.Unmarshal(body, &proxy) // an EventBridge handler answers no proxy response
	return coldStart{total: took, status: proxy.StatusCode}, nil
}

// benchColdStarts builds every function for the host and measures each one's cold start runs times under
// aws-lambda-rie with its sample event (infra/events/<function>.json); it returns the median per function.
func benchColdStarts(ctx context.Context, root, rie string, stack *localstack.Stack, runs int) (map[string]coldStart, error) {
	if _, err := os.Stat(rie); err != nil {
		return nil, fmt.Errorf("cold starts: aws-lambda-rie missing (make tools): %w", err)
	}
	dirs, err := functionDirs(root)
	if err != nil {
		return nil, err
	}
	bin, err := os.MkdirTemp("", "bench-coldstart-")
	if err != nil {
		return nil, fmt.Errorf("cold starts: %w", err)
	}
	defer os.RemoveAll(bin)
	if err := buildHost(ctx, root, bin); err != nil {
		return nil, fmt.Errorf("cold starts: %w", err)
	}
	out := map[string]coldStart{}
	for _, fn := range dirs {
		event, err := os.ReadFile(filepath.Join(root, "infra", "events", fn+".json"))
		if err != nil {
			return nil, fmt.Errorf("cold start of %s: sample event: %w", fn, err)
		}
		var samples []coldStart
		for range runs {
			cs, err := measureColdStart(ctx, rie, filepath.Join(bin, fn), event, stack)
			if err != nil {
				return nil, fmt.Errorf("cold start of %s: %w", fn, err)
			}
			samples = append(samples, cs)
		}
		slices.SortFunc(samples, func(a, b coldStart) int { return int(a.total - b.total) })
		out[fn] = samples[len(samples)/2]
	}
	return out, nil
}

// bootstrapSizes are the sizes in bytes of dir/<function>/bootstrap (what `make build` writes).
func bootstrapSizes(dir string, functions []string) (map[string]int64, error) {
	out := map[string]int64{}
	var missing []string
	for _, fn := range functions {
		fi, err := os.Stat(filepath.Join(dir, fn, "bootstrap"))
		if err != nil {
			missing = append(missing, fn)
			continue
		}
		out[fn] = fi.Size()
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("bootstraps missing under %s for %v: run make build", dir, missing)
	}
	if len(out) == 0 {
		return out, errors.New("no functions")
	}
	return out, nil
}
