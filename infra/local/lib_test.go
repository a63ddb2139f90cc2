package local_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestFuzzDeadlineRace: run_fuzz (lib.sh) lets a fuzz target pass when go test's only complaint is the fuzz
// coordinator's own end-of-fuzztime race (go.dev/issue/75804: "context deadline exceeded" alone, as make test
// printed for FuzzDecode on a busy machine), and nothing else: a failing input, a failure of the target's own
// code (even one saying "context deadline exceeded"), a panic or another target's failure still fail.
func TestFuzzDeadlineRace(t *testing.T) {
	const closing = "FAIL\nexit status 1\nFAIL\tgithub.com/sdjwt-issuer/issuer/shared/statuslist\t3.379s\n"
	progress := "fuzz: elapsed: 0s, gathering baseline coverage: 0/109 completed\n" +
		"fuzz: elapsed: 3s, execs: 42712 (14236/sec), new interesting: 3 (total: 112)\n" +
		"fuzz: elapsed: 3s, execs: 42712 (0/sec), new interesting: 3 (total: 112)\n"
	for _, tc := range []struct {
		name, target, out string
		race              bool
	}{
		{"the coordinator's deadline race", "FuzzDecode",
			progress + "--- FAIL: FuzzDecode (3.31s)\n    context deadline exceeded\n" + closing, true},
		{"a failing input", "FuzzDecode", progress + "--- FAIL: FuzzDecode (0.52s)\n    --- FAIL: FuzzDecode (0.00s)\n" +
			"        fuzz_test.go:31: decoded 3 entries, want 2\n    \n" +
			"    Failing input written to testdata/fuzz/FuzzDecode/5f1e\n    To re-run:\n" +
			"    go test -run=FuzzDecode/5f1e\n" + closing, false},
		{"a failing input that also reports the deadline", "FuzzDecode", progress +
			"--- FAIL: FuzzDecode (3.10s)\n    context deadline exceeded\n" +
			"    Failing input written to testdata/fuzz/FuzzDecode/5f1e\n" + closing, false},
		{"the target's own deadline error", "FuzzDecode", progress + "--- FAIL: FuzzDecode (3.01s)\n" +
			"    --- FAIL: FuzzDecode (0.00s)\n        fuzz_test.go:12: context deadline exceeded\n" + closing, false},
		{"a hung worker", "FuzzDecode", progress + "--- FAIL: FuzzDecode (13.00s)\n" +
			"    fuzzing process hung or terminated unexpectedly: exit status 2\n    context deadline exceeded\n" + closing, false},
		{"a panic", "FuzzDecode", progress + "--- FAIL: FuzzDecode (3.31s)\n    context deadline exceeded\n" +
			"panic: runtime error: index out of range [3] with length 3\n" + closing, false},
		{"another target failed", "FuzzDecode",
			progress + "--- FAIL: FuzzDecodeStrict (3.31s)\n    context deadline exceeded\n" + closing, false},
		{"a build failure", "FuzzDecode", "# github.com/sdjwt-issuer/issuer/shared/statuslist\n" +
			"shared/statuslist/decode.go:12:2: undefined: x\nFAIL\tgithub.com/sdjwt-issuer/issuer/shared/statuslist [build failed]\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("bash", "-c", `source lib.sh && fuzz_deadline_race "$1"`, "bash", tc.target)
			cmd.Stdin = strings.NewReader(tc.out)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("run bash: %v", err)
			}
			if got := err == nil; got != tc.race || len(out) > 0 {
				t.Errorf("fuzz_deadline_race = %v (output %q), want %v", got, out, tc.race)
			}
		})
	}
}
