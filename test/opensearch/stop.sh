#!/usr/bin/env bash
# Stops the node test/opensearch/start.sh started (SIGTERM, then SIGKILL
# after OPENSEARCH_STOP_TIMEOUT seconds, default 60). Its data is kept for
# the next start; --clean removes the node's data, logs and config too (the
# downloaded distribution stays cached).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TIMEOUT="${OPENSEARCH_STOP_TIMEOUT:-60}"
clean=false
[[ "${1:-}" == "--clean" ]] && clean=true

if pid="$(os_pid)"; then
	os_log "stopping pid $pid"
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + TIMEOUT))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			os_log "still running after ${TIMEOUT}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 1
			break
		fi
		sleep 0.2
	done
	os_log "stopped"
else
	os_log "not running"
fi
rm -f "$OS_PIDFILE" "$OS_URLFILE"
if $clean; then
	rm -rf "$OS_NODE"
	os_log "removed $OS_NODE"
fi
