# shellcheck shell=bash
# What test/objstore/{minio,fakegcs,azurite}.sh share (sourced, not run):
# one start/stop flow for a test server on 127.0.0.1, kept under .tools.
#
# A script sets these, defines the hooks below, then runs
# `objstore_main "$@"`:
#
#   NAME        prefix of its stderr lines ("minio")
#   STATE       its directory under ${FLAREHOSE_TOOLS_DIR:-<repo>/.tools}
#   PIDFILE     the server's pid, PORTFILE its port, LOG its output
#   MATCH       a string the server's command line holds (the pid file
#               may be stale and its pid reused by another process)
#   FIRST_PORT  the first port tried; TIMEOUT seconds to wait for health
#
#   install         install the server once (does nothing when installed;
#                   go_install below does it for a Go command)
#   launch PORT     start it in the background on 127.0.0.1:PORT, output
#                   to $LOG, as `setsid ... </dev/null >>"$LOG" 2>&1 9>&- &`
#                   (9>&-: the server must not inherit, and so hold forever,
#                   the lock), and set SERVER_PID to its pid
#   healthy PORT    succeeds when it serves requests
#   print_env PORT  the KEY=VALUE lines `start` prints on stdout
#   remove_data     optional: what `stop` deletes besides the pid and port

log() { echo "$NAME: $*" >&2; }
die() {
	echo "$NAME: ERROR: $*" >&2
	exit 1
}

# running_pid prints the pid of our running server, or fails.
running_pid() {
	[[ -s "$PIDFILE" ]] || return 1
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$MATCH" || return 1
	echo "$pid"
}

# http_status URL prints the status of a GET on URL, or 000 when nothing
# answers within 5 seconds (curl, or bash's /dev/tcp without it).
http_status() {
	if command -v curl >/dev/null 2>&1; then
		curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null || true
		return
	fi
	local rest="${1#http://}" hostport path
	hostport="${rest%%/*}"
	path="/${rest#*/}"
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3
		read -r _ code _ <&3 && echo "${code//[^0-9]/}"' _ "$hostport" "$path" 2>/dev/null || echo 000
}

http_ok() { [[ "$(http_status "$1")" == 200 ]]; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port FIRST prints the first port from FIRST on that nothing on
# 127.0.0.1 listens on (trying 100).
free_port() {
	local port="$1"
	while port_busy "$port"; do
		port=$((port + 1))
		((port < $1 + 100)) || die "no free port in $1..$port"
	done
	echo "$port"
}

# lock holds $STATE/lock until the script exits: one start or stop at a
# time (a parallel start waits, then reuses the server).
lock() {
	command -v flock >/dev/null 2>&1 || return 0
	exec 9>"$STATE/lock"
	flock -w 600 9 || die "another $(basename "$0") holds $STATE/lock"
}

# go_install MODULE@VERSION [VAR=VALUE...] builds the module's command once
# into $BIN, with the variables given added to the environment.
go_install() {
	[[ -x "$BIN" ]] && return 0
	local module="$1"
	shift
	command -v go >/dev/null 2>&1 || die "go is needed to build $module"
	mkdir -p "$STATE"
	local tmp
	tmp="$(mktemp -d "$STATE/.install.XXXXXX")"
	log "building $module (a few minutes the first time)"
	# Outside the repo's module and with no inherited flags: `go install
	# pkg@version` builds it with its own go.mod.
	if ! (cd "$tmp" && env GOBIN="$tmp" GOFLAGS='' GO111MODULE=on "$@" go install "$module") >&2; then
		rm -rf "$tmp"
		die "go install $module failed"
	fi
	mkdir -p "$(dirname "$BIN")"
	mv -f "$tmp/$(basename "$BIN")" "$BIN"
	rm -rf "$tmp"
}

# show_log prints the end of the server's log on stderr.
show_log() {
	log "last lines of $LOG:"
	tail -n 30 "$LOG" >&2 || true
}

objstore_start() {
	mkdir -p "$(dirname "$PIDFILE")"
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
		install
		port="$(free_port "$FIRST_PORT")"
		rm -f "$PIDFILE" "$PORTFILE"
		: >"$LOG"
		launch "$port"
		pid="$SERVER_PID"
		echo "$pid" >"$PIDFILE"
		echo "$port" >"$PORTFILE"
	fi

	local deadline=$((SECONDS + TIMEOUT))
	until healthy "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			show_log
			rm -f "$PIDFILE" "$PORTFILE"
			die "the server exited during startup (log: $LOG)"
		fi
		if ((SECONDS >= deadline)); then
			show_log
			die "not healthy after ${TIMEOUT}s on 127.0.0.1:$port (log: $LOG; stop it with $0 stop)"
		fi
		sleep 0.2
	done
	log "healthy on 127.0.0.1:$port (pid $pid)"
	print_env "$port"
}

objstore_stop() {
	local pid
	if pid="$(running_pid)"; then
		log "stopping pid $pid"
		kill "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + 15))
		while kill -0 "$pid" 2>/dev/null; do
			if ((SECONDS >= deadline)); then
				log "pid $pid ignored SIGTERM for 15s; killing it"
				kill -9 "$pid" 2>/dev/null || true
				sleep 0.5
				break
			fi
			sleep 0.2
		done
	else
		log "not running"
	fi
	if declare -F remove_data >/dev/null; then
		remove_data
	fi
	rm -f "$PIDFILE" "$PORTFILE"
}

objstore_main() {
	case "${1:-}" in
	start | stop)
		mkdir -p "$STATE"
		lock
		"objstore_$1"
		;;
	*)
		echo "usage: $0 start|stop" >&2
		exit 2
		;;
	esac
}
