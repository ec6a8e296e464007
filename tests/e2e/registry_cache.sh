#!/usr/bin/env bash
# The build cache kept in a registry (--cache-repo), as CI runners use it:
# job A fills it, job B on an empty disk with a fresh checkout compresses
# nothing and downloads no layer, job C rebuilds only the changed layer.
# Bad caches (missing blob, garbage entry, unreachable, poisoned) are
# warnings and correct builds.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "registry cache" "missing: $m"; echo "1..$_n"; exit 0; fi
sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then skip "registry cache" "no site-packages"; echo "1..$_n"; exit 0; fi

registry_start reg plain || exit 1
R=$REG_ADDR
CACHE=docker://$R/ci/cache
# job DIR CACHE_DIR OUT...: one CI job, on its own checkout and (empty) local cache
job() {
	local dir=$1 cdir=$2; shift 2
	(cd "$dir" && "$DERRICK" build --json --tls-verify=false --cache-dir "$cdir" --version 2.0.0 \
		--cache-repo "$CACHE" "$@")
}
caches() { json_get "$1" '" ".join(l["cache"] for l in d["layers"])'; }
fresh_checkout() { mkdir -p "$2" && cp -r "$1/." "$2/" && find "$2" -exec touch -d "$3" {} +; }

copy_example "$T/a"
job "$T/a" "$T/cache-a" -o "docker://$R/svc:2.0.0" >"$T/a.json" 2>"$T/a.err"
same "job A: every layer built and recorded" "$(caches "$T/a.json")" "built built built"
same "  ... three cache entries in the cache repository" \
	"$(curl -s "http://$R/v2/ci/cache/tags/list" | python3 -c 'import json,sys; print(len([t for t in json.load(sys.stdin)["tags"] if t.startswith("derrick-")]))')" "3"

# job B: another runner, empty disk, fresh checkout (new inodes and mtimes)
fresh_checkout "$T/a" "$T/b" 2031-05-05
registry_mark reg
job "$T/b" "$T/cache-b" -o "docker://$R/svc:2.0.0" >"$T/b.json" 2>"$T/b.err"
same "job B: the same manifest digest" "$(json_get "$T/b.json" 'd["manifest_digest"]')" "$(json_get "$T/a.json" 'd["manifest_digest"]')"
same "  ... every layer a registry hit" "$(caches "$T/b.json")" "registry registry registry"
same "  ... no compression performed" "$(json_get "$T/b.json" 'd["compressed_layers"]')" "0"
layer_gets=0
for l in $(json_get "$T/a.json" '" ".join(l["digest"] for l in d["layers"])'); do
	layer_gets=$((layer_gets + $(registry_count reg GET "/blobs/$l")))
done
same "  ... and zero layer-blob GETs in the registry's log" "$layer_gets" "0"

# job B pushing elsewhere in the same registry: the layers are mounted from the cache repository
fresh_checkout "$T/a" "$T/b2" 2032-01-01
registry_mark reg
job "$T/b2" "$T/cache-b2" -o "docker://$R/other:2.0.0" >"$T/b2.json" 2>/dev/null
same "a hit pushed to another repository is mounted from the cache repository" \
	"$(registry_count reg POST '^/v2/other/blobs/uploads/\?mount=.*&from=ci/cache' 201)" "3"

# job C: one app file changed
fresh_checkout "$T/a" "$T/c" 2033-01-01
echo "# job C" >>"$T/c/src/production_control/app.py"
job "$T/c" "$T/cache-c" -o "docker://$R/svc:2.0.1" >"$T/c.json" 2>/dev/null
same "job C: only the app layer is built" "$(caches "$T/c.json")" "registry registry built"
same "  ... one compression" "$(json_get "$T/c.json" 'd["compressed_layers"]')" "1"

# a layout destination needs the bytes: fetched once and checked (digest and diff_id)
fresh_checkout "$T/a" "$T/d" 2034-01-01
job "$T/d" "$T/cache-d" -o oci:"$T/layout":2.0.0 >"$T/d.json" 2>/dev/null
same "to a layout: registry hits, same image" "$(caches "$T/d.json") $(json_get "$T/d.json" 'd["manifest_digest"]')" \
	"registry registry registry $(json_get "$T/a.json" 'd["manifest_digest"]')"
check "  ... and the layout validates" oci-image-tool validate --type image "$T/layout"
job "$T/d" "$T/cache-d" -o oci:"$T/layout":again >"$T/d2.json" 2>/dev/null
same "  ... the downloaded blobs are local hits next time" "$(caches "$T/d2.json")" "local local local"

# --- bad caches: a warning and a correct build -----------------------------
entry_of() {  # the cache tag of layer N of a build summary, found by its digest
	local digest
	digest=$(json_get "$1" "d['layers'][$2]['digest']")
	for t in $(curl -s "http://$R/v2/ci/cache/tags/list" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["tags"]))'); do
		curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$R/v2/ci/cache/manifests/$t" | grep -q "$digest" && echo "$t" && return
	done
}
want=$(json_get "$T/a.json" 'd["manifest_digest"]')
sys_tag=$(entry_of "$T/a.json" 0)
app_tag=$(entry_of "$T/a.json" 2)
dep_tag=$(entry_of "$T/a.json" 1)

# an entry whose blob the cache repository no longer has
app_blob=$(json_get "$T/a.json" 'd["layers"][2]["digest"]')
curl -s -X DELETE "http://$R/v2/ci/cache/blobs/$app_blob" -o /dev/null
fresh_checkout "$T/a" "$T/e1" 2035-01-01
job "$T/e1" "$T/cache-e1" -o oci:"$T/e1-out":x >"$T/e1.json" 2>"$T/e1.err"
same "an entry pointing at a missing blob: rebuilt, same image" "$(caches "$T/e1.json") $(json_get "$T/e1.json" 'd["manifest_digest"]')" \
	"registry registry built $want"
check "  ... with a warning" grep -q "which the cache repository does not have" "$T/e1.err"

# a garbage entry: some other manifest under the entry's tag
skopeo copy -q --dest-tls-verify=false oci:"$T/layout":2.0.0 "docker://$R/ci/cache:$sys_tag" >/dev/null 2>&1
fresh_checkout "$T/a" "$T/e2" 2036-01-01
job "$T/e2" "$T/cache-e2" --cache-mode read -o oci:"$T/e2-out":x >"$T/e2.json" 2>"$T/e2.err"
same "a garbage entry: rebuilt, same image" "$(caches "$T/e2.json" | cut -d' ' -f1) $(json_get "$T/e2.json" 'd["manifest_digest"]')" "built $want"
check "  ... with a warning" grep -q "is not a derrick cache entry" "$T/e2.err"

# an unreachable cache registry
fresh_checkout "$T/a" "$T/e3" 2037-01-01
(cd "$T/e3" && "$DERRICK" build --json --retries 0 --cache-dir "$T/cache-e3" --version 2.0.0 \
	--cache-repo docker://127.0.0.1:9/ci/cache -o oci:"$T/e3-out":x >"$T/e3.json" 2>"$T/e3.err")
same "an unreachable cache: a normal build" "$(caches "$T/e3.json") $(json_get "$T/e3.json" 'd["manifest_digest"]')" "built built built $want"
check "  ... with a warning" grep -q "registry cache: .*building without it" "$T/e3.err"

# a poisoned entry: the dependencies key pointing at the (existing) system layer blob
python3 - "$R" "$dep_tag" "$T/a.json" <<'PY'
import json, sys, urllib.request
reg, tag, summary = sys.argv[1:]
d = json.load(open(summary))
base = f"http://{reg}/v2/ci/cache/manifests/{tag}"
req = urllib.request.Request(base, headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
m = json.load(urllib.request.urlopen(req))
evil = d["layers"][0]
m["layers"][0].update(digest=evil["digest"], size=evil["size"])   # diff_id annotation left as it was
body = json.dumps(m).encode()
put = urllib.request.Request(base, data=body, method="PUT",
                             headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
urllib.request.urlopen(put)
PY
fresh_checkout "$T/a" "$T/e4" 2038-01-01
job "$T/e4" "$T/cache-e4" --cache-mode read --cache-verify -o "docker://$R/verified:1" >"$T/e4.json" 2>"$T/e4.err"
same "--cache-verify: a poisoned entry is detected and the layer rebuilt" \
	"$(caches "$T/e4.json" | cut -d' ' -f2) $(json_get "$T/e4.json" 'd["manifest_digest"]')" "built $want"
check "  ... with a warning naming the mismatch" grep -q "claims diff_id" "$T/e4.err"
echo "1..$_n"
