package template

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// modulePath is the Go module every function's main package lives in.
const modulePath = "github.com/sdjwt-issuer/issuer"

// TestMakefileBuildsLambdaBootstraps runs, for every function of the template, the build-<LogicalId> target that
// SAM's makefile builder calls, and checks the artifact is what provided.al2023 on arm64 runs: an executable
// named bootstrap in ARTIFACTS_DIR, a static linux/arm64 ELF (CGO off: no interpreter), built from
// ./functions/<dir> with -tags lambda.norpc.
func TestMakefileBuildsLambdaBootstraps(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles every function")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not on PATH: install it (the README's commands need it too): %v", err)
	}
	f := loadFixture(t, templateFile)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range f.functionIDs() {
		t.Run(id, func(t *testing.T) {
			dir, ok := f.targets[id]
			if !ok {
				t.Fatalf("the Makefile has no build-%s target", id)
			}
			artifacts := t.TempDir()
			cmd := exec.Command("make", "-C", root, "build-"+id, "ARTIFACTS_DIR="+artifacts)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", id, err, out)
			}
			checkBootstrap(t, filepath.Join(artifacts, "bootstrap"), dir)
		})
	}
}

// checkBootstrap checks one built bootstrap: executable, static linux/arm64 ELF, main package functions/<dir>,
// built with CGO_ENABLED=0 and the lambda.norpc tag.
func checkBootstrap(t *testing.T, path, dir string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no bootstrap in ARTIFACTS_DIR: %v", err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %v)", path, st.Mode())
	}
	bin, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	defer bin.Close()
	if bin.Machine != elf.EM_AARCH64 || bin.Class != elf.ELFCLASS64 {
		t.Errorf("bootstrap is %v %v, want EM_AARCH64 ELFCLASS64", bin.Machine, bin.Class)
	}
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("bootstrap is dynamically linked (PT_INTERP): build it with CGO_ENABLED=0")
		}
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("read build info: %v", err)
	}
	if want := modulePath + "/functions/" + dir; info.Path != want {
		t.Errorf("main package %s, want %s", info.Path, want)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0"} {
		if settings[key] != want {
			t.Errorf("built with %s=%q, want %q", key, settings[key], want)
		}
	}
	if !hasTag(settings["-tags"], "lambda.norpc") {
		t.Errorf("built with -tags %q, want lambda.norpc (no RPC server in a provided.al2023 bootstrap)", settings["-tags"])
	}
}

func hasTag(tags, want string) bool {
	for _, tag := range strings.Split(tags, ",") {
		if tag == want {
			return true
		}
	}
	return false
}

// TestMakeBuildBuildsEveryFunction checks, without building, that `make build` builds every function of the
// template the same way: linux/arm64, CGO off, -tags lambda.norpc, to bin/<dir>/bootstrap.
func TestMakeBuildBuildsEveryFunction(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not on PATH: install it (the README's commands need it too): %v", err)
	}
	f := loadFixture(t, templateFile)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "-n", "-B", "-C", root, "build").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	for _, id := range f.functionIDs() {
		dir := f.targets[id]
		target := regexp.MustCompile(`-o bin/` + regexp.QuoteMeta(dir) + `/bootstrap \./functions/` + regexp.QuoteMeta(dir) + `$`)
		var line string
		for _, l := range lines {
			if target.MatchString(strings.TrimSpace(l)) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("%s: make build does not build ./functions/%s to bin/%s/bootstrap:\n%s", id, dir, dir, out)
			continue
		}
		for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "-tags lambda.norpc"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: make build runs %q, which lacks %s", id, strings.TrimSpace(line), want)
			}
		}
	}
}
