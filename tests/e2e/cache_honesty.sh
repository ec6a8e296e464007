#!/usr/bin/env bash
# A file that changes during a build never gives a cache entry whose key
# says one content and whose blob holds another (issue #10, item 1).  The
# build holds between the build-cache key and the tar at the test hook
# DERRICK_TEST_PAUSE_FIFO (include/derrick/layer.h), the script rewrites a
# file there and lets it go on: no timing race.  Every layer is read back
# with Python's tarfile, never with derrick.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/pause.sh"

P=$T/p C=$T/cache FIFO=$T/pause
mkdir -p "$P/src" && mkfifo "$FIFO"
echo keep >"$P/src/keep.txt"
cat >"$P/d.json" <<'EOF'
{ "base": "scratch", "stages": [ { "name": "app", "layers": [ { "source": "src", "dest": "/app" } ] } ] }
EOF
cat >"$P/t.json" <<'EOF'
{ "base": "scratch", "stages": [ { "name": "app", "layers": [ { "tar": "in.tar", "dest": "/opt" } ] } ] }
EOF
# contents A, B, C, D: 1 MiB each, the same size (only times and bytes tell them apart)
for v in A B C D; do python3 -c 'import sys; sys.stdout.write((sys.argv[1] * 64 + "\n") * 16384)' $v >"$T/$v"; done
sum() { sha256sum "$1" | cut -d' ' -f1; }
set_data() { cp "$T/$1" "$P/src/data.bin"; }

# build SPEC OUT [FLAG...]: one build in $P, stdout to $T/OUT.json, stderr to $T/OUT.err, exit status in $rc
build() {
	local spec=$1 out=$2; shift 2
	rc=0
	(cd "$P" && timeout 60 "$DERRICK" build --json -f "$spec" -o oci:"$T/$out":t "$@") >"$T/$out.json" 2>"$T/$out.err" || rc=$?
}
# paused SPEC OUT CMD1 CMD2 [FLAG...]: the same with the pause hook; CMD1 runs at the first
# pause, CMD2 (when not empty) at the second (the re-read), each while the build holds there
paused() {
	local spec=$1 out=$2 c1=$3 c2=$4; shift 4
	(DERRICK_TEST_PAUSE_FIFO=$FIFO build "$spec" "$out" "$@"; echo "$rc" >"$T/.rc") &
	pause_through $! "$c1" "$c2"
	rc=$(cat "$T/.rc")
}
export T P FIFO

# in_layer OUT MEMBER: the SHA-256 of MEMBER in the (only) layer of layout OUT, read by tarfile
in_layer() {
	python3 - "$T/$1" "$2" <<'PY'
import hashlib, json, sys, tarfile
out, member = sys.argv[1:]
blob = lambda d: f"{out}/blobs/sha256/{d.split(':')[1]}"
idx = json.load(open(f"{out}/index.json"))
man = json.load(open(blob(idx["manifests"][0]["digest"])))
with tarfile.open(blob(man["layers"][0]["digest"])) as t:
    print(hashlib.sha256(t.extractfile(member).read()).hexdigest())
PY
}
# entries CACHE_DIR MEMBER: for every build-cache entry, the SHA-256 of MEMBER in its blob
entries() {
	python3 - "$1" "$2" <<'PY'
import glob, hashlib, json, os, sys, tarfile
cache, member = sys.argv[1:]
for e in sorted(glob.glob(f"{cache}/layers/*")):
    d = json.load(open(e))["digest"]
    with tarfile.open(f"{cache}/blobs/sha256/{d.split(':')[1]}") as t:
        try:
            print(hashlib.sha256(t.extractfile(member).read()).hexdigest())
        except KeyError:
            print("none")
PY
}
cache_of() { json_get "$T/$1.json" 'd["layers"][0]["cache"]'; }
lines() { grep -c '' "$T/$1.err"; }

# --- the local build cache: changed once, then read again ----------------------------------
set_data A
paused d.json o1 'cp "$T/B" "$P/src/data.bin"' ':' --cache-dir "$C"
same "a file rewritten between key and tar: the build succeeds" "$rc" 0
same "  ... with one warning" "$(lines o1)" 1
check "  ... that names the file and says the layer was read again" \
	grep -q "warning: .*src/data.bin changed while derrick read it.*read the layer again" "$T/o1.err"
same "  ... and the layer holds the new content (tarfile)" "$(in_layer o1 app/data.bin)" "$(sum "$T/B")"
same "  ... one cache entry, holding the new content" "$(entries "$C" app/data.bin)" "$(sum "$T/B")"
set_data A
build d.json o2 --cache-dir "$C"
same "the old content afterwards: built, not a cache hit" "$(cache_of o2)" built
same "  ... and its layer holds the old content" "$(in_layer o2 app/data.bin)" "$(sum "$T/A")"
set_data B
build d.json o3 --cache-dir "$C"
same "the new content afterwards: the honest entry hits" "$(cache_of o3) $(in_layer o3 app/data.bin)" \
	"local $(sum "$T/B")"

# --- changed again on the second reading: the build fails, nothing is kept ----------------
before=$(tree_state "$T/o3")
entries_before=$(entries "$C" app/data.bin)
set_data C
paused d.json o3 'cp "$T/D" "$P/src/data.bin"' 'cp "$T/C" "$P/src/data.bin"' --cache-dir "$C"
same "a file that keeps changing: exit 1" "$rc" 1
same "  ... one line" "$(lines o3)" 1
check "  ... an error naming the file" grep -q "error: .*read twice.*src/data.bin changed while derrick read it" "$T/o3.err"
same "  ... the output layout untouched" "$(tree_state "$T/o3")" "$before"
same "  ... and no cache entry added" "$(entries "$C" app/data.bin)" "$entries_before"

# --- a stat record that lies: the bytes decide ----------------------------------------------
set_data A
sleep 0.1   # past the kernel's timestamp tick: the record of this content is kept
build d.json o4 --cache-dir "$C"
rec=$(grep -l 'src/data.bin$' "$C"/stat/* | head -n 1)
check "a stat record was kept for the file" test -n "$rec"
[[ -n $rec ]] && sed -i "s/$(sum "$T/A")/$(printf x | sha256sum | cut -d' ' -f1)/" "$rec"
entries_before=$(entries "$C" app/data.bin)
build d.json o5 --cache-dir "$C"
same "a stat record whose hash is not the file's: the build succeeds with the right layer" \
	"$rc $(in_layer o5 app/data.bin)" "0 $(sum "$T/A")"
check "  ... with a warning naming the file" grep -q "src/data.bin changed while derrick read it (its content" "$T/o5.err"
same "  ... and no cache entry under the lying key" "$(entries "$C" app/data.bin)" "$entries_before"

# --- --no-cache: no key, but a file must not change between its header and its last byte ---
set_data A
paused d.json o6 'echo more >>"$P/src/data.bin"' ':' --no-cache
same "--no-cache, a file that grew before it was tarred: read again" "$rc $(lines o6)" "0 1"
same "  ... the layer holds what the file holds now" "$(in_layer o6 app/data.bin)" "$(sum "$P/src/data.bin")"
before=$(tree_state "$T/o6")
paused d.json o6 'echo more >>"$P/src/data.bin"' 'cp "$T/A" "$P/src/data.bin"' --no-cache
same "--no-cache, a file that keeps changing: exit 1, one line" "$rc $(lines o6)" "1 1"
check "  ... naming the file" grep -q "src/data.bin changed while derrick read it" "$T/o6.err"
same "  ... the output layout untouched" "$(tree_state "$T/o6")" "$before"

# --- a tar source: the layer and its key both come from the one copy derrick read ----------
tar_of() { mkdir -p "$T/tar$1" && cp "$T/$1" "$T/tar$1/data.bin" && tar -C "$T/tar$1" -cf "$T/$1.tar" data.bin; }
tar_of A && tar_of B
cp "$T/A.tar" "$P/in.tar"
paused t.json o7 'cp "$T/B.tar" "$P/in.tar"' '' --cache-dir "$C"
same "a tar source rewritten between key and tar: no warning, the content read first" \
	"$rc $(lines o7) $(in_layer o7 opt/data.bin)" "0 0 $(sum "$T/A")"
build t.json o8 --cache-dir "$C"
same "  ... the new tar afterwards: built, its own content" "$(cache_of o8) $(in_layer o8 opt/data.bin)" \
	"built $(sum "$T/B")"
cp "$T/A.tar" "$P/in.tar"
build t.json o9 --cache-dir "$C"
same "  ... the first tar again: a hit, its own content" "$(cache_of o9) $(in_layer o9 opt/data.bin)" \
	"local $(sum "$T/A")"

# --- the registry cache never receives the lying entry -------------------------------------
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then
	skip "registry cache" "missing: $m"
	echo "1..$_n"
	exit 0
fi
registry_start reg plain || exit 1
CR=(--tls-verify=false --cache-repo "docker://$REG_ADDR/ci/cache")
tags() {
	curl -s "http://$REG_ADDR/v2/ci/cache/tags/list" |
		python3 -c 'import json,sys; print(len([t for t in json.load(sys.stdin)["tags"] or [] if t.startswith("derrick-")]))'
}
set_data A
paused d.json r1 'cp "$T/B" "$P/src/data.bin"' ':' --cache-dir "$T/rc1" "${CR[@]}"
same "with --cache-repo, a file rewritten between key and tar: read again, the new content" \
	"$rc $(lines r1) $(in_layer r1 app/data.bin)" "0 1 $(sum "$T/B")"
same "  ... one entry in the cache repository" "$(tags)" 1
set_data A
build d.json r2 --cache-dir "$T/rc2" "${CR[@]}"
same "another runner with the old content: built, the old content" \
	"$(cache_of r2) $(in_layer r2 app/data.bin)" "built $(sum "$T/A")"
set_data B
build d.json r3 --cache-dir "$T/rc3" "${CR[@]}"
same "another runner with the new content: a registry hit, the new content" \
	"$(cache_of r3) $(in_layer r3 app/data.bin)" "registry $(sum "$T/B")"
echo "1..$_n"
