# tests/lib/deb_repo_serve.sh - the local Debian repositories over HTTP, for e2e scripts.
#
# Source after tests/lib/e2e.sh (it needs $T and track_pid):
#
#   . "$TOP_SRCDIR/tests/lib/e2e.sh"
#   . "$TOP_SRCDIR/tests/lib/deb_repo_serve.sh"
#   deb_repo_start || exit 1        # returns 77 when the repositories cannot be built here
#   curl -s "$DEBREPO_URL/good/dists/bookworm/InRelease"
#
# The repositories are tests/lib/deb-repo.sh's (built once, cached; it says
# what each mirror holds); the server (tests/lib/deb_repo_server.py) listens
# on 127.0.0.1 on a port the kernel picks and stops when the script ends
# (track_pid) or is killed (its parent-death signal).  Call deb_repo_start in
# the script's own shell, not in $(...): it exports variables.
#
# Exports:
#   DEBREPO_DIR   the repositories' directory (keyring.gpg, other-keyring.gpg, pool/, good/...)
#   DEBREPO_URL   http://127.0.0.1:PORT (a mirror root is $DEBREPO_URL/good, /unsigned...)
#   DEBREPO_LOG   the request log: "METHOD PATH STATUS" per request
#   DEBREPO_PID   the server's PID

[[ ,${no_proxy:-}, == *,127.0.0.1,* ]] || export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
[[ ,${NO_PROXY:-}, == *,127.0.0.1,* ]] || export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

deb_repo_start() {
	local d=$T/.deb-repo rc=0 pid port dir
	mkdir -p "$d"
	dir=$("$TOP_SRCDIR/tests/lib/deb-repo.sh" 2>"$d/build.err" | tail -n 1) || rc=$?
	if [[ $rc -ne 0 || ! -f $dir/SHA256SUMS ]]; then
		tail -n 5 "$d/build.err" >&2
		[[ $rc -eq 77 ]] && return 77
		return 1
	fi
	: >"$d/log"
	start_port_server deb_repo_start "$d" /usr/bin/python3 "$TOP_SRCDIR/tests/lib/deb_repo_server.py" \
		--dir "$dir" --port-file "$d/port" --log "$d/log" || return 1
	pid=$SERVER_PID port=$SERVER_PORT
	export DEBREPO_DIR=$dir DEBREPO_URL=http://127.0.0.1:$port DEBREPO_LOG=$d/log DEBREPO_PID=$pid
}
