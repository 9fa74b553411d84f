# Shared settings of start.sh and stop.sh (sourced, not run).
#
# Everything lives under $OS_DIR (default <repo>/.tools/opensearch, which is
# git-ignored):
#   dist/opensearch-<version>/  the unpacked distribution (read-only)
#   node/{config,data,logs}      the node's own files (owned by the run user)
#   node/pid                     the JVM's pid while it runs
#   url                          http://127.0.0.1:<port> of the running node
#
# Knobs (environment):
#   OPENSEARCH_VERSION        2.x version from Maven Central (default below)
#   OPENSEARCH_PORT           first HTTP port tried (default 9250)
#   OPENSEARCH_HEAP           JVM heap (default 512m)
#   OPENSEARCH_RUN_AS         user the node runs as when started by root
#                             (OpenSearch refuses root; default nobody)
#   OPENSEARCH_START_TIMEOUT  seconds to wait for a healthy node (default 180)
#   FLAREHOSE_TOOLS_DIR       parent of opensearch/ (default <repo>/.tools)

set -euo pipefail

OS_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OS_VERSION="${OPENSEARCH_VERSION:-2.19.6}"
OS_STATE="${FLAREHOSE_TOOLS_DIR:-$OS_REPO_ROOT/.tools}/opensearch"
OS_DIR="$OS_STATE"
OS_RUN_AS="${OPENSEARCH_RUN_AS:-nobody}"
# As root the node runs as $OS_RUN_AS, which must reach the files: a
# checkout under a private directory (mode 700, e.g. made by mktemp -d)
# gets them under /var/tmp instead (the URL file stays in $OS_STATE).
if [[ -z "${FLAREHOSE_TOOLS_DIR:-}" && "$(id -u)" == 0 ]] && id "$OS_RUN_AS" >/dev/null 2>&1 &&
	! setpriv --reuid="$OS_RUN_AS" --regid="$(id -g "$OS_RUN_AS")" --clear-groups test -x "$OS_REPO_ROOT" 2>/dev/null; then
	OS_DIR="/var/tmp/flarehose-opensearch-$(printf %s "$OS_REPO_ROOT" | md5sum | cut -c1-12)"
fi
OS_DIST="$OS_DIR/dist/opensearch-$OS_VERSION"
OS_NODE="$OS_DIR/node"
OS_PIDFILE="$OS_NODE/pid"
OS_URLFILE="$OS_STATE/url"
OS_LOG="$OS_NODE/logs/stdout.log"
# Maven coordinates: the minimal OpenSearch distribution (no plugins, so no
# security plugin; no bundled JDK), published to Maven Central for
# integration tests.
OS_ARTIFACT="org.opensearch.distribution.integ-test-zip:opensearch:$OS_VERSION:zip"

os_log() { echo "opensearch: $*" >&2; }
os_die() {
	echo "opensearch: ERROR: $*" >&2
	exit 1
}

# os_pid prints the pid of our running node, or fails.
os_pid() {
	[[ -s "$OS_PIDFILE" ]] || return 1
	local pid
	pid="$(cat "$OS_PIDFILE" 2>/dev/null)" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Only a JVM running OpenSearch counts (the pid may have been reused).
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'org.opensearch.bootstrap.OpenSearch' || return 1
	echo "$pid"
}

# os_healthy URL: the node answers and the cluster is at least yellow.
os_healthy() {
	curl -fsS --max-time 5 "$1/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null |
		grep -Eq '"status":"(green|yellow)"'
}
