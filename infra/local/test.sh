#!/usr/bin/env bash
# test.sh (`make test`): installs the tools, checks that go.mod/go.sum are tidy, vets, then runs every test and
# briefly every fuzz target against one local stack. FUZZTIME_BRIEF (default 3s) is the time per fuzz target;
# TEST_TIMEOUT (default 30m) bounds go test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SCRIPT_NAME=test
source infra/local/lib.sh

if [[ "${1:-}" != "--in-stack" ]]; then
	bash infra/local/install.sh --browser
	say "go mod tidy -diff"
	go mod tidy -diff || die "go mod tidy would change go.mod/go.sum (diff above): run \`go mod tidy\` and commit the result"
	# Build outputs (a Go binary is tens of MiB) never belong in the repository: two were committed by mistake once.
	say "tracked files under 1 MiB"
	big="$(git ls-files -z | xargs -0 -r stat -c '%s %n' -- 2>/dev/null | awk '$1 > 1048576 {print $2 " (" $1 " bytes)"}')"
	[[ -z "$big" ]] || die "tracked files over 1 MiB (build outputs? git rm --cached them and add them to .gitignore): $big"
	say "go vet ./..."
	go vet ./... || die "go vet"
	say "staticcheck ./..."
	.tools/bin/staticcheck ./... || die "staticcheck"
	with_stack bash infra/local/test.sh --in-stack
	exit
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
rc=0
# LOCALSTACK_REQUIRED: a test that needs the stack or the npm packages fails here instead of skipping.
say "go test -count=1 -p 2 ./..."
LOCALSTACK_REQUIRED=1 go test -count=1 -p 2 -timeout "${TEST_TIMEOUT:-30m}" ./... 2>&1 | tee "$log" || rc=$?
ok=$(grep -cE '^ok ' "$log" || true)
failed=$(grep -cE '^FAIL[[:space:]]' "$log" || true)
none=$(grep -cE '^\?' "$log" || true)
say "go test: $ok packages ok, $failed failed, $none without tests"

fuzz_rc=0
run_fuzz "${FUZZTIME_BRIEF:-3s}" || fuzz_rc=$?

if [[ "$rc" -ne 0 ]]; then
	die "go test exited $rc"
fi
if [[ "$fuzz_rc" -ne 0 ]]; then
	die "fuzzing found failures (inputs saved under the package's testdata/fuzz)"
fi
say "all passed"
