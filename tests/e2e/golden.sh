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
	[[ $key == multi.* ]] && continue
	same "golden $key" "$(awk -v k="$key" '$1 == k { print $2 }' <<<"$got")" "$want"
done <"$G/expected.txt"
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
