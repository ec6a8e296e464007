# shellcheck shell=bash
# tests/lib/debs.sh - what the `debs` layer's e2e scripts share (sourced
# after tests/lib/e2e.sh): the served local Debian repository, the suite's
# Debian root as a base image, and locks written by apt (deblock_oracle.py).
#
#   debs_start || exit      skips the script (1..N, exit 0) when the parts are missing
#   debs_base_image oci:DIR/base:1 [ROOTFS]
#   debs_oracle_lock OUT STATUS|none PKG...
#   debs_spec FILE BASE LOCK '"PKG", ...' [EXTRA_MEMBERS]
#   deb_of LOCK PKG
#
# Sets: PY (Debian's python3), ROOT (the Debian root), SRC_URL (the good
# mirror over http), KEYRING, and what deb_repo_serve.sh exports.
. "$TOP_SRCDIR/tests/lib/deb_repo_serve.sh"

# shellcheck disable=SC2034  # for the scripts that source this
PY=/usr/bin/python3 KIT=$TOP_SRCDIR/tests/lib/debkit.py

debs_start() {
	local rc=0
	ROOT=$("$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/root.err" | tail -n 1) || true
	if [[ -z $ROOT || ! -f $ROOT/var/lib/dpkg/status ]]; then
		skip "debs layer" "no Debian root: $(tail -n 1 "$T/root.err")"
		echo "1..$_n"
		exit 0
	fi
	if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
		skip "debs layer" "apt-get and dpkg-deb are needed (the lock's oracle)"
		echo "1..$_n"
		exit 0
	fi
	deb_repo_start || rc=$?
	if ((rc)); then
		if ((rc == 77)); then skip "debs layer" "no local Debian repository here"; else not_ok "the local Debian repository is served"; fi
		echo "1..$_n"
		exit 0
	fi
	SRC_URL=$DEBREPO_URL/good
	KEYRING=$DEBREPO_DIR/keyring.gpg
}

# debs_base_image REF [ROOTFS]: a one-layer image of ROOTFS (default: the Debian root) written to REF.
debs_base_image() {
	local d
	d=$(mktemp -d "$T/base.XXXXXX")
	ln -s "${2:-$ROOT}" "$d/rootfs"
	echo '{ "base": "scratch", "stages": [ { "name": "system", "layers": [ { "source": "rootfs", "dest": "/" } ] } ] }' \
		>"$d/base.json"
	"$DERRICK" build -q -f "$d/base.json" -o "$1" >"$d/out" 2>"$d/err" || { cat "$d/err" >&2; return 1; }
}

# debs_oracle_lock OUT STATUS|none PKG...: the lock apt's choice gives (amd64, the good mirror).
debs_oracle_lock() {
	local out=$1 status=$2
	shift 2
	$PY "$TOP_SRCDIR/tests/lib/deblock_oracle.py" --mirror "$DEBREPO_DIR/good" --url "$SRC_URL" \
		--keyring "$KEYRING" --status "$status" --arch amd64 --state "$T/apt-oracle" --out "$out" "$@"
}

# deb_of LOCK PKG: the file that PKG's entry in LOCK names (LOCK from debs_oracle_lock)
deb_of() {
	local url
	url=$(json_get "$1" "[e['url'] for e in d['entries'] if e['name'] == '$2'][0]")
	echo "$DEBREPO_DIR/good/${url#"$SRC_URL/"}"
}

# debs_spec FILE BASE LOCK PKGS [EXTRA]: a spec with one debs layer (stage "tools") on BASE;
# PKGS and EXTRA are JSON text put inside the packages array and the debs object.
debs_spec() {
	cat >"$1" <<-EOF
	{ "base": "$2",
	  "stages": [ { "name": "tools", "layers": [ { "debs": { "lock": "$3",
	      "sources": [ { "url": "$SRC_URL", "suite": "bookworm", "components": ["main"], "keyring": "$KEYRING" } ],
	      "packages": [$4]${5:+, $5} } } ] } ] }
	EOF
}
