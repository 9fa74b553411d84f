#!/usr/bin/env bash
# fake-gcs-server on 127.0.0.1 for flarehose's Google Cloud Storage tests
# (internal/objstore and the packages that write or read buckets).
#
#   test/objstore/fakegcs.sh start   install once, start (or reuse), wait until
#                                    it answers, print the test environment
#   test/objstore/fakegcs.sh stop    stop it (its objects live in memory and
#                                    go with it)
#
# `start` prints exactly this line on stdout (progress goes to stderr):
#
#   FLAREHOSE_TEST_GCS_ENDPOINT=http://127.0.0.1:<port>
#
# so `set -a; eval "$(test/objstore/fakegcs.sh start)"; set +a` exports it.
#
# Everything lives under $FLAREHOSE_TOOLS_DIR/fake-gcs-server (default
# <repo>/.tools, git-ignored): bin/fake-gcs-server (built once with
# `go install`, pinned below), run/{pid,port,fake-gcs-server.log}.
#
# Knobs (environment):
#   FAKEGCS_PORT           first port tried (default 4443)
#   FAKEGCS_START_TIMEOUT  seconds to wait for the server (default 60)
#   FLAREHOSE_TOOLS_DIR    parent of fake-gcs-server/ (default <repo>/.tools)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FAKEGCS_MODULE="github.com/fsouza/fake-gcs-server@v1.56.1"
STATE="${FLAREHOSE_TOOLS_DIR:-$REPO_ROOT/.tools}/fake-gcs-server"
BIN="$STATE/bin/fake-gcs-server"
RUN_DIR="$STATE/run"
PIDFILE="$RUN_DIR/pid"
PORTFILE="$RUN_DIR/port"
LOG="$RUN_DIR/fake-gcs-server.log"
FIRST_PORT="${FAKEGCS_PORT:-4443}"
TIMEOUT="${FAKEGCS_START_TIMEOUT:-60}"

log() { echo "fake-gcs-server: $*" >&2; }
die() {
	echo "fake-gcs-server: ERROR: $*" >&2
	exit 1
}

# running_pid prints the pid of our server, or fails (the pid file may be
# stale and its pid reused by another process).
running_pid() {
	[[ -s "$PIDFILE" ]] || return 1
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$BIN " || return 1
	echo "$pid"
}

# healthy PORT: the server answers its health check within 5 seconds (curl,
# or bash's /dev/tcp).
healthy() {
	local url="http://127.0.0.1:$1/_internal/healthcheck"
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null
		return
	fi
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET /_internal/healthcheck HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n" "$1" >&3
		head -n1 <&3 | grep -q " 200 "' _ "$1" 2>/dev/null
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() { echo "FLAREHOSE_TEST_GCS_ENDPOINT=http://127.0.0.1:$1"; }

install_fakegcs() {
	[[ -x "$BIN" ]] && return 0
	command -v go >/dev/null 2>&1 || die "go is needed to build fake-gcs-server ($FAKEGCS_MODULE)"
	mkdir -p "$STATE"
	local tmp
	tmp="$(mktemp -d "$STATE/.install.XXXXXX")"
	log "building $FAKEGCS_MODULE (a minute or two the first time)"
	# Outside the repo's module and with no inherited flags: `go install
	# pkg@version` builds it with its own go.mod.
	if ! (cd "$tmp" && GOBIN="$tmp" GOFLAGS= GO111MODULE=on CGO_ENABLED=0 go install "$FAKEGCS_MODULE") >&2; then
		rm -rf "$tmp"
		die "go install $FAKEGCS_MODULE failed"
	fi
	mkdir -p "$STATE/bin"
	mv -f "$tmp/fake-gcs-server" "$BIN"
	rm -rf "$tmp"
}

start() {
	mkdir -p "$RUN_DIR"
	# One start at a time (a parallel start waits, then reuses the server).
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$STATE/lock"
		flock -w 600 9 || die "another fakegcs.sh start holds $STATE/lock"
	fi

	local pid port
	if pid="$(running_pid)"; then
		port="$(cat "$PORTFILE" 2>/dev/null || true)"
		[[ "$port" =~ ^[0-9]+$ ]] || die "a server (pid $pid) runs without $PORTFILE: run $0 stop first"
		if healthy "$port"; then
			log "reusing the running server (pid $pid) on 127.0.0.1:$port"
			print_env "$port"
			return 0
		fi
		log "server (pid $pid) is running but not answering yet; waiting"
	else
		install_fakegcs
		port="$FIRST_PORT"
		while port_busy "$port"; do
			port=$((port + 1))
			((port < FIRST_PORT + 100)) || die "no free port in $FIRST_PORT..$port"
		done

		rm -f "$PIDFILE" "$PORTFILE"
		: >"$LOG"
		log "starting fake-gcs-server on 127.0.0.1:$port (log $LOG)"
		# -public-host: XML API requests (http://<public-host>/<bucket>/<key>)
		# are routed only when their Host matches it. The memory backend
		# keeps nothing on disk, so root and other users run it alike. 9>&-:
		# the server must not inherit (and so hold forever) the start lock.
		setsid "$BIN" -scheme http -host 127.0.0.1 -port "$port" -public-host "127.0.0.1:$port" \
			-backend memory -log-level warn </dev/null >>"$LOG" 2>&1 9>&- &
		pid=$!
		echo "$pid" >"$PIDFILE"
		echo "$port" >"$PORTFILE"
	fi

	local deadline=$((SECONDS + TIMEOUT))
	until healthy "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "last lines of $LOG:"
			tail -n 30 "$LOG" >&2 || true
			rm -f "$PIDFILE" "$PORTFILE"
			die "fake-gcs-server exited during startup"
		fi
		if ((SECONDS >= deadline)); then
			log "last lines of $LOG:"
			tail -n 30 "$LOG" >&2 || true
			die "fake-gcs-server not answering after ${TIMEOUT}s on 127.0.0.1:$port (stop it with $0 stop)"
		fi
		sleep 0.2
	done
	log "ready on 127.0.0.1:$port (pid $pid)"
	print_env "$port"
}

stop() {
	local pid
	if pid="$(running_pid)"; then
		log "stopping pid $pid"
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "pid $pid ignored SIGTERM; killing it"
			kill -9 "$pid" 2>/dev/null || true
		fi
	else
		log "not running"
	fi
	rm -f "$PIDFILE" "$PORTFILE"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
