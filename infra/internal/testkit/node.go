package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sdjwt-issuer/issuer/infra/local/localstack"
)

// nodeTimeout bounds one run of a node script by RunNode.
const nodeTimeout = 2 * time.Minute

// NodeModulesDir is where the pinned npm packages of infra/node are: NODE_MODULES_DIR, else
// <root>/.tools/node/node_modules.
func NodeModulesDir(root string) string {
	if modules := os.Getenv("NODE_MODULES_DIR"); modules != "" {
		return modules
	}
	return filepath.Join(root, ".tools", "node", "node_modules")
}

// FindNode returns the node binary on PATH after checking that modules holds the npm package pkg (for example
// "@sd-jwt/sd-jwt-vc").
func FindNode(modules, pkg string) (string, error) {
	node, lookErr := exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join(modules, filepath.FromSlash(pkg), "package.json"))
	if lookErr != nil || statErr != nil {
		return "", fmt.Errorf("node or %s not found (node: %v; modules %s: %v): run make tools "+
			"(or set NODE_MODULES_DIR to an npm ci of infra/node)", pkg, lookErr, modules, statErr)
	}
	return node, nil
}

// Node finds node and the pinned npm packages, which must hold pkg. Without them tb skips, naming `make test`
// (which installs them), under -short or in a plain `go test`; it fails under `make test`
// (localstack.EnvRequired set), where the interoperability tests must run.
func Node(tb testing.TB, pkg string) (node, modules string) {
	tb.Helper()
	modules = NodeModulesDir(MustRepoRoot(tb))
	node, err := FindNode(modules, pkg)
	if err != nil {
		if os.Getenv(localstack.EnvRequired) != "" {
			tb.Fatal(err)
		}
		tb.Skipf("node or %s missing: run `make test`, which installs the pinned npm packages (%v)", pkg, err)
	}
	return node, modules
}

// NodeCommand is the command running node on script with args, the pinned npm packages in modules on NODE_PATH.
func NodeCommand(ctx context.Context, node, modules, script string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	return cmd
}

// RunNode runs the node script (a path, relative to the working directory or absolute) with args, input as JSON
// on stdin and the npm packages found by Node (pkg among them), within 2 minutes, and decodes its stdout into
// output. A failed run or an undecodable output fails tb.
func RunNode(tb testing.TB, pkg, script string, input, output any, args ...string) {
	tb.Helper()
	node, modules := Node(tb, pkg)
	in, err := json.Marshal(input)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := NodeCommand(ctx, node, modules, script, args...)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s: %v: %s", script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), output); err != nil {
		tb.Fatalf("%s: output %q: %v", script, stdout.String(), err)
	}
}
