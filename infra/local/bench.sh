#!/usr/bin/env bash
# bench.sh (`make bench`): runs every benchmark of the module with allocation figures, against one local stack.
# BENCHTIME (default: go's 1s) and BENCH (default: .) narrow the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SCRIPT_NAME=bench
source infra/local/lib.sh

if [[ "${1:-}" != "--in-stack" ]]; then
	with_stack bash infra/local/bench.sh --in-stack
	exit
fi
args=(-run '^$' -bench "${BENCH:-.}" -benchmem -count=1 -timeout "${BENCH_TIMEOUT:-30m}")
if [[ -n "${BENCHTIME:-}" ]]; then
	args+=(-benchtime "$BENCHTIME")
fi
say "go test ${args[*]} ./..."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
go test "${args[@]}" ./... 2>&1 | tee "$log" || die "go test -bench failed"
say "results:"
grep -E '^(Benchmark|pkg:)' "$log" || say "no benchmarks found"
