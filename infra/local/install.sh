#!/usr/bin/env bash
# install.sh: installs the pinned local tools into <repo>/.tools (what `make tools` runs).
#   .tools/bin/local-kms, .tools/bin/aws-lambda-rie   go install of pinned pseudo-versions
#   .tools/bin/staticcheck                           go install of a pinned release (make test lints with it)
#   .tools/node/node_modules                          npm ci of infra/node/package{,-lock}.json
#   chromium (Debian package)                         only with --browser (make test): the console's browser tests
# Idempotent: each step is skipped when its stamp says the same version is already installed.
set -euo pipefail
WITH_BROWSER=0
[[ "${1:-}" == "--browser" ]] && WITH_BROWSER=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
NODE_DIR="$TOOLS/node"

GO_TOOLS=(
	"local-kms github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6"
	"aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
	"staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2"
)

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: FAILED: %s\n' "$*" >&2; exit 1; }

need() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH: $2"
}

need go "install Go (see go.mod for the version)"
need java "install a Java 17+ runtime (DynamoDB Local runs on it)"
need npm "install Node.js 20 with npm"
java_version="$(java -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')" ||
	die "'java -version' does not run: fix the Java installation"
java_major="${java_version%%.*}"
[[ "$java_major" == "1" ]] && java_major="$(cut -d. -f2 <<<"$java_version")"
[[ "$java_major" =~ ^[0-9]+$ && "$java_major" -ge 17 ]] ||
	die "Java ${java_version:-unknown} found; DynamoDB Local needs Java 17 or newer"

mkdir -p "$BIN" "$NODE_DIR"

# Go tools: a stamp file next to each binary records the module@version it was built from.
for entry in "${GO_TOOLS[@]}"; do
	name="${entry%% *}"
	module="${entry#* }"
	stamp="$BIN/.$name.version"
	if [[ -x "$BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$module" ]]; then
		say "$name up to date ($module)"
		continue
	fi
	say "go install $module"
	if ! (cd "$ROOT" && GOBIN="$BIN" go install "$module"); then
		die "go install $module (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
	fi
	[[ -x "$BIN/$name" ]] || die "go install $module did not produce $BIN/$name"
	printf '%s\n' "$module" >"$stamp"
done

# npm packages: reinstall only when package.json or package-lock.json changed since the last install.
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
src_json="$ROOT/infra/node/package.json"
src_lock="$ROOT/infra/node/package-lock.json"
[[ -f "$src_json" && -f "$src_lock" ]] || die "missing $src_json or $src_lock"
want="$(hash_of "$src_json" "$src_lock")"
stamp="$NODE_DIR/.install-stamp"
jar="$NODE_DIR/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$jar" ]]; then
	say "node packages up to date (lockfile ${want:0:12})"
else
	say "npm ci in $NODE_DIR (lockfile ${want:0:12})"
	cp "$src_json" "$src_lock" "$NODE_DIR/"
	rm -f "$stamp"
	if ! (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error); then
		die "npm ci in $NODE_DIR (is the npm registry reachable?)"
	fi
	[[ -f "$jar" ]] || die "npm ci did not install $jar"
	printf '%s\n' "$want" >"$stamp"
fi

# Chromium for the console's browser tests (infra/console): Debian's package, installed with apt-get when it is
# missing and this user may install packages (root, or sudo without a password). Where it cannot be installed the
# tests skip and say why; nothing else needs it.
if [[ "$WITH_BROWSER" == 1 ]]; then
	if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
		say "chromium present ($(command -v chromium || command -v chromium-browser))"
	elif ! command -v apt-get >/dev/null 2>&1; then
		say "WARNING: no chromium and no apt-get: the console's browser tests will be skipped (install Chromium, or set CHROMIUM to it)"
	else
		sudo=()
		if [[ "$(id -u)" != 0 ]]; then
			if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
				sudo=(sudo -n)
			else
				sudo=(false)
			fi
		fi
		apt_install() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; }
		say "apt-get install chromium (for the console's browser tests)"
		if apt_install >/dev/null 2>&1 || { "${sudo[@]}" apt-get update -q >/dev/null 2>&1 && apt_install >/dev/null 2>&1; }; then
			say "chromium installed ($(command -v chromium))"
		else
			say "WARNING: could not install chromium with apt-get (not root, or no package source): the console's browser tests will be skipped"
		fi
	fi
fi

say "done: tools in $TOOLS"
