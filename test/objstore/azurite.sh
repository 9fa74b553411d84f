#!/usr/bin/env bash
# Azurite (Azure Blob Storage emulator) for flarehose's objstore tests.
#
#   test/objstore/azurite.sh start   install (once, pinned, from npm), start the
#                                    blob service on 127.0.0.1 (or reuse the
#                                    running one) and print the test variables
#   test/objstore/azurite.sh stop    stop it and remove its data
#
# `start` prints exactly these lines on stdout, progress goes to stderr:
#
#   FLAREHOSE_TEST_AZURE_ENDPOINT=http://127.0.0.1:PORT/devstoreaccount1
#   FLAREHOSE_TEST_AZURE_ACCOUNT=devstoreaccount1
#   FLAREHOSE_TEST_AZURE_KEY=<Azurite's well-known account key>
#
# so `set -a; eval "$(test/objstore/azurite.sh start)"; set +a` works.
#
# Everything lives under ${FLAREHOSE_TOOLS_DIR:-<repo>/.tools}/azurite
# (git-ignored): node_modules/ (the install), data/, log, pid, port. The
# start/stop flow is lib.sh's.
#
# Knobs (environment):
#   AZURITE_VERSION        npm version (default below)
#   AZURITE_PORT           first port tried (default 10000)
#   AZURITE_START_TIMEOUT  seconds to wait for it to answer (default 60)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
VERSION="${AZURITE_VERSION:-3.37.0}"
NAME=azurite
STATE="${FLAREHOSE_TOOLS_DIR:-$REPO_ROOT/.tools}/azurite"
BIN="$STATE/node_modules/.bin/azurite-blob"
PIDFILE="$STATE/pid"
PORTFILE="$STATE/port"
DATA="$STATE/data"
LOG="$STATE/log"
MATCH="azurite-blob"
FIRST_PORT="${AZURITE_PORT:-10000}"
TIMEOUT="${AZURITE_START_TIMEOUT:-60}"
ACCOUNT=devstoreaccount1
# Azurite's documented well-known key for devstoreaccount1 (public, not a
# secret: https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

# shellcheck source=test/objstore/lib.sh
source "$HERE/lib.sh"

# healthy PORT: the blob service replies to HTTP (any status: an
# unauthenticated request gets 403, which is fine).
healthy() { [[ "$(http_status "http://127.0.0.1:$1/$ACCOUNT?comp=list")" =~ ^[1-5][0-9][0-9]$ ]]; }

print_env() {
	echo "FLAREHOSE_TEST_AZURE_ENDPOINT=http://127.0.0.1:$1/$ACCOUNT"
	echo "FLAREHOSE_TEST_AZURE_ACCOUNT=$ACCOUNT"
	echo "FLAREHOSE_TEST_AZURE_KEY=$KEY"
}

install() {
	local have
	have="$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$STATE/node_modules/azurite/package.json" 2>/dev/null || true)"
	if [[ -x "$BIN" && "$have" == "$VERSION" ]]; then
		return 0
	fi
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		die "node and npm are needed to install Azurite (e.g. apt-get install nodejs npm, Node 18 or newer)"
	fi
	local major
	major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
	((major >= 18)) || die "Azurite $VERSION needs Node 18 or newer, found $(node --version 2>/dev/null || echo none)"
	log "installing azurite@$VERSION into $STATE with npm${have:+ (replacing $have)}"
	mkdir -p "$STATE"
	# npm caches under ~/.npm: a user without a writable home (nobody,
	# some CI users) gets a cache next to the install instead.
	if [[ -z "${npm_config_cache:-}" ]] && ! { [[ -n "${HOME:-}" && -d "$HOME" && -w "$HOME" ]]; }; then
		export npm_config_cache="$STATE/npm-cache"
	fi
	# npm may warn about an unknown "nodedir" user config: harmless.
	npm install --prefix "$STATE" --no-audit --no-fund --no-save --no-update-notifier --loglevel=error "azurite@$VERSION" >&2 ||
		die "npm install azurite@$VERSION failed"
	[[ -x "$BIN" ]] || die "npm reported success but $BIN is missing"
}

launch() {
	rm -rf "$DATA"
	mkdir -p "$DATA"
	log "starting Azurite $VERSION (blob service) on 127.0.0.1:$1 (log $LOG)"
	# --skipApiVersionCheck: azblob sends a newer x-ms-version than this
	# Azurite knows; --loose: ignore headers it does not implement;
	# --disableTelemetry: no outbound calls from a test server. Started from
	# $DATA, where it may leave files of its own.
	(
		cd "$DATA"
		exec setsid "$BIN" --blobHost 127.0.0.1 --blobPort "$1" --location "$DATA" \
			--silent --skipApiVersionCheck --loose --disableTelemetry </dev/null >>"$LOG" 2>&1 9>&-
	) &
	SERVER_PID=$!
}

remove_data() { rm -rf "$DATA"; }

objstore_main "$@"
