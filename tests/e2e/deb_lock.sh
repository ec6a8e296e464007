#!/usr/bin/env bash
# A `debs` lock (dk_deb_lock_make, through tests/lib/deb_fetch --lock) from
# the suite's local signed repository of real packages (tests/lib/deb-repo.sh):
#  - jq for amd64 on an empty base and on the suite's Debian root (its dpkg
#    status): the entries are what `apt-get install --simulate
#    --no-install-recommends` installs from the same repository on the same
#    status (names, versions, architectures); each entry's url, sha256 and
#    size are those of the .deb the repository serves;
#  - the same bytes when locked again, with the packages or the sources in
#    another order, under another TZ, locale and umask;
#  - amd64 and arm64 together: the arm64 entries are apt's for arm64, an
#    Architecture: all package both need is one entry;
#  - refusals, one line each: a package that does not exist, an
#    unsatisfiable dependency (the chain named), an unsigned or wrongly signed
#    source (an unsigned one is read when trusted), an all package whose
#    version differs between architectures, a stanza whose Filename leaves
#    the repository or that has no SHA256.  The broken repositories are the
#    good one's Packages with one stanza edited, served unsigned (trusted).
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/deb_repo_serve.sh"

TOOL=$(dirname "$DERRICK")/tests/lib/deb_fetch
finish() { echo "1..$_n"; exit 0; }
if [[ ! -x $TOOL ]] || ! command -v gpgv >/dev/null || ! command -v apt-get >/dev/null ||
	! command -v apt-ftparchive >/dev/null; then
	skip "deb lock" "needs tests/lib/deb_fetch (make check), gpgv, apt-get and apt-ftparchive"
	finish
fi
rc=0
deb_repo_start || rc=$?
if [[ $rc -ne 0 ]]; then
	if [[ $rc -eq 77 ]]; then skip "deb lock" "tests/lib/deb-repo.sh cannot build the repositories here"; else not_ok "deb repositories built and served"; fi
	finish
fi
K=$DEBREPO_DIR/keyring.gpg
U=$DEBREPO_URL
GOOD="$U/good bookworm main $K"
lock() { "$TOOL" --lock "$@"; }

# "name version arch" (or with url sha256 size why: --full) per entry of a lock
entries() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
full = sys.argv[1] == "--full"
for e in json.load(open(sys.argv[-1]))["entries"]:
    f = [e["name"], e["version"], e["architecture"]]
    if full:
        f += [e["url"], e["sha256"], str(e["size"]), e["why"]]
    print("\t".join(f))
PY
}

# apt on the same repository: a private state, the given status, one architecture
apt_set() { # ARCH STATUS PACKAGE...: "name version arch" of apt's Inst lines, sorted
	local a=$1 st=$2 d=$T/apt-$1
	shift 2
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/state" "$d/parts"
	echo "deb [signed-by=$K] $U/good bookworm main" >"$d/sources.list"
	local o=(-q -q -o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=$d/parts"
		-o "Dir::State=$d/state" -o "Dir::State::lists=$d/lists" -o "Dir::Cache=$d/cache"
		-o "Dir::State::status=$st" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
		-o "APT::Architecture=$a" -o "APT::Architectures=$a" -o Dir::Etc::Preferences=/dev/null
		-o Dir::Etc::PreferencesParts=/dev/null -o Dir::Etc::TrustedParts=/dev/null)
	[[ -n $(find "$d/lists" -maxdepth 1 -name '*Packages') ]] ||
		apt-get "${o[@]}" update >"$T/apt-update.out" 2>&1 || { cat "$T/apt-update.out" >&2; return 1; }
	apt-get "${o[@]}" install --simulate --no-install-recommends "$@" 2>"$T/apt.err" |
		sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) [^[]*\[\([^]]*\)\]).*/\1 \3 \4/p' | LC_ALL=C sort
}

compare_apt() { # NAME LOCK ARCH STATUS PACKAGE...
	local name=$1 l=$2 a=$3 st=$4
	shift 4
	apt_set "$a" "$st" "$@" >"$T/apt.set"
	entries "$l" | awk -v a="$a" '$3 == a || $3 == "all" { print $1, $2, $3 }' | LC_ALL=C sort >"$T/ours.set"
	if [[ -s $T/apt.set ]] && cmp -s "$T/ours.set" "$T/apt.set"; then
		ok "$name: the entries are what apt-get install --simulate installs ($(wc -l <"$T/apt.set") packages)"
	else
		not_ok "$name: the entries are what apt-get install --simulate installs"
		{ diff "$T/ours.set" "$T/apt.set"; cat "$T/apt.err"; } | diag
	fi
}

# --- jq for amd64 on an empty base ---
: >"$T/empty-status"
check "jq locked for amd64 on an empty base" lock "$T/jq.lock" amd64 "$GOOD" -- jq
compare_apt "empty base" "$T/jq.lock" amd64 "$T/empty-status" jq
same "jq is there, requested" "$(entries --full "$T/jq.lock" | awk -F'\t' '$1 == "jq" { print $7 }')" "requested"
same "libonig5's why is the chain" "$(entries --full "$T/jq.lock" | awk -F'\t' '$1 == "libonig5" { print $7 }')" \
	"jq -> libjq1 -> libonig5"
bad=0
while IFS=$'\t' read -r n v a url sha size _; do
	f=$DEBREPO_DIR/good/${url#"$U/good/"}
	if [[ $url != "$U/good/pool/"* || ! -f $f || $(sha256sum <"$f" | cut -d' ' -f1) != "$sha" ||
		$(stat -L -c %s "$f") != "$size" ]]; then
		echo "$n $v $a: $url $sha $size" | diag
		bad=$((bad + 1))
	fi
	[[ $(basename "$f") == "${n}_${v#*:}_$a.deb" ]] || { echo "$n: $f is not its .deb" | diag; bad=$((bad + 1)); }
done < <(entries --full "$T/jq.lock")
same "every url is the repository's .deb, with its sha256sum and size" "$bad" 0
same "the source and keyring recorded as given" \
	"$(json_get "$T/jq.lock" 'd["sources"][0]["url"] + " " + d["sources"][0]["keyring"] + " " + str(d["sources"][0]["trusted"])')" \
	"$U/good $K False"

# --- on the Debian root's dpkg status ---
root=$("$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/root.err" | tail -n 1) || true
if [[ -n $root && -f $root/var/lib/dpkg/status ]]; then
	status=$root/var/lib/dpkg/status
	check "jq locked for amd64 on the Debian root" lock "$T/jq-root.lock" --status "amd64=$status" amd64 "$GOOD" -- jq
	compare_apt "Debian root as base" "$T/jq-root.lock" amd64 "$status" jq
	same "the base's packages are not locked again (libc6, libonig5 stays)" \
		"$(entries "$T/jq-root.lock" | awk '$1 == "libc6" || $1 == "libonig5" { print $1 }')" "libonig5"
else
	skip "jq on the Debian root" "no Debian root: $(tail -n 1 "$T/root.err")"
fi

# --- the same bytes ---
lock "$T/again.lock" amd64 "$GOOD" -- jq
check "locked twice: the same bytes" cmp "$T/jq.lock" "$T/again.lock"
lock "$T/two.lock" amd64 "$GOOD" -- jq curl
lock "$T/two-rev.lock" amd64 "$GOOD" -- curl jq
check "the packages' order does not matter (the same bytes)" cmp "$T/two.lock" "$T/two-rev.lock"
(umask 077 && TZ=Pacific/Chatham LC_ALL=C.UTF-8 LANG=de_DE.UTF-8 lock "$T/env.lock" amd64 "$GOOD" -- curl jq)
check "another TZ, locale and umask: the same bytes" cmp "$T/two.lock" "$T/env.lock"

# --- repositories made from the good one's Packages, served unsigned (read as trusted) ---
X=$T/x
mkdir -p "$X"
ln -s "$DEBREPO_DIR/pool" "$X/pool"
G=$DEBREPO_DIR/good/dists/bookworm/main
# mirror NAME AWK_AMD64 AWK_ARM64: each arch's Packages through an awk program over its stanzas
mirror() {
	local m=$X/$1 a d
	d=$m/dists/bookworm
	mkdir -p "$m"
	ln -s ../pool "$m/pool"
	for a in amd64 arm64; do
		mkdir -p "$d/main/binary-$a"
		local prog=$2
		[[ $a == arm64 ]] && prog=$3
		awk -v RS= -v ORS='\n\n' "$prog" "$G/binary-$a/Packages" >"$d/main/binary-$a/Packages"
	done
	(cd "$d" && apt-ftparchive -o APT::FTPArchive::Release::Suite=bookworm \
		-o APT::FTPArchive::Release::Codename=bookworm -o APT::FTPArchive::Release::Architectures="amd64 arm64" \
		-o APT::FTPArchive::Release::Components=main release .) >"$T/Release"
	mv "$T/Release" "$d/Release"
}
mirror part1 '/^Package: [a-j]/' '/^Package: [a-j]/'
mirror part2 '!/^Package: [a-j]/' '!/^Package: [a-j]/'
mirror unsat '/^Package: libjq1\n/ { sub(/\nDepends: /, "\nDepends: libonig5 (>= 99), ") } 1' 1
mirror allskew 1 '/^Package: netbase\n/ { sub(/\nVersion: [^\n]*/, "&+arm1") } 1'
mirror badfile '/^Package: netbase\n/ { sub(/\nFilename: /, "\nFilename: pool/../../") }
	/^Package: media-types\n/ { sub(/\nFilename: /, "\nFilename: /") }
	/^Package: sensible-utils\n/ { sub(/\nSHA256: [^\n]*/, "") } 1' 1
start_port_server deb_lock "$X" /usr/bin/python3 "$TOP_SRCDIR/tests/lib/deb_repo_server.py" \
	--dir "$X" --port-file "$X/port" || { not_ok "the edited repositories served"; finish; }
X_U=http://127.0.0.1:$SERVER_PORT
P1="$X_U/part1 bookworm main - trusted"
P2="$X_U/part2 bookworm main - trusted"

lock "$T/p12.lock" amd64 "$P1" "$P2" -- jq
lock "$T/p21.lock" amd64 "$P2" "$P1" -- jq
same "two sources in either order: the same entries" "$(entries --full "$T/p12.lock" | sha256sum)" \
	"$(entries --full "$T/p21.lock" | sha256sum)"
same "each entry's url is its own source's" "$(entries --full "$T/p12.lock" | awk -F'\t' '{ split($4, u, "/"); print $1, u[4] }' | tr '\n' ' ')" \
	"gcc-12-base part1 jq part1 libc6 part2 libgcc-s1 part2 libjq1 part2 libonig5 part2 "
same "split over two sources: the good one's packages and files" \
	"$(entries --full "$T/p12.lock" | awk -F'\t' '{ print $1, $2, $3, $5, $6 }')" \
	"$(entries --full "$T/jq.lock" | awk -F'\t' '{ print $1, $2, $3, $5, $6 }')"
lock "$T/both.lock" amd64 "$GOOD" "$X_U/unsat bookworm main - trusted" -- curl
lock "$T/both-rev.lock" amd64 "$X_U/unsat bookworm main - trusted" "$GOOD" -- curl
same "one version in two sources: the first source's" \
	"$(entries --full "$T/both.lock" | awk -F'\t' '$1 == "curl" { print $4 }' | grep -c "^$U/good/pool/main/c/curl/curl_")$(entries --full "$T/both-rev.lock" | awk -F'\t' '$1 == "curl" { print $4 }' | grep -c "^$X_U/unsat/pool/main/c/curl/curl_")" "11"

check "  ... unsat's other stanzas under good's: good's libjq1, jq resolves" \
	lock "$T/r2.lock" amd64 "$GOOD" "$X_U/unsat bookworm main - trusted" -- jq
expect_error "  ... unsat first: its libjq1 (the same version) is taken" "jq -> libjq1 -> libonig5 (>= 99)" \
	lock "$T/r2.lock" amd64 "$X_U/unsat bookworm main - trusted" "$GOOD" -- jq

# --- amd64 and arm64 together ---
check "jq, netbase and media-types locked for amd64 and arm64" lock "$T/multi.lock" arm64,amd64 "$GOOD" -- jq netbase media-types
compare_apt "arm64" "$T/multi.lock" arm64 "$T/empty-status" jq netbase media-types
compare_apt "amd64 beside arm64" "$T/multi.lock" amd64 "$T/empty-status" jq netbase media-types
same "the arch:all packages appear once" "$(entries "$T/multi.lock" | awk '$3 == "all" { print $1 }' | sort | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ')" \
	"1 media-types 1 netbase "
same "jq for each architecture" "$(entries "$T/multi.lock" | awk '$1 == "jq" { print $3 }' | tr '\n' ' ')" "amd64 arm64 "
same "architectures recorded sorted" "$(json_get "$T/multi.lock" '" ".join(d["architectures"])')" "amd64 arm64"
lock "$T/multi-rev.lock" amd64,arm64 "$GOOD" -- media-types netbase jq
check "the architectures' order does not matter (the same bytes)" cmp "$T/multi.lock" "$T/multi-rev.lock"

# --- refusals ---
expect_error "a package that does not exist" 'no package "no-such-package" for amd64 in the index' \
	lock "$T/r.lock" amd64 "$GOOD" -- jq no-such-package
expect_error "with several architectures, the one that failed is named" 'for arm64: no package "curl" for arm64 in the index' \
	lock "$T/r.lock" amd64,arm64 "$GOOD" -- curl
expect_error "an unsatisfiable dependency names the chain" \
	'jq -> libjq1 -> libonig5 (>= 99): no version satisfies; the index has 6.9.8-1' \
	lock "$T/r.lock" amd64 "$X_U/unsat bookworm main - trusted" -- jq
expect_error "an unsigned source refused, naming it" "$U/unsigned/dists/bookworm/" \
	lock "$T/r.lock" amd64 "$U/unsigned bookworm main $K" -- jq
check "  ... saying it is unsigned" grep -qi -- "unsigned" "$T/.err"
expect_error "a wrongly signed source refused, naming it" "$U/badsig/dists/bookworm/" \
	lock "$T/r.lock" amd64 "$U/badsig bookworm main $K" -- jq
check "  ... and the keyring" grep -qF -- "no valid signature by $K" "$T/.err"
check "an unsigned source marked trusted is read" lock "$T/trusted.lock" amd64 "$U/unsigned bookworm main - trusted" -- jq
same "trusted: the same packages and files" "$(entries --full "$T/trusted.lock" | awk -F'\t' '{ print $1, $2, $5, $6 }')" \
	"$(entries --full "$T/jq.lock" | awk -F'\t' '{ print $1, $2, $5, $6 }')"
check "no lock written by a refusal" test ! -e "$T/r.lock"
expect_error "an all package at two versions for two architectures" \
	"for arm64: netbase (all): amd64 needs 6.4 (requested), arm64 needs 6.4+arm1 (requested)" \
	lock "$T/r.lock" amd64,arm64 "$X_U/allskew bookworm main - trusted" -- netbase
expect_error "a Filename with .. refused, naming the package and the source" \
	"netbase (6.4 all) in $X_U/badfile bookworm: Filename is not a path inside the repository (Filename pool/../../pool/" \
	lock "$T/r.lock" amd64 "$X_U/badfile bookworm main - trusted" -- netbase
expect_error "an absolute Filename refused" "media-types (" \
	lock "$T/r.lock" amd64 "$X_U/badfile bookworm main - trusted" -- media-types
check "  ... saying why" grep -qF -- "Filename is not a path inside the repository (Filename /pool/" "$T/.err"
expect_error "a stanza without SHA256 refused" "sensible-utils (" \
	lock "$T/r.lock" amd64 "$X_U/badfile bookworm main - trusted" -- sensible-utils
check "  ... naming the field" grep -qF -- "in $X_U/badfile bookworm: SHA256 field missing" "$T/.err"
expect_error "an architecture that is not a Debian name" 'invalid architecture "../x"' \
	lock "$T/r.lock" amd64,../x "$GOOD" -- jq
expect_error "an architecture the repository does not have, naming it" "no architecture riscv64" \
	lock "$T/r.lock" riscv64 "$GOOD" -- jq
expect_error "an architecture given twice" "architecture amd64 given twice" \
	lock "$T/r.lock" amd64,amd64 "$GOOD" -- jq
# the keyring gpgv reads may differ from the one the lock records (a spec's relative path)
check "keyring as given in the lock, resolved for gpgv" lock "$T/rel.lock" amd64 "$U/good bookworm main keyring.gpg=$K" -- jq
same "  ... recorded as given" "$(json_get "$T/rel.lock" 'd["sources"][0]["keyring"]')" "keyring.gpg"
finish
