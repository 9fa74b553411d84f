#!/usr/bin/env bash
# Installs (once, cached under .tools/opensearch) and starts a single-node
# OpenSearch 2.x on 127.0.0.1 for flarehose's Elasticsearch/OpenSearch sink
# tests, waits until it is healthy, writes its URL to .tools/opensearch/url
# and prints it on stdout (progress goes to stderr):
#
#   export FLAREHOSE_OPENSEARCH_URL="$(test/opensearch/start.sh)"
#
# An already running node is reused. The distribution comes from Maven
# Central (the only source this needs): see OS_ARTIFACT in common.sh.
# test/opensearch/stop.sh stops the node (data is kept; stop.sh --clean
# removes it).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TIMEOUT="${OPENSEARCH_START_TIMEOUT:-180}"
HEAP="${OPENSEARCH_HEAP:-512m}"

# ---- already running? ----
if pid="$(os_pid)"; then
	url="$(cat "$OS_URLFILE" 2>/dev/null || true)"
	if [[ -n "$url" ]] && os_healthy "$url"; then
		os_log "reusing the running node (pid $pid) at $url"
		echo "$url"
		exit 0
	fi
	if [[ -n "$url" ]]; then
		# Started but not healthy yet (e.g. a parallel start): wait below.
		os_log "node (pid $pid) is running but not healthy yet; waiting"
		PORT="${url##*:}"
	else
		os_die "a node (pid $pid) runs without $OS_URLFILE: run test/opensearch/stop.sh first"
	fi
fi

# ---- prerequisites: java 11+, maven, unzip (apt-get when missing and root) ----
need_pkgs=()
command -v java >/dev/null 2>&1 || [[ -n "${OPENSEARCH_JAVA_HOME:-}${JAVA_HOME:-}" ]] || need_pkgs+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_pkgs+=(maven)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
if ((${#need_pkgs[@]})); then
	[[ "$(id -u)" == 0 ]] || os_die "missing ${need_pkgs[*]}: install them (apt-get install ${need_pkgs[*]})"
	os_log "installing ${need_pkgs[*]} with apt-get"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"; } >&2 ||
		os_die "apt-get install ${need_pkgs[*]} failed"
fi

if [[ -n "${OPENSEARCH_JAVA_HOME:-}" ]]; then
	JAVA_HOME_FOR_OS="$OPENSEARCH_JAVA_HOME"
elif [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
	JAVA_HOME_FOR_OS="$JAVA_HOME"
else
	JAVA_HOME_FOR_OS="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
fi
[[ -x "$JAVA_HOME_FOR_OS/bin/java" ]] || os_die "no java at $JAVA_HOME_FOR_OS/bin/java (set OPENSEARCH_JAVA_HOME)"
java_major="$("$JAVA_HOME_FOR_OS/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+)(\.[0-9]+)*.*/\1/p')"
[[ -n "$java_major" && "$java_major" -ge 11 ]] || os_die "OpenSearch 2.x needs Java 11+, found '${java_major:-?}' at $JAVA_HOME_FOR_OS"

# ---- install (idempotent) ----
if [[ ! -x "$OS_DIST/bin/opensearch" ]]; then
	mkdir -p "$OS_DIR/download" "$OS_DIR/dist"
	zip="$OS_DIR/download/opensearch-$OS_VERSION.zip"
	if [[ ! -s "$zip" ]]; then
		os_log "downloading $OS_ARTIFACT from Maven Central"
		# dependency:copy resolves through the local repository (~/.m2), so a
		# second checkout on the same machine downloads nothing; Maven checks
		# the artifact's checksum.
		mvn -B -q -Dtransitive=false \
			org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
			-Dartifact="$OS_ARTIFACT" -DoutputDirectory="$OS_DIR/download" -Dmdep.overWriteReleases=true >&2 ||
			os_die "maven could not fetch $OS_ARTIFACT"
		[[ -s "$zip" ]] || os_die "maven reported success but $zip is missing"
	fi
	tmp="$(mktemp -d "$OS_DIR/dist/.unpack.XXXXXX")"
	os_log "unpacking $(basename "$zip")"
	if command -v unzip >/dev/null 2>&1; then
		unzip -q "$zip" -d "$tmp" || os_die "unzip $zip failed"
	else
		(cd "$tmp" && "$JAVA_HOME_FOR_OS/bin/jar" xf "$zip") || os_die "jar xf $zip failed"
	fi
	[[ -d "$tmp/opensearch-$OS_VERSION/bin" ]] || os_die "unexpected layout in $zip"
	chmod -R a+rX "$tmp"
	chmod a+x "$tmp/opensearch-$OS_VERSION/bin/"*
	rm -rf "$OS_DIST"
	mv "$tmp/opensearch-$OS_VERSION" "$OS_DIST"
	rmdir "$tmp"
fi

# ---- who runs it: OpenSearch refuses to run as root ----
RUN=()
if [[ "$(id -u)" == 0 ]]; then
	RUN_AS="$OS_RUN_AS"
	id "$RUN_AS" >/dev/null 2>&1 || os_die "user $RUN_AS does not exist (set OPENSEARCH_RUN_AS)"
	RUN_GROUP="$(id -gn "$RUN_AS")"
	RUN=(setpriv --reuid="$RUN_AS" --regid="$RUN_GROUP" --clear-groups)
	command -v setpriv >/dev/null 2>&1 || RUN=(runuser -u "$RUN_AS" --)
	if ! "${RUN[@]}" test -x "$OS_DIST/bin/opensearch" 2>/dev/null; then
		os_die "user $RUN_AS cannot read $OS_DIST (a parent directory is not searchable by it); set FLAREHOSE_TOOLS_DIR to a directory it can reach"
	fi
fi

# ---- the node's own files ----
if [[ -z "${PORT:-}" ]]; then
	port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
	PORT="${OPENSEARCH_PORT:-9250}"
	while port_busy "$PORT"; do
		PORT=$((PORT + 1))
		((PORT < ${OPENSEARCH_PORT:-9250} + 50)) || os_die "no free port in ${OPENSEARCH_PORT:-9250}..$PORT"
	done
	TPORT=$((PORT + 100))
	while port_busy "$TPORT"; do TPORT=$((TPORT + 1)); done

	mkdir -p "$OS_NODE/config" "$OS_NODE/data" "$OS_NODE/logs"
	# The distribution's config (log4j2.properties etc.) with our own
	# jvm.options: the stock one writes gc logs and heap dumps relative to
	# the distribution, which the run user may not write to.
	for f in log4j2.properties; do
		cp "$OS_DIST/config/$f" "$OS_NODE/config/$f"
	done
	mkdir -p "$OS_NODE/config/jvm.options.d"
	cat >"$OS_NODE/config/jvm.options" <<EOF
-Xms$HEAP
-Xmx$HEAP
11-:-XX:+UseG1GC
11-:-XX:G1ReservePercent=25
11-:-XX:InitiatingHeapOccupancyPercent=30
-Djava.io.tmpdir=\${OPENSEARCH_TMPDIR}
-XX:+HeapDumpOnOutOfMemoryError
-XX:HeapDumpPath=$OS_NODE/data
-XX:ErrorFile=$OS_NODE/logs/hs_err_pid%p.log
9-:-Xlog:gc*,gc+age=trace,safepoint:file=$OS_NODE/logs/gc.log:utctime,pid,tags:filecount=2,filesize=16m
18-:-Djava.security.manager=allow
20-:--add-modules=jdk.incubator.vector
-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory
EOF
	cat >"$OS_NODE/config/opensearch.yml" <<EOF
# Written by test/opensearch/start.sh: a throwaway single-node test cluster.
cluster.name: flarehose-test
node.name: flarehose-test-node
network.host: 127.0.0.1
http.port: $PORT
transport.port: $TPORT
discovery.type: single-node
path.data: $OS_NODE/data
path.logs: $OS_NODE/logs
# CI disks can be nearly full: never turn indices read-only for that.
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: true
EOF
	if [[ -n "${OPENSEARCH_WRITE_QUEUE_SIZE:-}" ]]; then
		echo "thread_pool.write.queue_size: $OPENSEARCH_WRITE_QUEUE_SIZE" >>"$OS_NODE/config/opensearch.yml"
	fi
	if ((${#RUN[@]})); then
		chown -R "$RUN_AS:$RUN_GROUP" "$OS_NODE"
	fi

	os_log "starting OpenSearch $OS_VERSION on 127.0.0.1:$PORT (heap $HEAP, log $OS_LOG)"
	: >"$OS_LOG" 2>/dev/null || true
	rm -f "$OS_PIDFILE" "$OS_URLFILE"
	(
		cd "$OS_NODE"
		exec setsid "${RUN[@]}" env \
			OPENSEARCH_PATH_CONF="$OS_NODE/config" \
			OPENSEARCH_JAVA_HOME="$JAVA_HOME_FOR_OS" \
			"$OS_DIST/bin/opensearch" -p "$OS_PIDFILE" </dev/null >>"$OS_LOG" 2>&1
	) &
	launcher=$!
	mkdir -p "$OS_STATE"
	echo "http://127.0.0.1:$PORT" >"$OS_URLFILE"
fi

URL="http://127.0.0.1:$PORT"
deadline=$((SECONDS + TIMEOUT))
until os_healthy "$URL"; do
	if ((SECONDS >= deadline)); then
		os_log "last lines of $OS_LOG:"
		tail -n 40 "$OS_LOG" >&2 || true
		os_die "node not healthy after ${TIMEOUT}s at $URL (log: $OS_LOG; stop it with test/opensearch/stop.sh)"
	fi
	if [[ -n "${launcher:-}" ]] && ! kill -0 "$launcher" 2>/dev/null && ! os_pid >/dev/null; then
		os_log "last lines of $OS_LOG:"
		tail -n 40 "$OS_LOG" >&2 || true
		rm -f "$OS_URLFILE"
		os_die "OpenSearch exited during startup (log: $OS_LOG)"
	fi
	sleep 1
done
os_log "healthy at $URL (pid $(os_pid || echo '?')) after $((SECONDS))s"
echo "$URL"
