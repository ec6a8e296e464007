#!/usr/bin/env bash
# The Debian modules of src/debian/ against dpkg and apt, on real data: the
# machine's bookworm Packages indexes (apt's lists; read only) and the dpkg
# status of the suite's Debian root (tests/lib/debian-root.sh) as the base.
#  - versions: derrick's order against `dpkg --compare-versions` on generated
#    pairs and pairs of the index's versions (dpkg's answers are cached, one
#    process per pair being slow), and against python3-apt's version_compare
#    over every version of the index, sorted;
#  - the deb822 reader: every stanza and relation field of the index parses,
#    as many stanzas as apt's file has "Package:" lines (the time is shown);
#  - resolution: the set derrick adds equals the "Inst" lines of
#    `apt-get install --simulate --no-install-recommends` on the same base
#    and index, for jq, curl, libpq5, python3-yaml (python3:any),
#    bsd-mailx (default-mta | mail-transport-agent, a virtual alternative),
#    libapt-pkg-dev (a versioned Provides of the base), postgresql-15-bgw-replstatus
#    (a versioned Provides from the index), cron (Pre-Depends), xz-utils
#    (apt upgrades the base's liblzma5 of the same source);
#  - arm64: the arm64 indexes (a private apt lists directory, cached) give
#    arm64/all packages only, the same set apt chooses for arm64.
# The probe tests/lib/debresolve is a test program, not a derrick command.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

probe=${UNIT_DIR:?}/../lib/debresolve
cache=${DERRICK_TEST_CACHE:-/var/cache/derrick-tests}/deb-resolve
lists=/var/lib/apt/lists
finish() { echo "1..$_n"; exit 0; }

if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null || [[ ! -x /usr/lib/apt/apt-helper ]]; then
	skip "deb resolve" "apt-get, dpkg and apt-helper are needed"
	finish
fi
root=$("$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/root.err" | tail -n 1) || true
if [[ -z $root || ! -f $root/var/lib/dpkg/status ]]; then
	skip "deb resolve" "no Debian root: $(tail -n 1 "$T/root.err")"
	finish
fi
status=$root/var/lib/dpkg/status
mkdir -p "$cache" || { skip "deb resolve" "cannot create $cache"; finish; }

# apt's options for a private state: its own lists (when given), cache and
# extended_states; the base's status; one architecture; no pins.
apt_opts() { # ARCH LISTS STATUS
	local d=$cache/apt-$1
	mkdir -p "$d/cache/archives/partial" "$d/state" "$2/partial"
	printf '%s\n' -q -q -o "Dir::State::status=$3" -o "Dir::State=$d/state" -o "Dir::State::lists=$2" \
		-o "Dir::Cache=$d/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root \
		-o "APT::Architecture=$1" -o "APT::Architectures=$1" -o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null
}

# Uncompressed copies of apt's Packages files for ARCH in LISTS, cached by their content.
packages_of() { # ARCH LISTS -> paths, one a line
	local f out
	for f in "$2"/*_binary-"$1"_Packages*; do
		[[ -f $f ]] || continue
		out=$cache/lists/$(sha256sum "$f" | cut -c1-16)-$(basename "${f%.*}")
		[[ $f == *_Packages ]] && out=$f
		if [[ ! -f $out ]]; then
			mkdir -p "$cache/lists"
			/usr/lib/apt/apt-helper cat-file "$f" >"$out.tmp" && mv "$out.tmp" "$out" || return 1
		fi
		echo "$out"
	done
}

mapfile -t amd64 < <(packages_of amd64 "$lists")
if ((${#amd64[@]} == 0)); then
	# no apt lists on this machine: fetch them into a private directory, as arm64's below
	lists=$cache/lists-amd64
	mkdir -p "$lists/partial"
	mapfile -t opts < <(apt_opts amd64 "$lists" "$status")
	apt-get "${opts[@]}" update >"$T/update.out" 2>&1 || true
	mapfile -t amd64 < <(packages_of amd64 "$lists")
fi
if ((${#amd64[@]} == 0)); then
	skip "deb resolve" "no amd64 Packages index in $lists and apt-get update fetched none"
	finish
fi
main=$(printf '%s\n' "${amd64[@]}" | grep -v -e -security -e -updates | head -n 1)

# -- the deb822 reader and the relation parser on the whole index
out=$("$probe" parse "$main" 2>"$T/parse.err")
want=$(grep -c '^Package:' "$main")
same "every stanza of $(basename "$main") parses, relations included" "$(awk '{print $2}' <<<"$out")" "$want"
echo "$out ($(du -m "$main" | cut -f1) MB)" | diag

# -- versions
awk '/^Version:/ { print $2 }' "${amd64[@]}" | LC_ALL=C sort -u >"$T/versions"
nver=$(wc -l <"$T/versions")
/usr/bin/python3 - "$T/versions" >"$T/pairs" <<'PY'
import random, sys
vs = [l.strip() for l in open(sys.argv[1])]
r = random.Random(13)
parts = ["0", "1", "01", "1.0", "1.00", "1.0a", "1.0~rc1", "1.0~", "1.0+", "1.0.", "1a", "1~~", "1~~a",
         "1:1.0", "2:0.1", "10", "9", "1.0-1", "1.0-1~bpo1", "1.0-1+b1", "1.0-0", "1.0-", "a", "1-2-3",
         "1.2+dfsg-1", "1.2+dfsg1-1", "1.2~dfsg-1", "0:1.0", "00:1.0", "1.0-1.1", "1.0-a", "1.0-A", "1.0Z",
         "1.0z", "1.0.0", "1+", "1.", "1~"]
import re
def valid(v):
    # what dpkg's parseversion accepts without a warning
    m = re.fullmatch(r"(?:(\d+):)?(.+?)(?:-([A-Za-z0-9.+~]+))?", v)
    if not m or not re.fullmatch(r"\d[A-Za-z0-9.+~:-]*", m.group(2)) or v.endswith("-"):
        return False
    return m.group(1) is not None or ":" not in m.group(2)
pairs = set()
while len(pairs) < 1500:
    a, b = r.choice(parts) + r.choice(["", "~", "+", ".", "a", "1", "-1", "-1~"]), r.choice(parts)
    if valid(a) and valid(b):
        pairs.add((a, b))
# neighbours in the index's sorted list and random pairs of it
for i in range(0, len(vs) - 1, max(1, len(vs) // 750)):
    pairs.add((vs[i], vs[i + 1]))
while len(pairs) < 3000:
    pairs.add((r.choice(vs), r.choice(vs)))
for a, b in sorted(pairs):
    print(a, b)
PY
npairs=$(wc -l <"$T/pairs")
dpkg_answers=$cache/dpkg-compare-$( { dpkg --version | head -n 1; cat "$T/pairs"; } | sha256sum | cut -c1-16)
if [[ ! -f $dpkg_answers ]]; then
	while read -r a b; do
		if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo "<"
		elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo "="
		else echo ">"; fi
	done <"$T/pairs" >"$dpkg_answers.tmp" && mv "$dpkg_answers.tmp" "$dpkg_answers"
fi
"$probe" compare <"$T/pairs" >"$T/ours"
if cmp -s "$T/ours" "$dpkg_answers"; then
	ok "dk_debver_cmp agrees with dpkg --compare-versions on $npairs pairs"
else
	not_ok "dk_debver_cmp agrees with dpkg --compare-versions on $npairs pairs"
	paste -d' ' "$T/pairs" "$T/ours" "$dpkg_answers" | awk '$3 != $4' | head -n 10 | diag
fi
if /usr/bin/python3 -c 'import apt_pkg' 2>/dev/null; then
	# every version of the index, sorted by python3-apt (dpkg's algorithm in apt), then each neighbour pair
	/usr/bin/python3 -c '
import apt_pkg, functools, sys
apt_pkg.init_system()
vs = [l.strip() for l in open(sys.argv[1])]
vs.sort(key=functools.cmp_to_key(apt_pkg.version_compare))
for a, b in zip(vs, vs[1:]):
    c = apt_pkg.version_compare(a, b)
    print(a, b, "<" if c < 0 else "=" if c == 0 else ">")' "$T/versions" >"$T/sorted"
	cut -d' ' -f1,2 "$T/sorted" | "$probe" compare >"$T/ours2"
	same "dk_debver_cmp orders all $nver versions of the index as python3-apt does" \
		"$(cut -d' ' -f3 "$T/sorted" | cmp - "$T/ours2" && echo same)" "same"
else
	skip "the index's versions sorted as python3-apt" "python3-apt is not installed"
fi

# -- resolution against apt
mapfile -t opts < <(apt_opts amd64 "$lists" "$status")
apt_set() { # OPTS_ARRAY PACKAGE...: "name version arch" of apt's Inst lines, sorted
	local -n o=$1; shift
	apt-get "${o[@]}" install --simulate --no-install-recommends "$@" 2>"$T/apt.err" |
		sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) [^[]*\[\([^]]*\)\]).*/\1 \3 \4/p' | LC_ALL=C sort
}
key=$( { apt-get --version | head -n 1; sha256sum "${amd64[@]}" "$status"; } | sha256sum | cut -c1-16)
reqs=(jq curl libpq5 python3-yaml bsd-mailx libapt-pkg-dev postgresql-15-bgw-replstatus cron xz-utils)
# every case in one run of the probe (the 50 MB of indexes are read once); "== REQUESTS" heads each answer
args=()
for req in "${reqs[@]}" "jq curl libpq5" "libpq5 curl jq" no-such-package jq=0.1; do
	read -ra words <<<"$req"
	args+=(-- "${words[@]}")
done
"$probe" resolve amd64 "$status" "${amd64[@]}" "${args[@]}" >"$T/all" 2>"$T/err" || diag <"$T/err"
answer_of() { awk -v h="== $1" '/^== / { on = ($0 == h); next } on' "$T/all"; }
for req in "${reqs[@]}"; do
	answer=$cache/apt-amd64-$key-$req
	[[ -f $answer ]] || { apt_set opts "$req" >"$answer.tmp" && [[ -s $answer.tmp ]] && mv "$answer.tmp" "$answer"; }
	answer_of "$req" >"$T/ours"
	if grep -q '^error: ' "$T/ours"; then
		not_ok "$req: derrick resolves it"
		diag <"$T/ours"
		continue
	fi
	if [[ -s $answer ]] && cmp -s <(awk '{print $1, $2, $3}' "$T/ours") "$answer"; then
		ok "$req: derrick adds what apt-get install --simulate does ($(wc -l <"$answer") packages)"
	else
		not_ok "$req: derrick adds what apt-get install --simulate does"
		{ diff <(awk '{print $1, $2, $3}' "$T/ours") "$answer"; cat "$T/apt.err"; } | diag
	fi
done
# the why chains and the flags the cases are about
same "why: the chain from the requested package" \
	"$(answer_of jq | awk '$1 == "libonig5" { $1 = $2 = $3 = ""; print }' | sed 's/^ *//')" "jq <- libjq1 <- libonig5"
same "cron: cron-daemon-common is there through a Pre-Depends" \
	"$(answer_of cron | grep -c '^cron-daemon-common .*\[pre-depends\]')" 1
same "xz-utils: the base's liblzma5 is upgraded (same source)" \
	"$(answer_of xz-utils | grep -c '^liblzma5 .* xz-utils <- liblzma5 (same source) \[replaces ')" 1
same "bsd-mailx: default-mta's one provider, exim4-daemon-light, is chosen" \
	"$(answer_of bsd-mailx | grep -c '^exim4-daemon-light ')" 1
# the order of requests and of the indexes does not change a byte
mapfile -t rev < <(printf '%s\n' "${amd64[@]}" | tac)
"$probe" resolve amd64 "$status" "${rev[@]}" -- libpq5 curl jq >"$T/b"
same "the same answer whatever the order of requests and indexes" "$(answer_of "jq curl libpq5" | sha256sum)" \
	"$(sha256sum <"$T/b")"
same "the order of requests in one index" "$(answer_of "libpq5 curl jq" | sha256sum)" "$(sha256sum <"$T/b")"
same "a package that does not exist" "$(answer_of no-such-package)" \
	'error: no package "no-such-package" for amd64 in the index'
same "a version that does not exist names the index's" \
	"$(answer_of jq=0.1 | grep -cF 'error: "jq" has no version 0.1 for amd64; the index has 1.6-2.1')" 1

# -- arm64: a private apt lists directory, fetched once through apt's sources
arm=$cache/lists-arm64
mkdir -p "$arm/partial"
mapfile -t aopts < <(apt_opts arm64 "$arm" /dev/null)
mapfile -t arm64 < <(packages_of arm64 "$arm")
if ((${#arm64[@]} == 0)); then
	apt-get "${aopts[@]}" update >"$T/update.out" 2>&1 || true
	mapfile -t arm64 < <(packages_of arm64 "$arm")
fi
if ((${#arm64[@]} == 0)); then
	skip "arm64 resolution" "no arm64 index: apt-get update failed: $(tail -n 1 "$T/update.out")"
	finish
fi
"$probe" resolve arm64 - "${arm64[@]}" -- jq python3-yaml >"$T/arm" 2>"$T/err" || diag <"$T/err"
same "arm64: every package is arm64 or all" "$(awk '$3 != "arm64" && $3 != "all"' "$T/arm" | wc -l) $(grep -c . "$T/arm")" \
	"0 $(grep -c . "$T/arm")"
answer=$cache/apt-arm64-$( { apt-get --version | head -n 1; sha256sum "${arm64[@]}"; } | sha256sum | cut -c1-16)
[[ -f $answer ]] || { apt_set aopts jq python3-yaml >"$answer.tmp" && [[ -s $answer.tmp ]] && mv "$answer.tmp" "$answer"; }
if [[ -s $answer ]] && cmp -s <(awk '{print $1, $2, $3}' "$T/arm") "$answer"; then
	ok "arm64 on an empty base: derrick adds what apt does ($(wc -l <"$answer") packages)"
else
	not_ok "arm64 on an empty base: derrick adds what apt does"
	{ diff <(awk '{print $1, $2, $3}' "$T/arm") "$answer"; cat "$T/apt.err"; } | diag
fi
finish
