//go:build unix

package rie

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
	"github.com/sdjwt-issuer/issuer/shared/apigw"
)

const (
	repoRoot  = "../.."
	issuerURL = "https://issuer.example.com"
	// sampleAdminKey is the key the sample admin events carry (infra/events/README.md).
	sampleAdminKey = "local-dev-key"
)

// candidate is a function to run and the sample event to invoke it with; the first one present is used.
type candidate struct {
	dir   string
	event string
	check func(t *testing.T, resp events.APIGatewayProxyResponse)
}

var candidates = []candidate{
	{dir: "metadata", event: "metadata.json", check: func(t *testing.T, resp events.APIGatewayProxyResponse) {
		var meta struct {
			CredentialIssuer   string `json:"credential_issuer"`
			CredentialEndpoint string `json:"credential_endpoint"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &meta); err != nil {
			t.Fatalf("metadata body is not JSON: %v\n%s", err, resp.Body)
		}
		if meta.CredentialIssuer != issuerURL || !strings.HasPrefix(meta.CredentialEndpoint, issuerURL+"/") {
			t.Errorf("credential_issuer %q, credential_endpoint %q; want them on %q", meta.CredentialIssuer, meta.CredentialEndpoint, issuerURL)
		}
	}},
	{dir: "definitions", event: "definitions-list.json", check: func(t *testing.T, resp events.APIGatewayProxyResponse) {
		var list map[string]json.RawMessage
		if err := json.Unmarshal([]byte(resp.Body), &list); err != nil || len(list) == 0 {
			t.Errorf("definitions list body %q: %v", resp.Body, err)
		}
	}},
}

// TestBootstrapUnderRIE builds a real function for the host, runs it under aws-lambda-rie with the function's
// environment pointing at the local stack, and invokes it with a sample API Gateway event.
func TestBootstrapUnderRIE(t *testing.T) {
	localstack.SkipWithoutStack(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	rie := filepath.Join(root, ".tools", "bin", "aws-lambda-rie")
	if _, err := os.Stat(rie); err != nil {
		t.Fatalf("aws-lambda-rie is not installed at %s: run make tools (%v)", rie, err)
	}
	var fn *candidate
	for i := range candidates {
		if _, err := os.Stat(filepath.Join(root, "functions", candidates[i].dir, "main.go")); err == nil {
			fn = &candidates[i]
			break
		}
	}
	if fn == nil {
		t.Fatal("none of the functions this test can run exists under functions/")
	}
	stack := localstack.ForTest(t)

	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "./functions/"+fn.dir)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build functions/%s: %v\n%s", fn.dir, err, out)
	}

	rieAddr, apiAddr := testkit.MustFreeAddr(t), testkit.MustFreeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", rieAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Dir = dir
	cmd.Env = functionEnv(stack)
	// Own process group: the cleanup stops RIE and the bootstrap it started together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start aws-lambda-rie: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	t.Cleanup(stop)
	waitListening(t, rieAddr, exited, &logs)

	event, err := os.ReadFile(filepath.Join(root, "infra", "events", fn.event))
	if err != nil {
		t.Fatal(err)
	}
	out := invoke(t, rieAddr, event, &logs)
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("the invocation answered no proxy response: %v\n%s\nRIE log:\n%s", err, out, logs.String())
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s\nRIE log:\n%s", resp.StatusCode, resp.Body, logs.String())
	}
	if resp.Body == "" {
		t.Fatal("empty body")
	}
	fn.check(t, resp)
	// The function writes its log line before it answers, but the line reaches logs through a pipe that os/exec
	// drains in a goroutine, which may be behind the response on a busy machine: stop RIE and the function and
	// read logs once cmd.Wait has copied everything they wrote (make test saw 0 lines when it read at once).
	stop()
	checkRequestLogLine(t, event, logs.String())
}

// checkRequestLogLine finds the function's one JSON log line for the invocation among RIE's output and checks
// what it carries: the event's request id and route, status 200, a latency, and the AWS calls the real SDK
// clients made (counted by the middleware the cold start attaches); never the request body.
func checkRequestLogLine(t *testing.T, event []byte, output string) {
	t.Helper()
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatalf("sample event: %v", err)
	}
	var lines []map[string]any
	for _, raw := range strings.Split(output, "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(strings.TrimSpace(raw)), &line) == nil && line["msg"] == "request" {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d request log lines, want 1; output:\n%s", len(lines), output)
	}
	line := lines[0]
	if line["request_id"] != ev.RequestContext.RequestID || line["route"] != ev.HTTPMethod+" "+ev.Resource ||
		line["status"] != float64(http.StatusOK) {
		t.Errorf("log line %v, want request_id %q, route %q, status 200", line, ev.RequestContext.RequestID, ev.HTTPMethod+" "+ev.Resource)
	}
	if _, ok := line["latency_ms"].(float64); !ok {
		t.Errorf("log line %v has no latency_ms", line)
	}
	if calls, _ := line["aws_calls"].(float64); calls < 1 {
		t.Errorf("log line %v counts no AWS calls, but the function read the table", line)
	}
	if len(ev.Body) > 3 && strings.Contains(output, ev.Body) {
		t.Error("the request body reached the log")
	}
}

// functionEnv is the Lambda environment of the function: the stack's endpoints and table, the configuration
// variables of docs/design.md, and nothing from a developer's AWS setup.
func functionEnv(stack *localstack.Stack) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TZ=UTC",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"ISSUER_URL=" + issuerURL, "ADMIN_API_KEY_HASHES=" + apigw.HashAPIKey(sampleAdminKey),
		"AWS_LAMBDA_FUNCTION_NAME=rie-test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256"}
	return append(env, stack.Env()...)
}

func waitListening(t *testing.T, addr string, exited chan error, logs *testkit.SyncBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := testkit.WaitListening(ctx, addr, 200*time.Millisecond, 50*time.Millisecond, exited); err != nil {
		t.Fatalf("aws-lambda-rie did not listen on %s within 30 s (%v):\n%s", addr, err, logs.String())
	}
}

func invoke(t *testing.T, addr string, event []byte, logs *testkit.SyncBuffer) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := testkit.InvokeRIE(ctx, addr, event)
	if err != nil {
		t.Fatalf("%v: %s\nRIE log:\n%s", err, out, logs.String())
	}
	return out
}
