# tests/lib/e2e.sh - shared helpers for the end-to-end scripts (sourced).
#
# Each check prints one TAP line; tests/run counts them.  Every script gets
# its own scratch directory $T, removed on exit, and every process it starts
# in the background and records with track_pid is stopped on exit.
set -u
: "${DERRICK:?set DERRICK to the derrick binary}"
: "${TOP_SRCDIR:?set TOP_SRCDIR to the source tree}"
EXAMPLE=$TOP_SRCDIR/examples/python-app
T=$(mktemp -d "${TMPDIR:-/tmp}/derrick-e2e.XXXXXX")
# Background servers, one file per pid (holding its start time, so a pid the
# kernel gave to another process since is left alone) in a directory rather
# than a variable: a subshell or a $(...) can record them too.
mkdir "$T/.pids"

# _pid_start PID: the process's start time (field 22 of /proc/PID/stat), or nothing.
_pid_start() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# track_pid PID: stop PID when the script ends, however it ends.  The first
# call also starts a watchdog that stops them should the script be killed
# outright (SIGKILL runs no trap).
track_pid() {
	local s
	s=$(_pid_start "$1")
	[[ -n $s ]] || return 0
	echo "$s" >"$T/.pids/$1"
	mkdir "$T/.pids/.watchdog" 2>/dev/null || return 0
	mkfifo "$T/.pids/.watchdog/tick"
	(
		trap - EXIT INT TERM HUP
		# a read that times out on a fifo nobody writes: a 1 s pause without a
		# `sleep` child that would outlive the watchdog when it is killed
		exec 3<>"$T/.pids/.watchdog/tick"
		while kill -0 "$$" 2>/dev/null; do read -r -t 1 -u 3 _; done
		_stop_tracked
	) </dev/null >/dev/null 2>&1 &
	echo "$!" >"$T/.pids/.watchdog/pid"
	# not a job of the script: a bare `wait` does not wait for it, nor is its end reported
	disown "$!"
}

# The tracked processes still running (same pid, same start time).
_tracked_alive() {
	local f pid
	for f in "$T"/.pids/[0-9]*; do
		[[ -f $f ]] || continue
		pid=${f##*/}
		[[ $(_pid_start "$pid") == "$(<"$f")" ]] && echo "$pid"
	done
}

# Stop every tracked process: TERM, then KILL what is left after 2 s.
_stop_tracked() {
	local pids i
	pids=$(_tracked_alive)
	[[ -n $pids ]] && kill -TERM $pids 2>/dev/null
	for i in $(seq 40); do
		pids=$(_tracked_alive)
		[[ -n $pids ]] || break
		sleep 0.05
	done
	[[ -n $pids ]] && kill -KILL $pids 2>/dev/null
	[[ -f $T/.pids/.watchdog/pid && $BASHPID == "$$" ]] && kill -KILL "$(<"$T/.pids/.watchdog/pid")" 2>/dev/null
	return 0
}
# at_exit CMD: run CMD when the script ends (the last added first), before
# the tracked processes are stopped and $T is removed.  Scripts use this,
# never a `trap ... EXIT` of their own: that would replace the one below, and
# so leave servers running (an old registry_redirect.sh did, for 50 minutes).
_at_exit=()
at_exit() { _at_exit+=("$1"); }

# start_port_server NAME DIR CMD...: run a test server CMD (which must write
# its port to DIR/port once it listens; stdout and stderr go to DIR/err),
# tracked so it is stopped whichever way the script ends; wait for the port.
# Sets SERVER_PID and SERVER_PORT.  1, with the server's last words, when it
# did not start.
start_port_server() {
	local name=$1 dir=$2 i
	shift 2
	"$@" </dev/null >>"$dir/err" 2>&1 &
	SERVER_PID=$!
	track_pid "$SERVER_PID"
	for i in $(seq 200); do
		[[ -s $dir/port ]] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [[ ! -s $dir/port ]]; then
		echo "$name: the server did not start:" >&2
		tail -n 20 "$dir/err" >&2
		return 1
	fi
	read -r SERVER_PORT <"$dir/port"
}
_e2e_exit() {
	local i
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do eval "${_at_exit[i]}"; done
	_stop_tracked
	[[ -n ${KEEP_TMP:-} ]] || rm -rf "$T"
}
trap _e2e_exit EXIT
# signals end the script through the EXIT trap too
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
export SOURCE_DATE_EPOCH=1700000000
# every run gets its own build and blob cache: tests never share state, nor touch the user's
export XDG_CACHE_HOME=$T/xdg-cache
_n=0

ok()     { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $1"; }
skip()   { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP $2"; }
diag()   { sed 's/^/#   /'; }

# show_nulls FILE...: the lines of captured output that show "(null)" (a NULL
# given to printf), as diagnostics: tests/run fails any test that shows one.
show_nulls() { grep -hF '(null)' "$@" 2>/dev/null | sed 's/^/#   output: /'; }

# check NAME CMD...: one TAP line from a command's exit status.
check() {
	local name=$1; shift
	if "$@" >"$T/.check.out" 2>&1; then ok "$name"; else not_ok "$name"; diag <"$T/.check.out"; fi
	show_nulls "$T/.check.out"
}

# same NAME A B: passes when the two strings are equal.
same() {
	if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1"; printf 'got:  %s\nwant: %s\n' "$2" "$3" | diag; fi
	show_nulls <<<"$2"
}

# differ NAME A B: passes when the two strings differ.
differ() {
	if [[ "$2" != "$3" ]]; then ok "$1"; else not_ok "$1"; echo "both: $2" | diag; fi
}

# json_get FILE EXPR: a value from a JSON file, EXPR in Python (d is the document).
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# exists PATH: "exists" or "absent", for checks that a failed run created nothing.
exists() { if [[ -e $1 || -L $1 ]]; then echo exists; else echo absent; fi; }

# tree_state DIR: a fingerprint of every path, type, mode, size and content below DIR.
tree_state() {
	if [[ -e $1 ]]; then
		(cd "$1" && find . -printf '%p %y %m %s\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
	else
		echo "absent"
	fi | sha256sum | cut -d' ' -f1
}

# expect_error NAME PATTERN CMD...: the command must fail (exit 1 or 2) with
# exactly one line on stderr that contains PATTERN (a fixed string).
expect_error() {
	local name=$1 pattern=$2; shift 2
	local rc=0
	"$@" >"$T/.out" 2>"$T/.err" || rc=$?
	local lines
	lines=$(grep -c '' "$T/.err")
	if [[ $rc -ne 0 && $rc -ne 139 && $rc -lt 128 && $lines -eq 1 ]] && grep -qF -- "$pattern" "$T/.err"; then
		ok "$name"
	else
		not_ok "$name"
		{ echo "exit $rc, $lines stderr lines, wanted: $pattern"; cat "$T/.err"; } | diag
	fi
	show_nulls "$T/.out" "$T/.err"
}

# The example's site-packages tree (built from Debian packages once), or skip.
site_packages() {
	"$TOP_SRCDIR/tests/lib/site-packages.sh" 2>"$T/.sp.err" | tail -n 1
}

# copy_example DEST: the example app (with build/site-packages) copied with cp -a.
copy_example() {
	mkdir -p "$1"
	cp -a "$EXAMPLE/." "$1/"
}
