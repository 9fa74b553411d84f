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
# `go install`, pinned below), run/{pid,port,fake-gcs-server.log}. The
# start/stop flow is lib.sh's.
#
# Knobs (environment):
#   FAKEGCS_PORT           first port tried (default 4443)
#   FAKEGCS_START_TIMEOUT  seconds to wait for the server (default 60)
#   FLAREHOSE_TOOLS_DIR    parent of fake-gcs-server/ (default <repo>/.tools)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
FAKEGCS_MODULE="github.com/fsouza/fake-gcs-server@v1.56.1"
NAME=fake-gcs-server
STATE="${FLAREHOSE_TOOLS_DIR:-$REPO_ROOT/.tools}/fake-gcs-server"
BIN="$STATE/bin/fake-gcs-server"
RUN_DIR="$STATE/run"
PIDFILE="$RUN_DIR/pid"
PORTFILE="$RUN_DIR/port"
LOG="$RUN_DIR/fake-gcs-server.log"
MATCH="$BIN "
FIRST_PORT="${FAKEGCS_PORT:-4443}"
TIMEOUT="${FAKEGCS_START_TIMEOUT:-60}"

# shellcheck source=test/objstore/lib.sh
source "$HERE/lib.sh"

healthy() { http_ok "http://127.0.0.1:$1/_internal/healthcheck"; }

print_env() { echo "FLAREHOSE_TEST_GCS_ENDPOINT=http://127.0.0.1:$1"; }

install() { go_install "$FAKEGCS_MODULE" CGO_ENABLED=0; }

launch() {
	log "starting fake-gcs-server on 127.0.0.1:$1 (log $LOG)"
	# -public-host: XML API requests (http://<public-host>/<bucket>/<key>)
	# are routed only when their Host matches it. The memory backend keeps
	# nothing on disk, so root and other users run it alike.
	setsid "$BIN" -scheme http -host 127.0.0.1 -port "$1" -public-host "127.0.0.1:$1" \
		-backend memory -log-level warn </dev/null >>"$LOG" 2>&1 9>&- &
	SERVER_PID=$!
}

objstore_main "$@"
