package testkit

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestSyncBufferConcurrentWrites(t *testing.T) {
	tests := []struct {
		name    string
		writers int
		each    int
		line    string
	}{
		{"empty", 0, 0, "x\n"},
		{"one writer", 1, 10, "line\n"},
		{"many writers", 8, 200, "ab\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b SyncBuffer
			var wg sync.WaitGroup
			for range tt.writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range tt.each {
						if n, err := b.Write([]byte(tt.line)); err != nil || n != len(tt.line) {
							t.Errorf("Write = %d, %v", n, err)
						}
						_ = b.String()
					}
				}()
			}
			wg.Wait()
			if got, want := b.String(), strings.Repeat(tt.line, tt.writers*tt.each); got != want {
				t.Errorf("String() has %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot() = %s without go.mod: %v", root, err)
	}
	if got := MustRepoRoot(t); got != root {
		t.Errorf("MustRepoRoot = %s, want %s", got, root)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if rel, err := filepath.Rel(root, wd); err != nil || rel != filepath.Join("infra", "internal", "testkit") {
		t.Errorf("root %s is not two levels above %s (%q, %v)", root, wd, rel, err)
	}
}

func TestRepoRootOutsideAModule(t *testing.T) {
	t.Chdir(t.TempDir())
	if root, err := RepoRoot(); !errors.Is(err, ErrNoModule) {
		t.Fatalf("RepoRoot() = %q, %v; want ErrNoModule", root, err)
	}
}

func TestFreeAddr(t *testing.T) {
	tests := []struct {
		name string
		get  func(*testing.T) string
		host bool
	}{
		{"FreeAddr", func(t *testing.T) string {
			addr, err := FreeAddr()
			if err != nil {
				t.Fatal(err)
			}
			return addr
		}, true},
		{"MustFreeAddr", func(t *testing.T) string { return MustFreeAddr(t) }, true},
		{"MustFreePort", func(t *testing.T) string { return "127.0.0.1:" + MustFreePort(t) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.get(t)
			host, port, err := net.SplitHostPort(addr)
			if err != nil || host != "127.0.0.1" || port == "" || port == "0" {
				t.Fatalf("address %q: host %q port %q (%v)", addr, host, port, err)
			}
			// The port is free again: the test can listen on it.
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("listen on %s: %v", addr, err)
			}
			ln.Close()
		})
	}
}

func TestNodeModulesDir(t *testing.T) {
	tests := []struct {
		name, env, root, want string
	}{
		{"default under the root", "", "/repo", filepath.Join("/repo", ".tools", "node", "node_modules")},
		{"NODE_MODULES_DIR wins", "/elsewhere/node_modules", "/repo", "/elsewhere/node_modules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NODE_MODULES_DIR", tt.env)
			if got := NodeModulesDir(tt.root); got != tt.want {
				t.Errorf("NodeModulesDir(%q) = %q, want %q", tt.root, got, tt.want)
			}
		})
	}
}

func TestFindNodeChecksThePackage(t *testing.T) {
	modules := t.TempDir()
	pkgDir := filepath.Join(modules, "@scope", "present")
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkgDir, "package.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "node"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		pkg     string
		wantErr bool
	}{
		{"node and package", bin, "@scope/present", false},
		{"package missing", bin, "@scope/absent", true},
		{"node missing", t.TempDir(), "@scope/present", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			node, err := FindNode(modules, tt.pkg)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.pkg) {
					t.Fatalf("FindNode = %q, %v; want an error naming %s", node, err, tt.pkg)
				}
				return
			}
			if err != nil || node != filepath.Join(bin, "node") {
				t.Fatalf("FindNode = %q, %v; want %s", node, err, filepath.Join(bin, "node"))
			}
		})
	}
}

func TestNodeCommand(t *testing.T) {
	cmd := NodeCommand(t.Context(), "/usr/bin/node", "/m", "s.cjs", "1", "2")
	if got, want := strings.Join(cmd.Args, " "), "/usr/bin/node s.cjs 1 2"; got != want {
		t.Errorf("args %q, want %q", got, want)
	}
	if last := cmd.Env[len(cmd.Env)-1]; last != "NODE_PATH=/m" {
		t.Errorf("last env entry %q, want NODE_PATH=/m", last)
	}
}

func TestRunNodeDecodesTheOutput(t *testing.T) {
	var out struct {
		Echo map[string]any `json:"echo"`
		N    string         `json:"n"`
	}
	RunNode(t, "@sd-jwt/sd-jwt-vc", "testdata/echo.cjs", map[string]any{"a": "b"}, &out, "7")
	if out.Echo["a"] != "b" || out.N != "7" {
		t.Errorf("output %+v", out)
	}
}

func TestTemplateFunctions(t *testing.T) {
	ids := TemplateFunctions(t, filepath.Join(MustRepoRoot(t), "template.yaml"))
	for _, want := range []string{"TokenFunction", "CredentialFunction", "MetadataFunction"} {
		if !slices.Contains(ids, want) {
			t.Errorf("functions %v lack %s", ids, want)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("functions %v are not sorted", ids)
	}
}
