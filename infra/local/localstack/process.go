package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errExitedEarly marks a tool that ended before it answered.
var errExitedEarly = errors.New("ended before answering")

// outputTailSize bounds how much of a tool's output is kept for error messages.
const outputTailSize = 8 << 10

// tailBuffer keeps the last outputTailSize bytes written to it. The tools write to it from exec's copy goroutines
// while errors read it, hence the lock.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - outputTailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// process is one running tool.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *tailBuffer
	done   chan struct{} // closed when the process has exited and its output is drained
	err    error         // cmd.Wait's result, valid after done is closed
}

// startProcess starts a tool that dies with this process (see sysProcAttr) and records its exit.
func startProcess(name string, cmd *exec.Cmd) (*process, error) {
	p := &process{name: name, cmd: cmd, output: &tailBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild holding the output pipe open must not keep Wait (and so Stop) blocked after the tool ended.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end (SIGTERM), kills it after grace, and waits for it.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// describe is the process's exit state and output tail, for error messages.
func (p *process) describe() string {
	state := "running"
	if p.exited() {
		state = fmt.Sprintf("exited: %v", p.err)
	}
	return fmt.Sprintf("%s (%s); output:\n%s", p.name, state, p.output.String())
}

// waitReady polls ready until it succeeds, the process exits, or ctx ends.
func (p *process) waitReady(ctx context.Context, ready func(context.Context) error) error {
	const interval = 50 * time.Millisecond
	var last error
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(callCtx)
		cancel()
		if last == nil {
			return nil
		}
		if lostPort(p.output.String()) {
			// DynamoDB Local's JVM stays up after its bind failed, and another process may answer on the port.
			return fmt.Errorf("%s %w: it lost its port to another process: %s", p.name, errExitedEarly, p.describe())
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s %w: %s", p.name, errExitedEarly, p.describe())
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer in time (last error: %v): %w; %s", p.name, last, ctx.Err(), p.describe())
		case <-time.After(interval):
		}
	}
}

// lostPort reports whether a tool's output says that it could not bind its port (DynamoDB Local: a
// java.net.BindException, after which its JVM keeps running).
func lostPort(output string) bool {
	return strings.Contains(output, "java.net.BindException") || strings.Contains(output, "Failed to bind to ")
}

// freePort asks the kernel for a free loopback port. Another process may take it before the tool binds it; the
// tool then exits, or says so and keeps running (DynamoDB Local), and Start tries new ports.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("find a free port: listener address is not TCP")
	}
	return addr.Port, nil
}

// envWith returns the environment of this process with the given variables set, later ones winning.
func envWith(vars ...string) []string {
	return append(os.Environ(), vars...)
}
