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
# (git-ignored): node_modules/ (the install), data/, log, pid, port.
#
# Knobs (environment):
#   AZURITE_VERSION        npm version (default below)
#   AZURITE_PORT           first port tried (default 10000)
#   AZURITE_START_TIMEOUT  seconds to wait for it to answer (default 60)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="${AZURITE_VERSION:-3.37.0}"
DIR="${FLAREHOSE_TOOLS_DIR:-$REPO_ROOT/.tools}/azurite"
BIN="$DIR/node_modules/.bin/azurite-blob"
PIDFILE="$DIR/pid"
PORTFILE="$DIR/port"
DATA="$DIR/data"
LOG="$DIR/log"
TIMEOUT="${AZURITE_START_TIMEOUT:-60}"
ACCOUNT=devstoreaccount1
# Azurite's documented well-known key for devstoreaccount1 (public, not a
# secret: https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

log() { echo "azurite: $*" >&2; }
die() {
	echo "azurite: ERROR: $*" >&2
	exit 1
}

# running_pid prints the pid of our running Azurite, or fails.
running_pid() {
	[[ -s "$PIDFILE" ]] || return 1
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# The pid may have been reused by something else.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'azurite-blob' || return 1
	echo "$pid"
}

# answers PORT: the blob service replies to HTTP (any status: an
# unauthenticated request gets 403, which is fine).
answers() {
	local code
	code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$1/$ACCOUNT?comp=list" 2>/dev/null)" || true
	[[ -n "$code" && "$code" != 000 ]]
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {
	echo "FLAREHOSE_TEST_AZURE_ENDPOINT=http://127.0.0.1:$1/$ACCOUNT"
	echo "FLAREHOSE_TEST_AZURE_ACCOUNT=$ACCOUNT"
	echo "FLAREHOSE_TEST_AZURE_KEY=$KEY"
}

stop() {
	if pid="$(running_pid)"; then
		log "stopping pid $pid"
		kill -TERM "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + 15))
		while kill -0 "$pid" 2>/dev/null; do
			if ((SECONDS >= deadline)); then
				log "still running after 15s: SIGKILL"
				kill -KILL "$pid" 2>/dev/null || true
				sleep 0.5
				break
			fi
			sleep 0.2
		done
		log "stopped"
	else
		log "not running"
	fi
	rm -rf "$DATA"
	rm -f "$PIDFILE" "$PORTFILE"
}

install() {
	local have
	have="$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$DIR/node_modules/azurite/package.json" 2>/dev/null || true)"
	if [[ -x "$BIN" && "$have" == "$VERSION" ]]; then
		return 0
	fi
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
		die "node and npm are needed to install Azurite (e.g. apt-get install nodejs npm, Node 18 or newer)"
	local major
	major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
	((major >= 18)) || die "Azurite $VERSION needs Node 18 or newer, found $(node --version 2>/dev/null || echo none)"
	log "installing azurite@$VERSION into $DIR with npm${have:+ (replacing $have)}"
	mkdir -p "$DIR"
	# npm caches under ~/.npm: a user without a writable home (nobody,
	# some CI users) gets a cache next to the install instead.
	if [[ -z "${npm_config_cache:-}" ]] && ! { [[ -n "${HOME:-}" && -d "$HOME" && -w "$HOME" ]]; }; then
		export npm_config_cache="$DIR/npm-cache"
	fi
	# npm may warn about an unknown "nodedir" user config: harmless.
	npm install --prefix "$DIR" --no-audit --no-fund --no-save --no-update-notifier --loglevel=error "azurite@$VERSION" >&2 ||
		die "npm install azurite@$VERSION failed"
	[[ -x "$BIN" ]] || die "npm reported success but $BIN is missing"
}

start() {
	mkdir -p "$DIR"
	command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"

	# ---- already running? ----
	local pid port
	if pid="$(running_pid)"; then
		port="$(cat "$PORTFILE" 2>/dev/null || true)"
		[[ "$port" =~ ^[0-9]+$ ]] || die "Azurite (pid $pid) runs without $PORTFILE: run $0 stop first"
		if answers "$port"; then
			log "reusing the running Azurite (pid $pid) on 127.0.0.1:$port"
			print_env "$port"
			return 0
		fi
		log "Azurite (pid $pid) is running but does not answer yet; waiting"
	else
		install
		port="${AZURITE_PORT:-10000}"
		while port_busy "$port"; do
			port=$((port + 1))
			((port < ${AZURITE_PORT:-10000} + 100)) || die "no free port in ${AZURITE_PORT:-10000}..$port"
		done
		rm -rf "$DATA"
		mkdir -p "$DATA"
		: >"$LOG"
		log "starting Azurite $VERSION (blob service) on 127.0.0.1:$port (log $LOG)"
		# --skipApiVersionCheck: azblob sends a newer x-ms-version than this
		# Azurite knows; --loose: ignore headers it does not implement;
		# --disableTelemetry: no outbound calls from a test server.
		(
			cd "$DATA"
			exec setsid "$BIN" --blobHost 127.0.0.1 --blobPort "$port" --location "$DATA" \
				--silent --skipApiVersionCheck --loose --disableTelemetry </dev/null >>"$LOG" 2>&1 9>&-
		) &
		pid=$!
		echo "$pid" >"$PIDFILE"
		echo "$port" >"$PORTFILE"
	fi

	local deadline=$((SECONDS + TIMEOUT))
	until answers "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "last lines of $LOG:"
			tail -n 40 "$LOG" >&2 || true
			rm -f "$PIDFILE" "$PORTFILE"
			die "Azurite exited during startup (log: $LOG)"
		fi
		if ((SECONDS >= deadline)); then
			log "last lines of $LOG:"
			tail -n 40 "$LOG" >&2 || true
			die "Azurite does not answer on 127.0.0.1:$port after ${TIMEOUT}s (log: $LOG; stop it with $0 stop)"
		fi
		sleep 0.2
	done
	log "answering on 127.0.0.1:$port (pid $pid)"
	print_env "$port"
}

case "${1:-}" in
start | stop)
	mkdir -p "$DIR"
	# One start or stop at a time (parallel test runs share the server).
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$DIR/lock"
		flock 9
	fi
	"$1"
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
