package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/internal/testkit"
	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
)

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestUsage(t *testing.T) {
	bin := testkit.BuildBinary(t, "withstack")
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"only separator", []string{"--"}},
		{"unknown flag", []string{"-nope", "--", "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(bin, tt.args...).CombinedOutput()
			if exitCode(err) != 2 || !strings.Contains(string(out), "usage") {
				t.Errorf("exit %d, output %q; want 2 and usage", exitCode(err), out)
			}
		})
	}
}

// TestRunsCommandWithStack starts a real stack: the command sees it, its exit code comes through, and the stack
// is gone afterwards.
func TestRunsCommandWithStack(t *testing.T) {
	localstack.SkipWithoutStack(t)
	bin := testkit.BuildBinary(t, "withstack")
	script := `echo "$LOCALSTACK_DYNAMODB_ENDPOINT $LOCALSTACK_KMS_ENDPOINT $LOCALSTACK_KEY_ID $AWS_ENDPOINT_URL_KMS $KMS_KEY_ID"; exit 7`
	cmd := exec.Command(bin, "--", "sh", "-c", script)
	cmd.Dir = "../../../.." // the repository root, where the tools are found
	out, err := cmd.Output()
	if code := exitCode(err); code != 7 {
		t.Fatalf("exit %d (%v), want the command's 7", code, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 5 {
		t.Fatalf("command saw %q, want 5 variables set", out)
	}
	if fields[1] != fields[3] || fields[2] != fields[4] {
		t.Errorf("LOCALSTACK_* and SDK variables disagree: %q", out)
	}
	stack, ok := localstack.FromEnv(func(k string) string {
		return map[string]string{
			localstack.EnvDynamoDBEndpoint: fields[0], localstack.EnvKMSEndpoint: fields[1], localstack.EnvKeyID: fields[2],
		}[k]
	})
	if !ok {
		t.Fatal("exported variables do not describe a stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stack.Ping(ctx); err == nil {
		t.Error("stack still answers after withstack exited")
	}
}
