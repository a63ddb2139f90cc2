package localstack

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestTailBufferKeepsLastBytes(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"small", []string{"ab", "cd"}, "abcd"},
		{"exact", []string{strings.Repeat("x", outputTailSize)}, strings.Repeat("x", outputTailSize)},
		{"overflow keeps the end", []string{strings.Repeat("x", outputTailSize), "END"},
			strings.Repeat("x", outputTailSize-3) + "END"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b tailBuffer
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Errorf("kept %d bytes ending %q, want %d ending %q", len(got), got[max(0, len(got)-5):], len(tt.want), tt.want[max(0, len(tt.want)-5):])
			}
		})
	}
}

func TestWaitReadyReportsEarlyExitWithOutput(t *testing.T) {
	p, err := startProcess("failing tool", exec.Command("sh", "-c", "echo address already in use >&2; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = p.waitReady(ctx, func(context.Context) error { return errors.New("connection refused") })
	if !errors.Is(err, errExitedEarly) || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("waitReady = %v, want the exit status and the tool's output", err)
	}
}

// TestWaitReadyPortLostWhileRunning: DynamoDB Local that loses its port to another process between freePort and its
// bind prints a BindException and keeps running (the JVM stays up), and whatever holds the port answers the
// readiness call with something else; waiting out the start timeout then failed make test on a busy machine (seen:
// 117 s, then "DynamoDB Local did not answer in time ... Address already in use"). The lost port is reported at
// once as an early end, so Start tries again on new ports.
func TestWaitReadyPortLostWhileRunning(t *testing.T) {
	p, err := startProcess("java tool", exec.Command("sh", "-c",
		"echo 'Exception in thread \"main\" java.io.IOException: Failed to bind to 0.0.0.0/0.0.0.0:38235' >&2; "+
			"echo 'Caused by: java.net.BindException: Address already in use' >&2; sleep 30"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = p.waitReady(ctx, func(context.Context) error { return errors.New("501: failed to decode response body") })
	if !errors.Is(err, errExitedEarly) || !strings.Contains(err.Error(), "BindException") {
		t.Fatalf("waitReady = %v, want an early end naming the lost port", err)
	}
}

func TestWaitReadyDeadline(t *testing.T) {
	p, err := startProcess("silent tool", exec.Command("sleep", "30"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = p.waitReady(ctx, func(context.Context) error { return errors.New("connection refused") })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("waitReady = %v, want deadline exceeded with the last error", err)
	}
}

func TestStopEndsProcess(t *testing.T) {
	tests := []struct {
		name string
		cmd  []string
	}{
		{"exits on TERM", []string{"sleep", "30"}},
		{"ignores TERM, killed after grace", []string{"sh", "-c", "trap '' TERM; sleep 30 & wait"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := startProcess(tt.name, exec.Command(tt.cmd[0], tt.cmd[1:]...))
			if err != nil {
				t.Fatal(err)
			}
			p.stop(300 * time.Millisecond)
			if !p.exited() {
				t.Fatal("process still running after stop")
			}
		})
	}
}
