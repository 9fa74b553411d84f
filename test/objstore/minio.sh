#!/usr/bin/env bash
# MinIO on 127.0.0.1 for flarehose's S3 and R2 tests (internal/objstore and
# the packages that write or read buckets).
#
#   test/objstore/minio.sh start   install once, start (or reuse), wait until
#                                  healthy, print the test environment
#   test/objstore/minio.sh stop    stop it and remove its data
#
# `start` prints exactly these lines on stdout (progress goes to stderr):
#
#   FLAREHOSE_TEST_S3_ENDPOINT=http://127.0.0.1:<port>
#   FLAREHOSE_TEST_S3_ACCESS_KEY=...
#   FLAREHOSE_TEST_S3_SECRET_KEY=...
#
# so `set -a; eval "$(test/objstore/minio.sh start)"; set +a` exports them.
#
# Everything lives under $FLAREHOSE_TOOLS_DIR/minio (default <repo>/.tools,
# git-ignored): bin/minio (built once with `go install`, pinned below),
# run/{data,pid,port,minio.log}.
#
# Knobs (environment):
#   MINIO_PORT            first API port tried (default 9400; the console
#                         gets the next free port after it)
#   MINIO_START_TIMEOUT   seconds to wait for a healthy server (default 60)
#   FLAREHOSE_TOOLS_DIR   parent of minio/ (default <repo>/.tools)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
STATE="${FLAREHOSE_TOOLS_DIR:-$REPO_ROOT/.tools}/minio"
BIN="$STATE/bin/minio"
RUN_DIR="$STATE/run"
PIDFILE="$RUN_DIR/pid"
PORTFILE="$RUN_DIR/port"
LOG="$RUN_DIR/minio.log"
# Test-only credentials of a throwaway server bound to 127.0.0.1.
ACCESS_KEY="flarehose-test"
SECRET_KEY="flarehose-test-secret-key"

log() { echo "minio: $*" >&2; }
die() {
	echo "minio: ERROR: $*" >&2
	exit 1
}

# running_pid prints the pid of our server, or fails (the pid file may be
# stale and its pid reused by another process).
running_pid() {
	[[ -s "$PIDFILE" ]] || return 1
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "minio server $RUN_DIR/data" || return 1
	echo "$pid"
}

# http_ok URL: a 200 answer within 5 seconds (curl, or bash's /dev/tcp).
http_ok() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null
		return
	fi
	local rest="${1#http://}" hostport path
	hostport="${rest%%/*}"
	path="/${rest#*/}"
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3
		head -n1 <&3 | grep -q " 200 "' _ "$hostport" "$path" 2>/dev/null
}

# healthy PORT: alive and ready to serve requests (live alone answers before
# the object layer is up).
healthy() {
	http_ok "http://127.0.0.1:$1/minio/health/live" && http_ok "http://127.0.0.1:$1/minio/health/ready"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {
	echo "FLAREHOSE_TEST_S3_ENDPOINT=http://127.0.0.1:$1"
	echo "FLAREHOSE_TEST_S3_ACCESS_KEY=$ACCESS_KEY"
	echo "FLAREHOSE_TEST_S3_SECRET_KEY=$SECRET_KEY"
}

install_minio() {
	[[ -x "$BIN" ]] && return 0
	command -v go >/dev/null 2>&1 || die "go is needed to build MinIO ($MINIO_MODULE)"
	mkdir -p "$STATE"
	local tmp
	tmp="$(mktemp -d "$STATE/.install.XXXXXX")"
	log "building $MINIO_MODULE (a few minutes the first time)"
	# Outside the repo's module and with no inherited flags: `go install
	# pkg@version` builds MinIO with its own go.mod.
	if ! (cd "$tmp" && GOBIN="$tmp" GOFLAGS= GO111MODULE=on go install "$MINIO_MODULE") >&2; then
		rm -rf "$tmp"
		die "go install $MINIO_MODULE failed"
	fi
	mkdir -p "$STATE/bin"
	mv -f "$tmp/minio" "$BIN"
	rm -rf "$tmp"
}

start() {
	mkdir -p "$RUN_DIR"
	# One start at a time (a parallel start waits, then reuses the server);
	# the server must not inherit the lock's descriptor.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$STATE/lock"
		flock -w 600 9 || die "another minio.sh start holds $STATE/lock"
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
		log "server (pid $pid) is running but not healthy yet; waiting"
	else
		install_minio
		port="${MINIO_PORT:-9400}"
		while port_busy "$port"; do
			port=$((port + 1))
			((port < ${MINIO_PORT:-9400} + 100)) || die "no free port in ${MINIO_PORT:-9400}..$port"
		done
		local cport=$((port + 1))
		while port_busy "$cport"; do cport=$((cport + 1)); done

		rm -f "$PIDFILE" "$PORTFILE"
		mkdir -p "$RUN_DIR/data"
		: >"$LOG"
		log "starting MinIO on 127.0.0.1:$port (console 127.0.0.1:$cport, log $LOG)"
		MINIO_ROOT_USER="$ACCESS_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" \
			MINIO_BROWSER=off MINIO_UPDATE=off \
			setsid "$BIN" server "$RUN_DIR/data" --address "127.0.0.1:$port" --console-address "127.0.0.1:$cport" \
			</dev/null >>"$LOG" 2>&1 9>&- &
		pid=$!
		echo "$pid" >"$PIDFILE"
		echo "$port" >"$PORTFILE"
	fi

	local deadline=$((SECONDS + ${MINIO_START_TIMEOUT:-60}))
	until healthy "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "last lines of $LOG:"
			tail -n 30 "$LOG" >&2 || true
			rm -f "$PIDFILE" "$PORTFILE"
			die "MinIO exited during startup"
		fi
		if ((SECONDS >= deadline)); then
			log "last lines of $LOG:"
			tail -n 30 "$LOG" >&2 || true
			die "MinIO not healthy after ${MINIO_START_TIMEOUT:-60}s on 127.0.0.1:$port (stop it with $0 stop)"
		fi
		sleep 0.3
	done
	log "healthy on 127.0.0.1:$port (pid $pid)"
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
	rm -rf "$RUN_DIR/data"
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
