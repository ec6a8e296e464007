#!/usr/bin/env bash
# The local build cache: unchanged layers are reused (even from a fresh
# copy of the sources, where only content hashes can tell), changed ones
# rebuilt; damaged entries are detected and rebuilt; --no-cache bypasses it;
# concurrent builds share it safely; cache prune bounds it.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then skip "build cache" "no site-packages"; echo "1..$_n"; exit 0; fi
C=$T/cache
copy_example "$T/a"
B() { (cd "$1" && shift && "$DERRICK" build --cache-dir "$C" --version 1.0 --json "$@"); }
caches() { json_get "$1" '" ".join(l["cache"] for l in d["layers"])'; }
digest() { json_get "$1" 'd["manifest_digest"]'; }

B "$T/a" -o oci:"$T/o1" >"$T/1.json"
same "cold: every layer built" "$(caches "$T/1.json")" "built built built"
B "$T/a" -v -o oci:"$T/o2" >"$T/2.json" 2>"$T/2.err"
same "warm: every layer from the cache" "$(caches "$T/2.json")" "local local local"
same "  ... same image" "$(digest "$T/2.json")" "$(digest "$T/1.json")"
check "  ... and no file was read again (stat records matched)" \
	test "$(grep -c ': 0 files hashed' "$T/2.err")" = 3

touch "$T/a/build/site-packages/yaml/__init__.py"
B "$T/a" -v -o oci:"$T/o3" >"$T/3.json" 2>"$T/3.err"
same "a touched file (same content): still a hit" "$(caches "$T/3.json")" "local local local"
check "  ... only that file was hashed again" grep -q "site-packages: 1 files hashed" "$T/3.err"

# a fresh checkout: new inodes, new mtimes, same contents
mkdir -p "$T/fresh" && cp -r "$T/a/." "$T/fresh/" && find "$T/fresh" -exec touch -d '2030-01-01' {} +
B "$T/fresh" -o oci:"$T/o4" >"$T/4.json"
same "a fresh copy of the sources: every layer a hit (content hashes decide)" "$(caches "$T/4.json")" "local local local"
same "  ... same image" "$(digest "$T/4.json")" "$(digest "$T/1.json")"

echo "# changed" >>"$T/a/src/production_control/app.py"
B "$T/a" -o oci:"$T/o5" >"$T/5.json"
same "an app change: only the app layer is built" "$(caches "$T/5.json")" "local local built"
B "$T/a" --gzip-level 9 -o oci:"$T/o6" >"$T/6.json"
same "another compression level is another key" "$(caches "$T/6.json")" "built built built"
SOURCE_DATE_EPOCH=5 B "$T/a" -o oci:"$T/o7" >"$T/7.json"
same "another SOURCE_DATE_EPOCH is another key" "$(caches "$T/7.json")" "built built built"

# damaged cache contents are detected and rebuilt, never used
app_key=$(ls -t "$C/layers" | head -n 1)
dep_digest=$(json_get "$T/5.json" 'd["layers"][1]["digest"]')
sys_digest=$(json_get "$T/5.json" 'd["layers"][0]["digest"]')
for f in "$C"/layers/*; do
	if grep -q "$sys_digest" "$f" && ! grep -q '"size": *0' "$f"; then echo 'garbage{' >"$f"; fi
done
printf 'X' | dd of="$C/blobs/sha256/${dep_digest#sha256:}" bs=1 seek=500 conv=notrunc status=none
B "$T/a" -o oci:"$T/o8" >"$T/8.json" 2>"$T/8.err"
same "a garbage entry and a corrupt blob: both layers rebuilt" "$(caches "$T/8.json")" "built built local"
same "  ... and the image is right" "$(digest "$T/8.json")" "$(digest "$T/5.json")"
check "  ... with a warning" grep -q "damaged or its blob is gone" "$T/8.err"
rm -f "$C/blobs/sha256/${dep_digest#sha256:}"
B "$T/a" -o oci:"$T/o9" >"$T/9.json" 2>/dev/null
same "a missing blob: rebuilt" "$(caches "$T/9.json")" "local built local"

before=$(tree_state "$C")
B "$T/a" --no-cache -o oci:"$T/o10" >"$T/10.json"
same "--no-cache: every layer built" "$(caches "$T/10.json")" "built built built"
same "  ... same image" "$(digest "$T/10.json")" "$(digest "$T/5.json")"
same "  ... and the cache untouched" "$(tree_state "$C")" "$before"

# concurrent builds sharing one (empty) cache
rm -rf "$C"
for i in 1 2 3 4; do B "$T/a" -o oci:"$T/c$i" >"$T/c$i.json" 2>"$T/c$i.err" & done
wait
same "four concurrent builds on one cache: the same image each time" \
	"$(for i in 1 2 3 4; do digest "$T/c$i.json"; done | sort -u)" "$(digest "$T/5.json")"
check "  ... and no temporary file left in the cache" test -z "$(find "$C" -name '.tmp-*' -o -name '.derrick-tmp-*')"

"$DERRICK" cache prune --cache-dir "$C" --max-size 1k >"$T/prune.out"
check "cache prune --max-size bounds the cache" test "$(du -sb "$C/blobs" | cut -f1)" -lt 100000
B "$T/a" -o oci:"$T/o11" >"$T/11.json"
same "after a prune: rebuilt as needed" "$(digest "$T/11.json")" "$(digest "$T/5.json")"
"$DERRICK" cache prune --cache-dir "$C" >/dev/null
same "cache prune with no size empties it" "$(find "$C" -type f | wc -l)" "0"
echo "1..$_n"
