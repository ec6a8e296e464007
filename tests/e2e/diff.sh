#!/usr/bin/env bash
# derrick diff: layers shared, added and removed by digest, the bytes a
# host holding OLD downloads for NEW, config changes; a re-compressed layer
# is named by its diff_id; the example before and after a one-file change
# differs in exactly its app layer; on a registry diff reads manifests and
# configs only, never a layer blob (counted in the registry's log).
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"

# --- two small specs: one layer the same, one changed, the config changed --------
mkdir -p "$T/s/base" "$T/s/app"
head -c 20000 /dev/urandom | base64 >"$T/s/base/lib"
echo "v1" >"$T/s/app/main"
spec() {
	cat <<JSON
{ "stages": [ { "name": "s", "layers": [ { "source": "base", "dest": "/lib" }, { "source": "app", "dest": "/app" } ] } ],
  "config": { "entrypoint": $1, "cmd": ["serve"], "user": "$2", "workdir": "/app",
              "env": { "KEEP": "1", "CHANGE": "$3", $4 "PATH": "/bin" },
              "exposed_ports": $5, "volumes": $6,
              "labels": { "a": "1", "b": "$3" } } }
JSON
}
spec '["/app/main"]' 1000 old '"GONE": "x",' '["8000/tcp"]' '[]' >"$T/s/one.json"
"$DERRICK" build -q -f "$T/s/one.json" --json -o oci:"$T/o":one >"$T/one.json"
echo "v2" >"$T/s/app/main"
spec '["/app/main", "--fast"]' 0 new '"NEW": "y",' '["8000/tcp", "9000/udp"]' '["/data"]' >"$T/s/two.json"
"$DERRICK" build -q -f "$T/s/two.json" --json -o oci:"$T/o":two >"$T/two.json"

"$DERRICK" diff --json oci:"$T/o":one oci:"$T/o":two >"$T/d.json"
check "diff --json of two layouts" test -s "$T/d.json"
same "  ... shared is the base layer" "$(json_get "$T/d.json" '[l["digest"] for l in d["layers"]["shared"]]')" \
	"$(json_get "$T/one.json" '[d["layers"][0]["digest"]]')"
same "  ... added is the new app layer" "$(json_get "$T/d.json" '[l["digest"] for l in d["layers"]["added"]]')" \
	"$(json_get "$T/two.json" '[d["layers"][1]["digest"]]')"
same "  ... removed is the old app layer" "$(json_get "$T/d.json" '[l["digest"] for l in d["layers"]["removed"]]')" \
	"$(json_get "$T/one.json" '[d["layers"][1]["digest"]]')"
same "download_bytes is the new app layer's size; saved_bytes the base's" \
	"$(json_get "$T/d.json" 'd["download_bytes"], d["saved_bytes"]')" \
	"$(json_get "$T/two.json" 'd["layers"][1]["size"], d["layers"][0]["size"]')"
same "env: one added, one removed, one changed" \
	"$(json_get "$T/d.json" 'd["config"]["env"]')" \
	"{'added': {'NEW': 'y'}, 'removed': {'GONE': 'x'}, 'changed': {'CHANGE': {'old': 'old', 'new': 'new'}}}"
same "labels: one changed" "$(json_get "$T/d.json" 'd["config"]["labels"]')" \
	"{'added': {}, 'removed': {}, 'changed': {'b': {'old': 'old', 'new': 'new'}}}"
same "entrypoint and user: old and new" "$(json_get "$T/d.json" 'd["config"]["entrypoint"], d["config"]["user"]')" \
	"({'old': ['/app/main'], 'new': ['/app/main', '--fast']}, {'old': '1000', 'new': '0'})"
same "exposed ports and volumes: what was added" \
	"$(json_get "$T/d.json" 'd["config"]["exposed_ports"], d["config"]["volumes"]')" \
	"({'added': ['9000/udp'], 'removed': []}, {'added': ['/data'], 'removed': []})"
same "cmd and workdir did not change: not listed" "$(json_get "$T/d.json" 'sorted(d["config"])')" \
	"['entrypoint', 'env', 'exposed_ports', 'labels', 'user', 'volumes']"
"$DERRICK" diff oci:"$T/o":one oci:"$T/o":two >"$T/d.txt"
same "the text form: download line" "$(grep '^download:' "$T/d.txt")" \
	"download: $(json_get "$T/two.json" 'd["layers"][1]["size"]') bytes (1 of 2 layers); already there: $(json_get "$T/two.json" 'd["layers"][0]["size"]') bytes"
same "the text form: config lines" "$(sed -n '/^config:/,$p' "$T/d.txt")" "$(printf '%s\n' 'config:' \
	'  env +NEW=y' '  env -GONE=x' '  env CHANGE: "old" -> "new"' '  labels b: "old" -> "new"' \
	'  entrypoint: ["/app/main"] -> ["/app/main","--fast"]' '  user: "1000" -> "0"' \
	'  exposed_ports +9000/udp' '  volumes +/data')"
"$DERRICK" diff --json oci:"$T/o":one oci:"$T/o":one >"$T/same.json"
same "an image against itself: nothing added, nothing to download, no config change" \
	"$(json_get "$T/same.json" 'len(d["layers"]["added"]), len(d["layers"]["removed"]), d["download_bytes"], d["config"]')" "(0, 0, 0, {})"

# --- the same tars compressed otherwise: new to a puller, named as such ----------
"$DERRICK" build -q -f "$T/s/two.json" --compression zstd --json -o oci:"$T/o":zstd >"$T/zstd.json"
"$DERRICK" diff --json oci:"$T/o":two oci:"$T/o":zstd >"$T/z.json"
same "re-compressed: every layer added, each naming the old layer with its diff_id" \
	"$(json_get "$T/z.json" '[(l["digest"], l.get("same_diff_id_as")) for l in d["layers"]["added"]]')" \
	"$(python3 -c 'import json,sys; z=json.load(open(sys.argv[1])); g=json.load(open(sys.argv[2])); print([(a["digest"], b["digest"]) for a, b in zip(z["layers"], g["layers"])])' "$T/zstd.json" "$T/two.json")"
same "  ... and the whole image is downloaded again" "$(json_get "$T/z.json" 'd["download_bytes"]')" \
	"$(json_get "$T/zstd.json" 'sum(l["size"] for l in d["layers"])')"
check "  ... the text form says so" grep -q "the same tar as $(json_get "$T/two.json" 'd["layers"][0]["digest"]'), compressed otherwise" \
	<("$DERRICK" diff oci:"$T/o":two oci:"$T/o":zstd)

expect_error "diff needs two images" "expected OLD and NEW" "$DERRICK" diff oci:"$T/o":one
expect_error "a missing image is one error line" "no image tagged \"nope\"" "$DERRICK" diff oci:"$T/o":one oci:"$T/o":nope

# --- the example before and after a one-file app change ---------------------------
sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then
	skip "the example before and after a one-file change" "no site-packages"
	echo "1..$_n"
	exit 0
fi
copy_example "$T/ex"
(cd "$T/ex" && "$DERRICK" build -q --version 1 --json -o oci:"$T/ex-out":v1 >"$T/ex1.json")
f=$(cd "$T/ex" && find src -name '*.py' | sort | head -n 1)
echo "# changed" >>"$T/ex/$f"
(cd "$T/ex" && "$DERRICK" build -q --version 1 --json -o oci:"$T/ex-out":v2 >"$T/ex2.json")
"$DERRICK" diff --json oci:"$T/ex-out":v1 oci:"$T/ex-out":v2 >"$T/ex.json"
app=$(json_get "$T/ex2.json" '[l["digest"] for l in d["layers"] if l["stage"] == "app"][0]')
same "one file of the app changed: exactly one layer added and one removed, the rest shared" \
	"$(json_get "$T/ex.json" 'len(d["layers"]["added"]), len(d["layers"]["removed"]), len(d["layers"]["shared"])')" \
	"(1, 1, $(( $(json_get "$T/ex2.json" 'len(d["layers"])') - 1 )))"
same "  ... the added layer is the app layer" "$(json_get "$T/ex.json" 'd["layers"]["added"][0]["digest"]')" "$app"
same "  ... the download is that layer's compressed size (its blob's bytes)" \
	"$(json_get "$T/ex.json" 'd["download_bytes"]')" "$(stat -c %s "$T/ex-out/blobs/sha256/${app#sha256:}")"
same "  ... no config change" "$(json_get "$T/ex.json" 'd["config"]')" "{}"

# --- on a registry: manifests and configs only ---------------------------------------
if m=$(registry_missing); then skip "diff on a registry" "missing: $m"; echo "1..$_n"; exit 0; fi
registry_start reg plain || exit 1
R=$REG_ADDR
for v in v1 v2; do "$DERRICK" push -q --tls-verify=false oci:"$T/ex-out":$v "docker://$R/app:$v"; done
registry_mark reg
"$DERRICK" diff --json --tls-verify=false --cache-dir "$T/fresh-cache" "docker://$R/app:v1" "docker://$R/app:v2" >"$T/reg.json"
same "diff on the registry: the same layers and download as on the layouts" \
	"$(json_get "$T/reg.json" 'd["layers"], d["download_bytes"], d["saved_bytes"]')" \
	"$(json_get "$T/ex.json" 'd["layers"], d["download_bytes"], d["saved_bytes"]')"
layers_re=$(json_get "$T/ex2.json" '"|".join(l["digest"] for l in d["layers"])')"|$(json_get "$T/ex.json" 'd["layers"]["removed"][0]["digest"]')"
same "  ... no layer blob was read (GET or HEAD)" "$(registry_count reg 'GET|HEAD' "^/v2/app/blobs/($layers_re)")" 0
same "  ... two manifests and two configs were" \
	"$(registry_count reg GET '^/v2/app/manifests/v[12]$' 200) $(registry_count reg GET '^/v2/app/blobs/sha256:' 200)" "2 2"
# the count bites: verify on the registry reads every layer, and the same count sees it
registry_mark reg
"$DERRICK" verify --tls-verify=false --cache-dir "$T/fresh-cache2" "docker://$R/app:v2" >"$T/rv.out" 2>&1
same "verify on the registry: intact, and every layer blob was read (the count above can see reads)" \
	"$? $(registry_count reg GET "^/v2/app/blobs/($layers_re)" 200)" "0 $(json_get "$T/ex2.json" 'len(d["layers"])')"
same "ls on the registry: the app layer's entries, as from the layout" \
	"$("$DERRICK" ls --tls-verify=false --cache-dir "$T/fresh-cache3" --layer "$app" "docker://$R/app:v2")" \
	"$("$DERRICK" ls --layer "$app" oci:"$T/ex-out":v2)"
"$DERRICK" diff --json --tls-verify=false oci:"$T/ex-out":v1 "docker://$R/app:v2" >"$T/mixed.json"
same "OLD in a layout, NEW in a registry: the same answer" "$(json_get "$T/mixed.json" 'd["layers"], d["download_bytes"]')" \
	"$(json_get "$T/ex.json" 'd["layers"], d["download_bytes"]')"
echo "1..$_n"
