#!/usr/bin/env bash
# Pinned bytes: testdata/golden/tree (non-ASCII and long names, a symlink, an
# executable, an empty directory) must always give the layer, config and
# manifest digests recorded in testdata/golden/expected.txt.  A change here
# means every user's rebuild changes digest: do it on purpose or not at all.
# (The diff_id depends on derrick alone; the compressed digest also on the
# zlib build, Debian 12's here.)
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
	same "golden $key" "$(awk -v k="$key" '$1 == k { print $2 }' <<<"$got")" "$want"
done <"$G/expected.txt"
echo "1..$_n"
