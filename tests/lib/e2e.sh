# tests/lib/e2e.sh - shared helpers for the end-to-end scripts (sourced).
#
# Each check prints one TAP line; tests/run counts them.  Every script gets
# its own scratch directory $T, removed on exit.
set -u
: "${DERRICK:?set DERRICK to the derrick binary}"
: "${TOP_SRCDIR:?set TOP_SRCDIR to the source tree}"
EXAMPLE=$TOP_SRCDIR/examples/python-app
T=$(mktemp -d "${TMPDIR:-/tmp}/derrick-e2e.XXXXXX")
[[ -n ${KEEP_TMP:-} ]] || trap 'rm -rf "$T"' EXIT
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
