#!/usr/bin/env bash
# bench.sh (`make bench`): builds the linux/arm64 bootstraps (`make build`), then measures the figures of
# docs/benchmarks.md against one local stack with infra/bench, which prints `BENCH <name> <value> <unit>` lines and
# a table with PASS/MISS per goal. BENCH_ARGS passes flags to infra/bench (e.g. "-flows 1000 -coldstart-runs 5").
# BENCH (a go test -bench pattern) also runs the module's Go benchmarks with allocation figures; BENCHTIME narrows
# them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SCRIPT_NAME=bench
source infra/local/lib.sh

if [[ "${1:-}" != "--in-stack" ]]; then
	say "make build (linux/arm64 bootstraps, for bootstrap_max_mb)"
	make --no-print-directory build >&2 || die "make build"
	with_stack bash infra/local/bench.sh --in-stack
	exit
fi

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/bench" ./infra/bench || die "build infra/bench"
rc=0
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
"$dir/bench" -bootstraps bin ${BENCH_ARGS:-} || rc=$?

if [[ -n "${BENCH:-}" ]]; then
	args=(-run '^$' -bench "$BENCH" -benchmem -count=1 -timeout "${BENCH_TIMEOUT:-30m}")
	if [[ -n "${BENCHTIME:-}" ]]; then
		args+=(-benchtime "$BENCHTIME")
	fi
	say "go test ${args[*]} ./..."
	log="$dir/go-bench.log"
	go test "${args[@]}" ./... 2>&1 | tee "$log" || die "go test -bench failed"
	say "results:"
	grep -E '^(Benchmark|pkg:)' "$log" || say "no benchmarks found"
fi
[[ "$rc" -eq 0 ]] || die "a measurement failed (see above)"
