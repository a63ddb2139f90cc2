# lib.sh: shared by test.sh, fuzz.sh and bench.sh (sourced; the caller sets -euo pipefail and cds to the root).

say() { printf '%s: %s\n' "${SCRIPT_NAME:-local}" "$*"; }
die() { printf '%s: FAILED: %s\n' "${SCRIPT_NAME:-local}" "$*" >&2; exit 1; }

# with_stack CMD...: runs CMD with a local stack exported (cmd/withstack), or directly when the caller already
# runs inside one. The wrapper is built, not `go run`, so that the command's exit code comes through unchanged.
with_stack() {
	if [[ -n "${LOCALSTACK_KMS_ENDPOINT:-}" ]]; then
		"$@"
		return
	fi
	local dir rc=0
	dir="$(mktemp -d)"
	if ! go build -o "$dir/withstack" ./infra/local/cmd/withstack; then
		rm -rf "$dir"
		die "build infra/local/cmd/withstack"
	fi
	"$dir/withstack" -- "$@" || rc=$?
	rm -rf "$dir"
	return "$rc"
}

# fuzz_targets: prints "package FuzzName" for every fuzz target of the module.
fuzz_targets() {
	local listing
	listing="$(go test -list '^Fuzz' ./...)" || {
		printf '%s\n' "$listing" >&2
		die "go test -list '^Fuzz' ./... (does everything compile?)"
	}
	# Names come before their package's "ok <package> <time>" line.
	printf '%s\n' "$listing" | awk '/^Fuzz/ { names[n++] = $1; next } /^ok / { for (i = 0; i < n; i++) print $2, names[i]; n = 0 }'
}

# fuzz_deadline_race NAME < OUTPUT: true when the only failure in go test's OUTPUT for fuzz target NAME is the
# fuzz coordinator reporting its own -fuzztime deadline: a bare "context deadline exceeded" under the FAIL line,
# no failing input written, nothing else. That is a race in Go's internal/fuzz (go.dev/issue/75804, fixed in
# Go 1.27; go1.26's stop() compares the error with the workers' context before the deadline has reached it),
# which a busy machine hits at the end of a timed run; a finding always writes "Failing input written to ...".
fuzz_deadline_race() {
	awk -v header="--- FAIL: $1 (" '
		/Failing input written to/ { bad = 1 }
		index($0, header) == 1 { seen++; next }
		!seen { next }
		$0 == "    context deadline exceeded" { deadline++; next }
		$0 == "FAIL" || $0 == "exit status 1" || /^FAIL\t/ { next }
		{ bad = 1 }
		END { exit !(seen == 1 && deadline == 1 && !bad) }'
}

# run_fuzz TIME: runs every fuzz target for TIME each; returns non-zero if any failed.
run_fuzz() {
	local fuzztime="$1" targets pkg name out failed=0 count=0
	targets="$(fuzz_targets)"
	if [[ -z "$targets" ]]; then
		say "no fuzz targets found"
		return 0
	fi
	while read -r pkg name; do
		count=$((count + 1))
		if out="$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1)"; then
			say "fuzz ok   $pkg $name ($fuzztime)"
		elif fuzz_deadline_race "$name" <<<"$out"; then
			say "fuzz ok   $pkg $name ($fuzztime; go test then reported the fuzzing deadline race of go.dev/issue/75804, no failing input)"
		else
			failed=$((failed + 1))
			say "fuzz FAIL $pkg $name"
			printf '%s\n' "$out" | tail -n 40
		fi
	done <<<"$targets"
	say "fuzz: $count targets, $failed failed"
	[[ "$failed" -eq 0 ]]
}
