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
# run/{data,pid,port,minio.log}. The start/stop flow is lib.sh's.
#
# Knobs (environment):
#   MINIO_PORT            first API port tried (default 9400; the console
#                         gets the next free port after it)
#   MINIO_START_TIMEOUT   seconds to wait for a healthy server (default 60)
#   FLAREHOSE_TOOLS_DIR   parent of minio/ (default <repo>/.tools)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
NAME=minio
STATE="${FLAREHOSE_TOOLS_DIR:-$REPO_ROOT/.tools}/minio"
BIN="$STATE/bin/minio"
RUN_DIR="$STATE/run"
PIDFILE="$RUN_DIR/pid"
PORTFILE="$RUN_DIR/port"
LOG="$RUN_DIR/minio.log"
MATCH="minio server $RUN_DIR/data"
FIRST_PORT="${MINIO_PORT:-9400}"
TIMEOUT="${MINIO_START_TIMEOUT:-60}"
# Test-only credentials of a throwaway server bound to 127.0.0.1.
ACCESS_KEY="flarehose-test"
SECRET_KEY="flarehose-test-secret-key"

# shellcheck source=test/objstore/lib.sh
source "$HERE/lib.sh"

# healthy PORT: alive and ready to serve requests (live alone answers before
# the object layer is up).
healthy() {
	http_ok "http://127.0.0.1:$1/minio/health/live" && http_ok "http://127.0.0.1:$1/minio/health/ready"
}

print_env() {
	echo "FLAREHOSE_TEST_S3_ENDPOINT=http://127.0.0.1:$1"
	echo "FLAREHOSE_TEST_S3_ACCESS_KEY=$ACCESS_KEY"
	echo "FLAREHOSE_TEST_S3_SECRET_KEY=$SECRET_KEY"
}

install() { go_install "$MINIO_MODULE"; }

launch() {
	local cport
	cport="$(free_port $(($1 + 1)))"
	mkdir -p "$RUN_DIR/data"
	log "starting MinIO on 127.0.0.1:$1 (console 127.0.0.1:$cport, log $LOG)"
	MINIO_ROOT_USER="$ACCESS_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" \
		MINIO_BROWSER=off MINIO_UPDATE=off \
		setsid "$BIN" server "$RUN_DIR/data" --address "127.0.0.1:$1" --console-address "127.0.0.1:$cport" \
		</dev/null >>"$LOG" 2>&1 9>&- &
	SERVER_PID=$!
}

remove_data() { rm -rf "$RUN_DIR/data"; }

objstore_main "$@"
