#!/usr/bin/env bash
# fuzz.sh (`make fuzz`): runs every fuzz target of the module for FUZZTIME (default 30s) each, against one local
# stack, and fails if any target finds a failing input (saved under the package's testdata/fuzz).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SCRIPT_NAME=fuzz
source infra/local/lib.sh

if [[ "${1:-}" != "--in-stack" ]]; then
	with_stack bash infra/local/fuzz.sh --in-stack
	exit
fi
run_fuzz "${FUZZTIME:-30s}"
