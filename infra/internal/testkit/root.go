package testkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ErrNoModule is returned by RepoRoot when no directory at or above the working directory holds go.mod.
var ErrNoModule = errors.New("no go.mod above the working directory")

// RepoRoot returns the first directory at or above the working directory holding go.mod: tests run in their
// package directory, tools at the root.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: %w", ErrNoModule)
		}
		dir = parent
	}
}

// MustRepoRoot is RepoRoot failing tb when there is no root.
func MustRepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}
