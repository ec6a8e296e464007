# tests/lib/simple_index.sh - a local Python package index for e2e scripts.
#
# Source after tests/lib/e2e.sh (it needs $T and track_pid):
#
#   . "$TOP_SRCDIR/tests/lib/e2e.sh"
#   . "$TOP_SRCDIR/tests/lib/simple_index.sh"
#   simple_index_start idx "$wheels_dir" [form=json|html|auto] [user=U pass=P] [absolute=1] \
#       [delays=FILE] || exit 1
#   curl -s "$IDX_URL/pyyaml/"
#
# The server (tests/lib/simple_index.py, which says what it serves) listens on
# 127.0.0.1 on a port the kernel picks, and stops when the script ends
# (track_pid), or is killed (its parent-death signal).  Call the functions in
# the script's own shell, not in $(...): they export variables.
#
# Exports, with NAME upper-cased (non-alphanumerics become _), e.g. for "idx":
#   IDX_URL   http://127.0.0.1:PORT/simple   (the index URL, no trailing slash)
#   IDX_BASE  http://127.0.0.1:PORT
#   IDX_LOG   its request log: "METHOD PATH STATUS FORM USER" per request
#   IDX_EVENTS  "begin FILE" and "end FILE" as each download of /files/FILE
#             begins and ends (to tell whether downloads overlapped)
#   IDX_PID   its PID
#
# simple_index_count NAME METHOD PATH_REGEX [STATUS]: how many logged requests
#   match (method and status in full, the path searched with grep -E)
# simple_index_stop NAME: stop it now

# curl and derrick must not send 127.0.0.1 through a proxy
[[ ,${no_proxy:-}, == *,127.0.0.1,* ]] || export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
[[ ,${NO_PROXY:-}, == *,127.0.0.1,* ]] || export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
_si_py=python3
[[ -x /usr/bin/python3 ]] && _si_py=/usr/bin/python3
_si_upper() { local u=${1^^}; echo "${u//[^A-Z0-9]/_}"; }

simple_index_start() {
	local name=${1:?simple_index_start NAME DIR [OPTION...]} dir=${2:?simple_index_start NAME DIR [OPTION...]}
	shift 2
	local u d args=() opt pid port
	u=$(_si_upper "$name")
	d=$T/.simple-index-$name
	mkdir -p "$d"
	: >"$d/log"
	: >"$d/events"
	for opt in "$@"; do
		case $opt in
		form=*) args+=(--form "${opt#form=}") ;;
		user=*) args+=(--user "${opt#user=}") ;;
		pass=*) args+=(--password "${opt#pass=}") ;;
		absolute=1) args+=(--absolute-urls) ;;
		delays=*) args+=(--delays "${opt#delays=}") ;;
		*) echo "simple_index_start: unknown option $opt" >&2; return 1 ;;
		esac
	done
	start_port_server "simple_index_start: $name" "$d" "$_si_py" "$TOP_SRCDIR/tests/lib/simple_index.py" \
		--dir "$dir" --port 0 --port-file "$d/port" --log "$d/log" --events "$d/events" "${args[@]}" || return 1
	pid=$SERVER_PID port=$SERVER_PORT
	export "${u}_BASE=http://127.0.0.1:$port" "${u}_URL=http://127.0.0.1:$port/simple" \
		"${u}_LOG=$d/log" "${u}_EVENTS=$d/events" "${u}_PID=$pid"
}

simple_index_count() {
	local u log
	u=$(_si_upper "$1")
	log=${u}_LOG
	awk -v m="$2" -v s="${4:-}" '$1 ~ "^(" m ")$" && (s == "" || $3 ~ "^(" s ")$") { print $2 }' "${!log}" |
		grep -cE -- "$3"
}

simple_index_stop() {
	local u pid
	u=$(_si_upper "$1")
	pid=${u}_PID
	[[ -n ${!pid:-} ]] && kill -TERM "${!pid}" 2>/dev/null
	return 0
}
