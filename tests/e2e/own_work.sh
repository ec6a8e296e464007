#!/usr/bin/env bash
# derrick never packs its own work: with `source: "."` and the output, the
# build cache and the digest file inside the source, the layer holds none
# of them (nor the staging directory made beside the output, nor leftovers
# of a killed build), whatever the patterns say, and two builds give the
# same digests as a build of a clean copy.  Layers are read with Python's
# tarfile, not with derrick.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

P=$T/proj
mkdir -p "$P/pkg" "$P/sub"
echo 'print("hi")' >"$P/pkg/main.py"
echo 'data' >"$P/data.txt"
echo 'notes' >"$P/derrick-notes.txt"           # derrick in its name, but the user's
spec() { printf '{"stages":[{"name":"app","layers":[{"source":".","dest":"/app","exclude":%s}]}]}\n' "$2" >"$P/$1.json"; }
spec plain '["out", "*.json"]'
# every pattern re-includes everything again: nothing from the user keeps derrick's work out
spec reinclude '["**", "!**", "!out", "!.cache", "!digests.txt", "!.derrick-*", "!tmp", "!*.json", "*.json"]'

# layer_names LAYOUT TAG: every name in the image's last layer, sorted
layer_names() {
	python3 - "$1" "$2" <<'PY'
import json, sys, tarfile
lay, tag = sys.argv[1:]
idx = json.load(open(lay + "/index.json"))
m = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
man = json.load(open(lay + "/blobs/sha256/" + m["digest"][7:]))
with tarfile.open(lay + "/blobs/sha256/" + man["layers"][-1]["digest"][7:]) as t:
    print(" ".join(sorted(t.getnames())))
PY
}
# layer_of JSON: the diff_id and digest of the build's last layer
layer_of() { json_get "$1" 'd["layers"][-1]["diff_id"] + " " + d["layers"][-1]["digest"]'; }
USER_FILES="app app/data.txt app/derrick-notes.txt app/pkg app/pkg/main.py app/sub"

# The reference: a clean copy of the user's files, everything derrick writes elsewhere.
mkdir -p "$T/clean"
cp -a "$P/." "$T/clean/"
"$DERRICK" build -q --json -f "$T/clean/plain.json" -o oci:"$T/ref":x --cache-dir "$T/ref-cache" >"$T/ref.json"
want=$(layer_of "$T/ref.json")
same "the clean copy's layer holds just the user's files" "$(layer_names "$T/ref" x)" "$USER_FILES"

for s in plain reinclude; do
	build() {
		"$DERRICK" build --json -f "$P/$s.json" -o oci:"$P/out":"$1" --cache-dir "$P/.cache" \
			--digest-file "$P/digests.txt" "${@:2}" >"$T/$s.$1.json"
	}
	# 1: the output does not exist yet (its staging directory does); 2: everything exists;
	# 3: without the cache, so the layer is tarred again from what the walk found
	build 1 && build 2 && build 3 --no-cache
	for n in 1 2 3; do
		same "$s build $n: the layer is the clean copy's" "$(layer_of "$T/$s.$n.json")" "$want"
		same "$s build $n: no output, cache, digest file or staging directory in it" \
			"$(layer_names "$P/out" "$n")" "$USER_FILES"
	done
	same "$s: builds 1 and 2 give one manifest" "$(json_get "$T/$s.1.json" 'd["manifest_digest"]')" \
		"$(json_get "$T/$s.2.json" 'd["manifest_digest"]')"
	rm -rf "$P/out" "$P/.cache" "$P/digests.txt"
done

# What a killed build leaves beside its output, or one running beside this one:
# staging directories and temporaries under derrick's names.
mkdir -p "$P/.derrick-stage-Ab12Cd/blobs/sha256" "$P/sub/.derrick-stage-Ab12Cd"
echo junk >"$P/.derrick-stage-Ab12Cd/blobs/sha256/x"
echo junk >"$P/.derrick-tmp-Zz9Yy8"
"$DERRICK" build -q -f "$P/plain.json" -o oci:"$P/out":left --cache-dir "$P/.cache"
same "leftovers beside the output are not packed; the same names elsewhere are the user's" \
	"$(layer_names "$P/out" left)" "$USER_FILES app/sub/.derrick-stage-Ab12Cd"
rm -rf "$P/.derrick-stage-Ab12Cd" "$P/.derrick-tmp-Zz9Yy8" "$P/sub/.derrick-stage-Ab12Cd" "$P/out" "$P/.cache"

# TMPDIR inside the source: derrick's spools there are its own, the rest is the user's.
mkdir -p "$P/tmp"
echo junk >"$P/tmp/derrick-spool-Qw3Er4"
echo keep >"$P/tmp/keep.txt"
TMPDIR=$P/tmp "$DERRICK" build -q -f "$P/plain.json" -o oci:"$T/o-tmp":x --cache-dir "$T/c-tmp"
same "a derrick temporary in TMPDIR is not packed" "$(layer_names "$T/o-tmp" x)" \
	"$USER_FILES app/tmp app/tmp/keep.txt"
rm -rf "$P/tmp"

# Other spellings: the project reached through a symlink, the output and cache given
# relative to the current directory with "." and ".." in them.
ln -s "$P" "$T/link"
(cd "$T" && "$DERRICK" build -q --json -f link/plain.json -o oci:link/sub/../out:rel \
	--cache-dir ./link/./.cache --digest-file link/sub/../digests.txt >"$T/rel1.json" &&
	"$DERRICK" build -q --json -f link/plain.json -o oci:link/sub/../out:rel \
	--cache-dir ./link/./.cache --digest-file link/sub/../digests.txt >"$T/rel2.json")
same "relative and symlinked spellings: the layer is the clean copy's" "$(layer_of "$T/rel2.json")" "$want"
same "  ... and holds nothing of derrick's" "$(layer_names "$P/out" rel)" "$USER_FILES"
rm -rf "$P/out" "$P/.cache" "$P/digests.txt"
# the output reached through a symlink inside the source: the symlink is the user's, its target derrick's
mkdir -p "$T/elsewhere"
ln -s "$T/elsewhere" "$P/outlink"
"$DERRICK" build -q -f "$P/plain.json" -o oci:"$P/outlink/lay":x --cache-dir "$T/c2"
"$DERRICK" build -q -f "$P/plain.json" -o oci:"$T/elsewhere/lay":y --cache-dir "$T/c2"
same "an output through a symlink: the link is packed as a link, nothing behind it" \
	"$(layer_names "$T/elsewhere/lay" y)" "${USER_FILES/app\/pkg /app/outlink app/pkg }"
rm -f "$P/outlink"

# A source that is, or lies in, what derrick writes cannot be packed.
"$DERRICK" build -q -f "$P/plain.json" -o oci:"$P/out":x --cache-dir "$P/.cache" --digest-file "$P/digests.txt"
out_before=$(tree_state "$P/out")
printf '{"stages":[{"name":"a","layers":[{"source":".cache","dest":"/c"}]}]}\n' >"$P/cache-src.json"
expect_error "a source that is the build cache" "source $P/.cache is or lies in $P/.cache, which this build writes" \
	"$DERRICK" build -f "$P/cache-src.json" -o oci:"$T/o-c":x --cache-dir "$P/.cache"
printf '{"stages":[{"name":"a","layers":[{"source":"out/blobs","dest":"/c"}]}]}\n' >"$P/out-src.json"
expect_error "a source inside the output layout" "source $P/out/blobs is or lies in $P/out, which this build writes" \
	"$DERRICK" build -f "$P/out-src.json" -o oci:"$P/out":x
printf '{"stages":[{"name":"a","layers":[{"source":"digests.txt","dest":"/d"}]}]}\n' >"$P/digest-src.json"
expect_error "a file source that is the digest file" "which this build writes" \
	"$DERRICK" build -f "$P/digest-src.json" -o oci:"$T/o-d":x --digest-file "$P/digests.txt"
same "  ... the refused builds created no output and left $P/out as it was" \
	"$(exists "$T/o-c") $(exists "$T/o-d") $(tree_state "$P/out")" "absent absent $out_before"

echo "1..$_n"
