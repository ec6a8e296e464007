#!/usr/bin/env bash
# Pinned bytes: testdata/golden/tree (non-ASCII and long names, a symlink, an
# executable, an empty directory) must always give the layer, config and
# manifest digests recorded in testdata/golden/expected.txt.  A change here
# means every user's rebuild changes digest: do it on purpose or not at all.
# (The diff_id depends on derrick alone; the compressed digest also on the
# compressor's version: Debian 12's libdeflate 1.14 and libzstd here.)
. "$TOP_SRCDIR/tests/lib/e2e.sh"

G=$TOP_SRCDIR/testdata/golden
cp -a "$G" "$T/g"
# whatever the checkout did to modes and times must not matter
find "$T/g/tree" -type f ! -name run.sh -exec chmod 600 {} + && touch -d '1999-12-31' "$T/g/tree/pkg/__init__.py"
got=$(cd "$T/g" && "$DERRICK" build --platform linux/amd64 --json -o oci:"$T/out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("layer.digest", d["layers"][0]["digest"])
print("layer.diff_id", d["layers"][0]["diff_id"])
print("config", d["config_digest"])
print("manifest", d["manifest_digest"])')
while read -r key want; do
	[[ $key == multi.* || $key == full.* ]] && continue
	same "golden $key" "$(awk -v k="$key" '$1 == k { print $2 }' <<<"$got")" "$want"
done <"$G/expected.txt"

# Every kind of layer input at once (full/full.json): an oci: base (the
# image above), a pax tar and a gzipped ustar tar (non-ASCII and >100-byte
# names, odd owners and modes), a directory with uid/mode overrides and an
# exclude, single-file sources, ${VERSION} in env and annotations; once
# with gzip and once with zstd.  Besides the digests, every layer's
# build-cache key is pinned (read back from the cache's layers/ entries), so
# that a refactor cannot silently orphan users' local and registry caches.
(cd "$T/g" && "$DERRICK" build -q --platform linux/amd64 -o oci:full/base:golden)
full_pins() { # COMPRESSION: "full.COMP.KEY VALUE" lines, in layer order
	local comp=$1 cache=$T/cache-$1
	(cd "$T/g/full" && "$DERRICK" build -f full.json --cache-dir "$cache" --compression "$comp" \
		--version 1.2.3 --platform linux/amd64 --json -o oci:"$T/full-$comp":latest) >"$T/full-$comp.json" &&
	python3 - "$T/full-$comp.json" "$cache/layers" "$comp" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
keys = {}
for k in os.listdir(sys.argv[2]):
    keys[json.load(open(os.path.join(sys.argv[2], k)))["digest"]] = k
for i, l in enumerate(d["layers"]):
    p = "full.%s.layer%d" % (sys.argv[3], i)
    print(p + ".digest", l["digest"])
    print(p + ".diff_id", l["diff_id"])
    if l["stage"] != "base":
        print(p + ".key", keys.get(l["digest"], "missing"))
print("full.%s.config" % sys.argv[3], d["config_digest"])
print("full.%s.manifest" % sys.argv[3], d["manifest_digest"])
PY
}
full=$(full_pins gzip; full_pins zstd)
if [[ -n ${GOLDEN_PRINT:-} ]]; then echo "$full" | sed 's/^/# /'; fi
same "full: every layer kind, its digests and cache keys are pinned" \
	"$full" "$(grep '^full\.' "$G/expected.txt")"
check "full: skopeo reads the zstd image" skopeo inspect oci:"$T/full-zstd":latest
check "full: a rebuild hits the local build cache for every layer" bash -c '
	cd "$1/g/full" && "$2" build -f full.json --cache-dir "$1/cache-gzip" --version 1.2.3 --platform linux/amd64 \
		--json -o oci:"$1/full-again":latest | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d[\"compressed_layers\"] == 0, d
assert all(l[\"cache\"] in (None, \"local\") for l in d[\"layers\"]), d"' _ "$T" "$DERRICK"
# A layer of many compression blocks (2.5 MB, half text, half noise, from a
# fixed seed): the same bytes whatever the number of threads, for gzip and
# zstd, pinned to what a 2-core machine once wrote.
mkdir -p "$T/multi/data"
python3 - "$T/multi/data" <<'PY'
import random, sys
r = random.Random(20261125)
text = " ".join(r.choice(["layer", "digest", "derrick", "python", "wheel", "site-packages"]) for _ in range(200000))
open(sys.argv[1] + "/text.txt", "w").write(text)
open(sys.argv[1] + "/noise.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(1200000)))
PY
printf '{"stages":[{"name":"m","layers":[{"source":"data","dest":"/m"}]}]}' >"$T/multi/derrick.json"
for comp in gzip zstd; do
	for jobs in 1 2 5; do
		(cd "$T/multi" && "$DERRICK" build --no-cache --compression "$comp" --jobs "$jobs" --platform linux/amd64 --json \
			-o oci:"$T/multi-$comp-$jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])') \
			>"$T/multi-$comp-$jobs.digest"
	done
	same "$comp: the layer digest does not depend on the thread count (1, 2, 5)" \
		"$(sort -u "$T"/multi-"$comp"-*.digest)" "$(awk -v k="multi.$comp" '$1 == k { print $2 }' "$G/expected.txt")"
done
check "zstd layers have the zstd media type and skopeo reads them" \
	bash -c 'skopeo inspect --raw oci:"$1" | grep -q "tar+zstd"' _ "$T/multi-zstd-1"
echo "1..$_n"
