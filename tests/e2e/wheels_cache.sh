#!/usr/bin/env bash
# wheels_cache.sh - a wheels layer's key comes from its plan (the lock's
# sha256s and the options), so a CI runner with an empty disk gets the whole
# dependencies stage from the registry cache (--cache-repo) without asking
# the package index anything, downloading a wheel or compressing a byte.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
. "$TOP_SRCDIR/tests/lib/simple_index.sh"
if m=$(registry_missing); then skip "wheels registry cache" "missing: $m"; echo "1..$_n"; exit 0; fi
W=$(bash "$TOP_SRCDIR/tests/lib/test-wheels.sh" 2>"$T/wheels.err" | tail -n 1)
if [[ -z $W || ! -f $W/SHA256SUMS ]]; then
	skip "wheels registry cache" "no test wheels: $(tail -n 1 "$T/wheels.err")"
	echo "1..$_n"
	exit 0
fi
registry_start reg plain || exit 1
simple_index_start idx "$W/wheels" || exit 1
R=$REG_ADDR
mkdir -p "$T/p" && cd "$T/p" || exit 1
sed -e "s|^path = \"wheels/|url = \"$IDX_BASE/files/|" "$W/pylock.toml" >pylock.toml
cat >d.json <<'EOF'
{ "base": "scratch", "stages": [
  { "name": "deps", "layers": [ { "wheels": { "lock": "pylock.toml", "python": "3.11", "libc": "glibc 2.36" } } ] },
  { "name": "app", "layers": [ { "source": "app", "dest": "/app" } ] } ] }
EOF
mkdir app && echo 'import yaml' >app/main.py
export SOURCE_DATE_EPOCH=0
# job NAME OUT: one CI job on an empty local cache
job() {
	"$DERRICK" build --json --tls-verify=false --cache-dir "$T/cache-$1" --cache-repo "docker://$R/ci/cache" \
		--platform linux/amd64 -f d.json -o "$2" >"$1.json" 2>"$1.err" || diag <"$1.err"
}
caches() { json_get "$1.json" '" ".join(l["cache"] for l in d["layers"])'; }

job a "docker://$R/svc:1"
same "job A: every layer built" "$(caches a)" "built built built built built"
same "  ... each wheel downloaded once" "$(simple_index_count idx GET '^/files/' 200)" 6

: >"$IDX_LOG"
registry_mark reg
start=$(date +%s%N)
job b "docker://$R/svc:1"
ms=$((($(date +%s%N) - start) / 1000000))
same "job B (empty disk): the same image" "$(json_get b.json 'd["manifest_digest"]')" "$(json_get a.json 'd["manifest_digest"]')"
same "  ... every layer a registry hit" "$(caches b)" "registry registry registry registry registry"
same "  ... nothing compressed" "$(json_get b.json 'd["compressed_layers"]')" 0
same "  ... and no request to the index: no page, no wheel" "$(wc -l <"$IDX_LOG")" 0
layer_gets=0
for l in $(json_get a.json '" ".join(l["digest"] for l in d["layers"])'); do
	layer_gets=$((layer_gets + $(registry_count reg GET "/blobs/$l")))
done
same "  ... and no layer blob downloaded from the registry" "$layer_gets" 0
diag <<<"job B took $ms ms"

: >"$IDX_LOG"
job c "oci:$T/layout"
same "to a layout (the bytes are needed): registry hits, no index request" \
	"$(caches c) $(wc -l <"$IDX_LOG")" "registry registry registry registry registry 0"
job c "oci:$T/layout2"
same "  ... and local hits next time" "$(caches c)" "local local local local local"

show_nulls ./*.err
echo "1..$_n"
