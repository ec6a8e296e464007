#!/usr/bin/env bash
# wheels_build.sh - "wheels" layers end to end: a lock (pylock.toml with paths
# or URLs, requirements with find_links or an index in JSON and HTML form)
# planned for a target, split into layers, cached by the plan (a second build
# asks the index nothing and compresses nothing), the same pure layers for
# amd64 and arm64, the defaults from a base image, and every refusal as one
# line naming the package or line.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/simple_index.sh"

PY=/usr/bin/python3
W=$(bash "$TOP_SRCDIR/tests/lib/test-wheels.sh" 2>"$T/wheels.err" | tail -n 1)
if [[ -z $W || ! -f $W/SHA256SUMS ]]; then
	skip "wheels builds" "no test wheels: $(tail -n 1 "$T/wheels.err")"
	echo "1..$_n"
	exit 0
fi
D=$T/p
mkdir -p "$D"
cp -r "$W/wheels" "$W/clash" "$W/pylock.toml" "$W/pylock.clash.toml" "$W/requirements.txt" \
	"$W/requirements.clash.txt" "$D/"
chmod -R u+w "$D"
cd "$D" || exit 1
export SOURCE_DATE_EPOCH=0

# lock_of FILE WHEEL...: a pylock.toml of these wheels, by path
lock_of() {
	local out=$1 f b v
	shift
	printf 'lock-version = "1.0"\ncreated-by = "test"\n' >"$out"
	for f; do
		b=${f##*/} && v=${b#*-} && b=${b%%-*}
		printf '[[packages]]\nname = "%s"\nversion = "%s"\n[[packages.wheels]]\npath = "%s"\nhashes = { sha256 = "%s" }\n' \
			"${b//_/-}" "${v%%-*}" "$f" "$(sha256sum "$f" | cut -c1-64)" >>"$out"
	done
}

# spec FILE WHEELS_JSON [BASE]: a one-layer-entry spec
spec() {
	printf '{ "base": "%s", "stages": [ { "name": "deps", "layers": [ { "wheels": { %s } } ] } ] }\n' \
		"${3:-scratch}" "$2" >"$1"
}
TARGET='"python": "3.11", "libc": "glibc 2.36"'
# layers JSON: "history|cache|digest" per layer
layers() { json_get "$1" "'\n'.join('%s|%s|%s' % (l['created_by'].split(': ', 1)[1], l['cache'], l['digest']) for l in d['layers'] if l['stage'] == 'deps')"; }
digest_of() { grep -F "$2|" <<<"$1" | cut -d'|' -f3; }

# ---------------------------------------------------------------- pylock.toml with paths, two platforms
spec lock.json "\"lock\": \"pylock.toml\", $TARGET"
"$DERRICK" build -f lock.json -o oci:amd --platform linux/amd64 --json >amd.json 2>amd.err
check "pylock.toml with paths builds for linux/amd64" test -s amd.json
A=$(layers amd.json)
same "the split: a layer per large-or-platform package, pure ones grouped, the history names them" \
	"$(cut -d'|' -f1 <<<"$A" | tr '\n' ';')" \
	"WHEELS dk-cext==0.3.0;WHEELS pyyaml==6.0;WHEELS dk-data-files==2.1;WHEELS dk-entry-points==1.0.0 dk-ns-one==1.0 dk-ns-two==1.0;"
blob() { echo "oci-$1/blobs/sha256/${2#sha256:}"; }
ydig=$(digest_of "$A" "WHEELS pyyaml==6.0")
tar -tzf "amd/blobs/sha256/${ydig#sha256:}" >amd-yaml.list
check "amd64: the x86_64 _yaml extension, in site-packages" grep -q 'usr/local/lib/python3.11/site-packages/yaml/_yaml.*x86_64-linux-gnu.so$' amd-yaml.list

"$DERRICK" build -f lock.json -o oci:arm --platform linux/arm64 --json >arm.json 2>arm.err
R=$(layers arm.json)
ydig=$(digest_of "$R" "WHEELS pyyaml==6.0")
tar -tzf "arm/blobs/sha256/${ydig#sha256:}" >arm-yaml.list
check "arm64: the aarch64 _yaml extension" grep -q 'site-packages/yaml/_yaml.*aarch64-linux-gnu.so$' arm-yaml.list
same "arm64: dk-cext's marker (platform_machine == x86_64) leaves it out" \
	"$(grep -c dk-cext <<<"$R")" 0
same "the pure layers of amd64 and arm64 are the same blobs" \
	"$(digest_of "$A" "WHEELS dk-data-files==2.1") $(digest_of "$A" "WHEELS dk-entry-points")" \
	"$(digest_of "$R" "WHEELS dk-data-files==2.1") $(digest_of "$R" "WHEELS dk-entry-points")"
same "arm64 after amd64: the pure layers are cache hits" \
	"$(json_get arm.json "d['compressed_layers']")" 1

"$DERRICK" build -f lock.json -o oci:amd2 --platform linux/amd64 --json >amd2.json 2>amd2.err
same "an unchanged lock: every wheels layer from the cache, nothing compressed" \
	"$(json_get amd2.json "d['compressed_layers']") $(layers amd2.json | cut -d'|' -f2 | sort -u | tr '\n' ' ')" "0 local "
same "... and the same image" "$(json_get amd2.json "d['manifest_digest']")" "$(json_get amd.json "d['manifest_digest']")"

"$DERRICK" build -f lock.json -o oci:multi --platform linux/amd64,linux/arm64 --json >multi.json 2>multi.err
check "--platform linux/amd64,linux/arm64: one index of both" test -s multi.json
same "... with the single-platform builds' manifests" \
	"$(json_get multi.json "' '.join(sorted(i['manifest_digest'] for i in d['manifests']))")" \
	"$(printf '%s\n' "$(json_get amd.json "d['manifest_digest']")" "$(json_get arm.json "d['manifest_digest']")" | sort | tr '\n' ' ' | sed 's/ $//')"

# ---------------------------------------------------------------- the index: pylock urls, requirements (JSON, HTML)
simple_index_start idx "$D/wheels" || exit 1
sed -e "s|^path = \"wheels/|url = \"$IDX_BASE/files/|" pylock.toml >pylock.url.toml
spec url.json "\"lock\": \"pylock.url.toml\", $TARGET"
rm -rf "$XDG_CACHE_HOME"
"$DERRICK" build --tls-verify=false -f url.json -o oci:url --platform linux/amd64 --json >url.json.out 2>url.err
same "pylock.toml with urls: the same layers as with paths" "$(layers url.json.out | cut -d'|' -f3)" "$(layers amd.json | cut -d'|' -f3)"
same "... each wheel downloaded once" "$(simple_index_count idx GET '^/files/.*\.whl$' 200)" 6
: >"$IDX_LOG"
"$DERRICK" build --tls-verify=false -f url.json -o oci:url2 --platform linux/amd64 --json >url2.json 2>url2.err
same "again: no request reaches the index, every layer a local hit" \
	"$(wc -l <"$IDX_LOG") $(layers url2.json | cut -d'|' -f2 | sort -u | tr '\n' ' ')" "0 local "

for form in json html; do
	simple_index_start "i$form" "$D/wheels" form=$form || exit 1
	u=I${form^^}_URL
	spec "req-$form.json" "\"requirements\": \"requirements.txt\", \"index_url\": \"${!u}\", $TARGET"
	rm -rf "$XDG_CACHE_HOME"
	"$DERRICK" build --tls-verify=false -f "req-$form.json" -o "oci:req-$form" --platform linux/amd64 --json \
		>"req-$form.out" 2>"req-$form.err"
	same "requirements with an index in $form form: the lock's layers" \
		"$(layers "req-$form.out" | cut -d'|' -f3)" "$(layers amd.json | cut -d'|' -f3)"
	diag <"req-$form.err"
done
mkdir -p links && cp wheels/*.whl links/
spec fl.json "\"requirements\": \"requirements.txt\", \"find_links\": [\"links\"], $TARGET"
"$DERRICK" build -f fl.json -o oci:fl --platform linux/arm64 --json >fl.out 2>fl.err
same "requirements with find_links: arm64's layers" "$(layers fl.out | cut -d'|' -f3)" "$(layers arm.json | cut -d'|' -f3)"

# ---------------------------------------------------------------- defaults from the base image
mkdir -p baseroot/var/lib/dpkg
printf 'Package: libc-bin\nVersion: 2.36-9\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\n\n' \
	>baseroot/var/lib/dpkg/status
cat >base.json <<'EOF'
{ "base": "scratch", "stages": [ { "name": "os", "layers": [ { "source": "baseroot", "dest": "/" } ] } ],
  "config": { "env": { "PYTHON_VERSION": "3.11.2" } } }
EOF
"$DERRICK" build -f base.json -o oci:base --json >base.out 2>base.err
spec def.json '"lock": "pylock.toml"' "oci:$D/base"
"$DERRICK" build -f def.json -o oci:def --platform linux/amd64 --json >def.out 2>def.err
check "python from the base's PYTHON_VERSION, libc from its dpkg status" test -s def.out
diag <def.err
same "... the same wheel layers as with both given" "$(layers def.out | cut -d'|' -f3)" "$(layers amd.json | cut -d'|' -f3)"
# a package the base has already is reported (the layer is read: --no-cache)
mkdir -p baseroot/usr/local/lib/python3.11/site-packages/PyYAML-5.4.dist-info
echo "Name: PyYAML" >baseroot/usr/local/lib/python3.11/site-packages/PyYAML-5.4.dist-info/METADATA
"$DERRICK" build -f base.json -o oci:base2 --json >base2.out 2>base2.err
spec had.json '"lock": "pylock.toml"' "oci:$D/base2"
"$DERRICK" build --no-cache -f had.json -o oci:had --platform linux/amd64 >had.out 2>had.err
check "a package the base image has already is reported" \
	grep -q "PyYAML-6.0-cp311-cp311-manylinux_2_36_x86_64.whl: the image below already has PyYAML-5.4.dist-info" had.err
"$DERRICK" build -f had.json -o oci:had2 --platform linux/amd64 >had2.out 2>had2.err
"$DERRICK" build -f had.json -o oci:had3 --platform linux/amd64 --json >had3.out 2>had3.err
check "  ... also when the layer is a cache hit" \
	grep -q "PyYAML-6.0-cp311-cp311-manylinux_2_36_x86_64.whl: the image below already has PyYAML-5.4.dist-info" had3.err
same "  ... (it is one)" "$(layers had3.out | grep -F 'WHEELS pyyaml' | cut -d'|' -f2)" local
spec nopy.json '"lock": "pylock.toml", "libc": "glibc 2.36"'
expect_error "no python from spec or base" "wheels.python: not given" "$DERRICK" build -f nopy.json -o oci:x
spec nolibc.json '"lock": "pylock.toml", "python": "3.11"'
expect_error "no libc from spec or base" "wheels.libc: not given" "$DERRICK" build -f nolibc.json -o oci:x

# ---------------------------------------------------------------- refusals
$PY -c '
import re, sys
t = open("pylock.toml").read()
t = re.sub(r"sha256 = \"(.)", lambda m: "sha256 = \"" + ("0" if m.group(1) != "0" else "1"), t, count=1)
open("bad-hash.toml", "w").write(t)'

spec bad-hash.json "\"lock\": \"bad-hash.toml\", $TARGET"
expect_error "a wheel whose sha256 is not the lock's" "dk_cext-0.3.0" "$DERRICK" build -f bad-hash.json -o oci:x --platform linux/amd64
spec clash.json "\"lock\": \"pylock.clash.toml\", $TARGET, \"split\": \"none\""
expect_error "two wheels writing one file (one layer)" "dkclash.py" "$DERRICK" build -f clash.json -o oci:x
spec clash2.json "\"lock\": \"pylock.clash.toml\", $TARGET"
expect_error "two wheels writing one file (split auto: one bucket)" "dkclash.py" "$DERRICK" build -f clash2.json -o oci:x
# the clash across two layers of one split: dk-clash-b made large (>= 4 MiB) gets a layer of its own
$PY "$TOP_SRCDIR/tests/lib/relock.py" pylock.clash.toml pylock.bigclash.toml clash/dk_clash_b-1.0-py3-none-any.whl \
	bigclash/dk_clash_b-1.0-py3-none-any.whl --pad $((9 << 19))
spec bigclash.json "\"lock\": \"pylock.bigclash.toml\", $TARGET"
SP=/usr/local/lib/python3.11/site-packages
CLASH_A=dk_clash_a-1.0-py3-none-any.whl CLASH_B=dk_clash_b-1.0-py3-none-any.whl
expect_error "two wheels writing one file, in two layers of a split: both wheels named" \
	"$SP/dkclash.py is written twice: by $CLASH_A in this layer and by $CLASH_B in an earlier one" \
	"$DERRICK" build -f bigclash.json -o oci:x
expect_error "  ... also when the earlier layer is a cache hit (its map, not its files)" \
	"$SP/dkclash.py is written twice: by $CLASH_A in this layer and by $CLASH_B in an earlier one" \
	"$DERRICK" build -f bigclash.json -o oci:x
"$DERRICK" build -v -f bigclash.json -o oci:x >bigclash.out 2>bigclash.err
check "  ... (it is one)" grep -q "^derrick: layer pylock.bigclash.toml: .*cache: local)$" bigclash.err
# the earlier layer of another entry, holding several wheels: built, the one named; a cache hit, "one of" them
lock_of two-b.toml clash/$CLASH_B wheels/dk_data_files-2.1-py3-none-any.whl
lock_of two-a.toml clash/$CLASH_A
cat >two.json <<EOF
{ "base": "scratch", "stages": [ { "name": "deps", "layers": [
  { "wheels": { "lock": "two-b.toml", $TARGET, "split": "none" } },
  { "wheels": { "lock": "two-a.toml", $TARGET } } ] } ] }
EOF
expect_error "a wheel writing a file of an earlier entry's layer of several wheels: the one named" \
	"$SP/dkclash.py is written twice: by $CLASH_A in this layer and by $CLASH_B in an earlier one" \
	"$DERRICK" build --no-cache -f two.json -o oci:x
"$DERRICK" build -f two.json -o oci:x >two.out 2>two.err
expect_error "  ... that layer a cache hit: which of its wheels is not known, all are named" \
	"$SP/dkclash.py is written twice: by $CLASH_A in this layer and by one of $CLASH_B, dk_data_files-2.1-py3-none-any.whl in an earlier one" \
	"$DERRICK" build -f two.json -o oci:x
# a directory layer wrote it: that layer named; the base image had it: the base named
mkdir -p copysite && echo 'x = 1' >copysite/dkclash.py
cat >copy.json <<EOF
{ "base": "scratch", "stages": [ { "name": "deps", "layers": [
  { "source": "copysite", "dest": "$SP" }, { "wheels": { "lock": "two-a.toml", $TARGET } } ] } ] }
EOF
expect_error "a wheel writing a file of an earlier directory layer: the layer named" \
	"$SP/dkclash.py is written twice: by $CLASH_A in this layer and by stages[0].layers[0] (COPY copysite $SP) in an earlier one" \
	"$DERRICK" build -f copy.json -o oci:x
# the wheels layer built and cached first, over another directory layer: over copysite it is a cache
# hit (a file below its dest does not change its key), and its stored map still meets the file
cat >alone.json <<EOF
{ "base": "scratch", "stages": [ { "name": "deps", "layers": [
  { "source": "empty", "dest": "/srv" }, { "wheels": { "lock": "two-a.toml", $TARGET } } ] } ] }
EOF
mkdir -p empty
"$DERRICK" build -f alone.json -o oci:alone >alone.out 2>alone.err || diag <alone.err
expect_error "  ... also when the wheels layer is a cache hit (its stored map is checked)" \
	"$SP/dkclash.py is written twice: by $CLASH_A in this layer and by stages[0].layers[0] (COPY copysite $SP) in an earlier one" \
	"$DERRICK" build -f copy.json -o oci:x
cat >copybase.json <<EOF
{ "base": "scratch", "stages": [ { "name": "os", "layers": [ { "source": "copysite", "dest": "$SP" } ] } ] }
EOF
"$DERRICK" build -f copybase.json -o oci:clashbase >clashbase.out 2>clashbase.err || diag <clashbase.err
spec clashbase.json "\"lock\": \"two-a.toml\", $TARGET" "oci:$D/clashbase"
expect_error "a wheel writing a file of the base image: the base named" \
	"$SP/dkclash.py is written twice: by $CLASH_A in this layer and by the base image" \
	"$DERRICK" build -f clashbase.json -o oci:x
printf 'pyyaml>=6.0 \\\n    --hash=sha256:%064d\n' 0 >unpinned.txt
spec unpinned.json "\"requirements\": \"unpinned.txt\", \"find_links\": [\"links\"], $TARGET"
expect_error "an unpinned requirement, by its line" "unpinned.txt:1" "$DERRICK" build -f unpinned.json -o oci:x
$PY - <<'PY'
import re
t = open("requirements.txt").read()
open("nomarker.txt", "w").write(t.replace(' ; platform_machine == "x86_64"', ""))
PY
spec nofit.json "\"requirements\": \"nomarker.txt\", \"find_links\": [\"links\"], $TARGET"
expect_error "no wheel fits: the package, the target's tags and the wheels'" \
	"no wheel of dk-cext fits CPython 3.11 aarch64 glibc 2.36 (its best tags: cp311-cp311-manylinux_2_36_aarch64" \
	"$DERRICK" build -f nofit.json -o oci:x --platform linux/arm64
mkdir -p sdist && cp wheels/dk_data_files-2.1-py3-none-any.whl sdist/ && echo sdist >sdist/dk_only-1.0.tar.gz
h=$(sha256sum sdist/dk_only-1.0.tar.gz | cut -c1-64)
simple_index_start sd "$D/sdist" || exit 1
printf 'dk-only==1.0 \\\n    --hash=sha256:%s\n' "$h" >sdist.txt
spec sdist.json "\"requirements\": \"sdist.txt\", \"index_url\": \"$SD_URL\", $TARGET"
expect_error "a package with only an sdist" "dk-only has no wheel, only source distributions" \
	"$DERRICK" build --tls-verify=false -f sdist.json -o oci:x

# crafted wheels (tests/lib/wheels.py): each bad one in a lock of its own
if $PY "$TOP_SRCDIR/tests/lib/wheels.py" craft "$D/wheels/dk_data_files-2.1-py3-none-any.whl" "$D/craft" \
	>/dev/null 2>craft.err; then
	for kind in record-changed unsafe-dotdot duplicate; do
		lock_of "$kind.toml" "$D/craft/$kind/dk_data_files-2.1-py3-none-any.whl"
		spec "$kind.json" "\"lock\": \"$kind.toml\", $TARGET"
		expect_error "a crafted wheel: $kind" "dk_data_files-2.1-py3-none-any.whl" \
			"$DERRICK" build -f "$kind.json" -o oci:x
	done
else
	not_ok "craft the bad wheels"
	diag <craft.err
fi
# every refusal above wrote to oci:x: none may leave it, or a staging directory, behind
same "no refusal created the output layout" "$(exists x)" absent
same "  ... nor left a staging directory" "$(find . -maxdepth 1 -name '.derrick-*' | wc -l)" 0

# ---------------------------------------------------------------- reproducibility and bumps
# the same files zipped again in another order with other times: another sha256, the same layer
$PY "$TOP_SRCDIR/tests/lib/relock.py" pylock.toml pylock.rezip.toml wheels/dk_ns_one-1.0-py3-none-any.whl \
	rezip/dk_ns_one-1.0-py3-none-any.whl --rezip
spec rezip.json "\"lock\": \"pylock.rezip.toml\", $TARGET"
"$DERRICK" build -f rezip.json -o oci:out-rezip --platform linux/amd64 --json >rezip.out 2>rezip.err|| diag <rezip.err
same "zip times and member order change nothing: the same layers, from another zip" \
	"$(layers rezip.out | cut -d'|' -f3)" "$(layers amd.json | cut -d'|' -f3)"
same "... built again (its key names the new sha256)" "$(json_get rezip.out "d['compressed_layers']")" 1

# downloads that finish in another order (one at a time, or several)
rm -rf "$XDG_CACHE_HOME"
"$DERRICK" build --tls-verify=false --jobs 1 -f url.json -o oci:j1 --platform linux/amd64 --json >j1.out 2>j1.err
same "downloads one at a time: the same layers" "$(layers j1.out | cut -d'|' -f3)" "$(layers amd.json | cut -d'|' -f3)"

# a bump: dk-data-files 2.1 -> 2.2 changes its own layer only
$PY "$TOP_SRCDIR/tests/lib/relock.py" pylock.toml pylock.bump.toml wheels/dk_data_files-2.1-py3-none-any.whl \
	bump/dk_data_files-2.2-py3-none-any.whl --version 2.2
spec bump.json "\"lock\": \"pylock.bump.toml\", $TARGET"
"$DERRICK" build -f bump.json -o oci:out-bump --platform linux/amd64 --json >bump.out 2>bump.err|| diag <bump.err
B=$(layers bump.out)
same "a bump rebuilds one layer" "$(json_get bump.out "d['compressed_layers']")" 1
same "... and the other layers are the same blobs" \
	"$(digest_of "$B" "WHEELS dk-cext") $(digest_of "$B" "WHEELS pyyaml") $(digest_of "$B" "WHEELS dk-entry-points")" \
	"$(digest_of "$A" "WHEELS dk-cext") $(digest_of "$A" "WHEELS pyyaml") $(digest_of "$A" "WHEELS dk-entry-points")"
differ "... but the bumped one's" "$(digest_of "$B" "WHEELS dk-data-files==2.2")" "$(digest_of "$A" "WHEELS dk-data-files==2.1")"

# all the wheels in one layer, from a slow server: one at a time, then all at once with the delays
# reversed, so that they finish in the reverse of the order they began: the same layer
simple_index_start slow "$D/wheels" delays="$D/delays.txt" || exit 1
sed -e "s|^path = \"wheels/|url = \"$SLOW_BASE/files/|" pylock.toml >pylock.slow.toml
spec slow.json "\"lock\": \"pylock.slow.toml\", $TARGET, \"split\": \"none\""
# in the plan's order (by name); the first waits least, then most
mapfile -t plan_order < <(find wheels -name '*.whl' -printf '%f\n' | sort -f)
# max_overlap: the most downloads the server had in flight at once
max_overlap() { awk '$1 == "begin" { n++; if (n > m) m = n } $1 == "end" { n-- } END { print m + 0 }' "$SLOW_EVENTS"; }
# order WHAT: the files in the order their downloads began or ended
order() { awk -v w="$1" '$1 == w { print $2 }' "$SLOW_EVENTS" | tr '\n' ' '; }
for i in "${!plan_order[@]}"; do echo "${plan_order[$i]} 0.0$i"; done >delays.txt
rm -rf "$XDG_CACHE_HOME"
"$DERRICK" build --tls-verify=false --jobs 1 -f slow.json -o oci:slow1 --platform linux/amd64 --json >slow1.out 2>slow1.err ||
	diag <slow1.err
same "--jobs 1: one download at a time" "$(max_overlap)" 1
for i in "${!plan_order[@]}"; do echo "${plan_order[$i]} 0.$((${#plan_order[@]} - i))"; done >delays.txt
: >"$SLOW_EVENTS"
rm -rf "$XDG_CACHE_HOME"
"$DERRICK" build --tls-verify=false --jobs 8 -f slow.json -o oci:slow8 --platform linux/amd64 --json >slow8.out 2>slow8.err ||
	diag <slow8.err
check "--jobs 8: the downloads overlap" test "$(max_overlap)" -ge 3
differ "  ... and finish in another order than they began" "$(order end)" "$(order begin)"
same "  ... the same layer as one at a time" "$(layers slow8.out | cut -d'|' -f3)" "$(layers slow1.out | cut -d'|' -f3)"
check "  ... (a layer there is)" test -n "$(layers slow1.out | cut -d'|' -f3)"
# one download fails while others run: one line naming the wheel, its URL without the password and the
# HTTP status; the cache holds no temporary file, and only whole, verified blobs
sed -e "s|^path = \"wheels/|url = \"http://tok:s3cret@${SLOW_BASE#http://}/files/|" \
	-e "s|/files/dk_ns_two-1.0-py3-none-any.whl|/files/gone.whl|" pylock.toml >pylock.gone.toml
spec gone.json "\"lock\": \"pylock.gone.toml\", $TARGET, \"split\": \"none\""
rm -rf "$XDG_CACHE_HOME"
expect_error "a download failing among others: the wheel, the URL and the status" \
	"dk_ns_two-1.0-py3-none-any.whl: GET http://***@${SLOW_BASE#http://}/files/gone.whl: HTTP 404" \
	"$DERRICK" build --tls-verify=false --jobs 8 -f gone.json -o oci:x --platform linux/amd64
check "  ... the password nowhere" bash -c "! grep -r s3cret '$T/.err'"
same "  ... no temporary file left in the blob cache" "$(find "$XDG_CACHE_HOME" -name '.tmp-*' | wc -l)" 0
bad_blobs() { find "$XDG_CACHE_HOME" -path '*/blobs/sha256/*' -type f | while read -r f; do
	[[ $(sha256sum "$f" | cut -c1-64) == "${f##*/}" ]] || echo "$f"; done; }
same "  ... and every blob in it whole" "$(bad_blobs)" ""

show_nulls ./*.err
echo "1..$_n"
