package testkit

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildBinary builds the main package of the working directory (go build -o <temp dir>/name .) and returns the
// binary's path; a failed build fails tb with the compiler's output.
func BuildBinary(tb testing.TB, name string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
