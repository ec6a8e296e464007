#!/usr/bin/env bash
# Multi-platform images (issue #12): the example built for linux/amd64 and
# linux/arm64 on a two-platform base, from an OCI layout and from a
# registry.  Each platform's image is what a build for that platform alone
# gives, the layers that do not depend on the platform are the same blobs
# (and built once), and the index over them is reproducible and survives
# pull and push byte for byte.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"

sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then
	skip "multi-platform builds" "no site-packages: $(cat "$T/.sp.err")"
	echo "1..$_n"
	exit 0
fi
OL() { python3 "$TOP_SRCDIR/tests/lib/oci_layout.py" "$@"; }
L=$T/base
BOTH=linux/amd64,linux/arm64
# raw REF: the manifest or index REF names, as skopeo reads it
raw() { skopeo inspect --raw "$@"; }
sha() { echo "sha256:$(sha256sum | cut -c1-64)"; }

# --- a two-platform base: one scratch image per platform, an index over them
mkdir -p "$T/b/etc"
echo '{ "stages": [ { "name": "os", "layers": [ { "source": "etc", "dest": "/etc" } ] } ] }' >"$T/b/derrick.json"
for p in amd64 arm64; do
	echo "$p" >"$T/b/etc/platform"
	"$DERRICK" build -q -f "$T/b/derrick.json" --platform "linux/$p" -o oci:"$L:$p"
done
OL index "$L" multi amd64=linux/amd64 arm64=linux/arm64 >/dev/null
declare -A BASE_LAYER
for p in amd64 arm64; do
	BASE_LAYER[$p]=$(raw oci:"$L:$p" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
done
differ "the base's two images have different layers" "${BASE_LAYER[amd64]}" "${BASE_LAYER[arm64]}"

copy_example "$T/ex"
# spec_on BASE OUT: the example's spec on another base
spec_on() {
	python3 - "$T/ex/derrick.json" "$1" >"$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["base"] = sys.argv[2]
print(json.dumps(d, indent=2))
PY
}
spec_on "oci:$L:multi" "$T/ex/multi.json"

# --- the build ---------------------------------------------------------------
"$DERRICK" build -f "$T/ex/multi.json" --version 1 --platform "$BOTH" --json --digest-file "$T/digest" \
	-o oci:"$T/out":1 >"$T/multi.json" 2>"$T/multi.err"
check "build --platform linux/amd64,linux/arm64 on a two-platform base" test -s "$T/multi.json"
diag <"$T/multi.err"
raw oci:"$T/out":1 >"$T/index.json"
index=$(sha <"$T/index.json")
same "skopeo inspect --raw shows an OCI index over the two platforms, sorted" \
	"$(json_get "$T/index.json" 'd["mediaType"], [(m["mediaType"], m["platform"]) for m in d["manifests"]]')" \
	"('application/vnd.oci.image.index.v1+json', [('application/vnd.oci.image.manifest.v1+json', {'architecture': 'amd64', 'os': 'linux'}), ('application/vnd.oci.image.manifest.v1+json', {'architecture': 'arm64', 'os': 'linux'})])"
same "--json reports the index's digest" "$(json_get "$T/multi.json" 'd["manifest_digest"], d["media_type"]')" \
	"('$index', 'application/vnd.oci.image.index.v1+json')"
same "  ... and each platform's manifest, as the index lists them" \
	"$(json_get "$T/multi.json" '[(m["platform"], m["manifest_digest"], m["manifest_size"]) for m in d["manifests"]]')" \
	"$(json_get "$T/index.json" '[(m["platform"]["os"] + "/" + m["platform"]["architecture"], m["digest"], m["size"]) for m in d["manifests"]]')"
same "--digest-file names the index" "$(cat "$T/digest")" "oci:$T/out:1@$index"
same "compressed_layers counts the three shared layers once" "$(json_get "$T/multi.json" 'd["compressed_layers"]')" 3

declare -A MAN
for p in amd64 arm64; do
	MAN[$p]=$(json_get "$T/multi.json" "[m['manifest_digest'] for m in d['manifests'] if m['platform'] == 'linux/$p'][0]")
	cp "$T/out/blobs/sha256/${MAN[$p]#sha256:}" "$T/m-$p.json"
	json_get "$T/out/blobs/sha256/$(json_get "$T/m-$p.json" 'd["config"]["digest"][7:]')" \
		'd["architecture"], d["os"]' >"$T/cfg-$p"
done
same "each platform's manifest is on that platform's base layer" \
	"$(json_get "$T/m-amd64.json" 'd["layers"][0]["digest"]') $(json_get "$T/m-arm64.json" 'd["layers"][0]["digest"]')" \
	"${BASE_LAYER[amd64]} ${BASE_LAYER[arm64]}"
same "  ... and each config says its platform" "$(cat "$T/cfg-amd64" "$T/cfg-arm64")" "('amd64', 'linux')
('arm64', 'linux')"
app_layers() { json_get "$1" '[l["digest"] for l in d["layers"][1:]]'; }
same "the example's three layers are the same blobs in both" "$(app_layers "$T/m-amd64.json")" \
	"$(app_layers "$T/m-arm64.json")"
check "  ... and there are three of them" test "$(json_get "$T/m-arm64.json" 'len(d["layers"])')" -eq 4

for p in amd64 arm64; do
	"$DERRICK" build -f "$T/ex/multi.json" --version 1 --platform "linux/$p" --no-cache --json \
		-o oci:"$T/single-$p":1 >"$T/single-$p.json"
	same "the linux/$p image is the one a build for linux/$p alone gives" \
		"$(json_get "$T/single-$p.json" 'd["manifest_digest"]')" "${MAN[$p]}"
done
"$DERRICK" build -f "$T/ex/multi.json" --version 1 --platform linux/arm64,linux/amd64 --no-cache --json \
	-o oci:"$T/again":1 >"$T/again.json"
same "the other order of platforms, without the cache: the same index" \
	"$(json_get "$T/again.json" 'd["manifest_digest"]')" "$index"
same "  ... the shared layers still built once" "$(json_get "$T/again.json" 'd["compressed_layers"]')" 3
"$DERRICK" build -f "$T/ex/multi.json" --version 1 --platform "$BOTH" -o oci:"$T/out":1 >"$T/text.out"
same "the text output ends with the index and 'wrote DEST@INDEX'" "$(tail -n 2 "$T/text.out")" \
	"index                $index
wrote oci:$T/out:1@$index"
check "oci-image-tool validates the index" oci-image-tool validate --type imageIndex "$T/index.json"
check "  ... and both manifests" oci-image-tool validate --type manifest "$T/m-amd64.json" "$T/m-arm64.json"
check "  ... and the layout" oci-image-tool validate --type image --ref name=1 "$T/out"
"$DERRICK" inspect oci:"$T/out":1 >"$T/inspect.txt"
same "inspect of the index lists its platforms" "$(sed -n '2,4p' "$T/inspect.txt" | awk '{print $1, $2}')" \
	"platforms: 
linux/amd64 ${MAN[amd64]}
linux/arm64 ${MAN[arm64]}"
same "  ... and --json too" \
	"$("$DERRICK" inspect --json oci:"$T/out":1 | python3 -c 'import json,sys; print([(m["digest"], m["platform"]["architecture"]) for m in json.load(sys.stdin)["manifests"]])')" \
	"[('${MAN[amd64]}', 'amd64'), ('${MAN[arm64]}', 'arm64')]"
same "inspect --platform linux/arm64 describes that image" \
	"$("$DERRICK" inspect --platform linux/arm64 oci:"$T/out":1 | sed -n 's/^manifest: *\([^ ]*\).*/\1/p')" "${MAN[arm64]}"

# --- mistakes ----------------------------------------------------------------
expect_error "the same platform twice" "--platform: linux/arm64 and linux/arm64/v8 are the same platform" \
	"$DERRICK" build -f "$T/ex/multi.json" --version 1 --platform linux/arm64,linux/amd64,linux/arm64/v8 -o oci:"$T/none":1
expect_error "a platform the base lacks" "the image index has no manifest for linux/riscv64" \
	"$DERRICK" build -f "$T/ex/multi.json" --version 1 --platform linux/amd64,linux/riscv64 -o oci:"$T/none":1
check "  ... and nothing was written" test ! -e "$T/none"

# --- a layer whose input differs by platform --------------------------------
for p in amd64 arm64; do
	mkdir -p "$T/ex/native-$p"
	echo "$p" >"$T/ex/native-$p/arch"
done
python3 - "$T/ex/multi.json" >"$T/ex/native.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["stages"][1]["layers"].append({"platforms": {
    "linux/arm64": {"source": "native-arm64"}, "linux/amd64": {"source": "native-amd64", "exclude": []}},
    "dest": "/usr/local/lib/native/"})
print(json.dumps(d, indent=2))
PY
"$DERRICK" build -f "$T/ex/native.json" --version 1 --platform "$BOTH" --json -o oci:"$T/native":1 >"$T/native.json"
# native_file P: /usr/local/lib/native/arch in platform P's layer 3, and its history
native_file() {
	json_get "$T/native.json" "[m for m in d['manifests'] if m['platform'] == 'linux/$1'][0]['layers'][3]" >"$T/nl"
	tar -xzOf "$T/native/blobs/sha256/$(python3 -c 'import ast,sys; print(ast.literal_eval(open(sys.argv[1]).read())["digest"][7:])' "$T/nl")" \
		usr/local/lib/native/arch
	python3 -c 'import ast,sys; print(ast.literal_eval(open(sys.argv[1]).read())["created_by"])' "$T/nl"
}
same "\"platforms\": the arm64 image has the arm64 input" "$(native_file arm64)" "arm64
derrick stage dependencies: COPY native-arm64 /usr/local/lib/native"
same "  ... and the amd64 image the amd64 one" "$(native_file amd64)" "amd64
derrick stage dependencies: COPY native-amd64 /usr/local/lib/native"
same "  ... the other layers still shared and built once" "$(json_get "$T/native.json" 'd["compressed_layers"]')" 2
expect_error "a platform the layer has no input for: the layer and the platform named" \
	"stages[1].layers[1].platforms has no entry for linux/arm/v7, a platform being built (it has linux/arm64, linux/amd64)" \
	"$DERRICK" build -f "$T/ex/native.json" --version 1 --platform linux/amd64,linux/arm/v7 -o oci:"$T/none":1
sed 's#"linux/arm64"#"linux/arm65"#' "$T/ex/native.json" >"$T/ex/bad.json"
expect_error "a platform key is checked as --platform is" \
	"stages[1].layers[1].platforms.linux/arm65: platform \"linux/arm65\": unknown architecture" \
	"$DERRICK" build -f "$T/ex/bad.json" --version 1 -o oci:"$T/none":1
sed 's#"dest": "/usr/local/lib/native/"#"dest": "/usr/local/lib/native/", "source": "x"#' "$T/ex/native.json" >"$T/ex/bad.json"
expect_error "the input goes in the platform's object, not beside it" \
	"stages[1].layers[1]: \"source\" goes in each platform's object of \"platforms\"" \
	"$DERRICK" build -f "$T/ex/bad.json" --version 1 -o oci:"$T/none":1
"$DERRICK" build -f "$T/ex/native.json" --version 1 --platform linux/arm64 --json -o oci:"$T/native-arm":1 \
	>"$T/native-arm.json"
same "a build for arm64 alone takes the arm64 input from the cache: the platform is in its key" \
	"$(json_get "$T/native-arm.json" '[l["cache"] for l in d["layers"]]')" "[None, 'local', 'local', 'local', 'local']"

# --- several platforms into an output that holds one ------------------------
if "$DERRICK" build -q -f "$T/ex/multi.json" --version 1 --platform linux/amd64 \
	-o docker-archive:"$T/one.tar":app:1 >/dev/null 2>&1; then
	expect_error "docker-archive: takes one platform: several is an error" \
		"docker-archive output holds one platform's image" \
		"$DERRICK" build -f "$T/ex/multi.json" --version 1 --platform "$BOTH" -o docker-archive:"$T/two.tar":app:1
	check "  ... and nothing was written" test ! -e "$T/two.tar"
	expect_error "  ... and pull of an index into it asks for --platform" "choose one with --platform" \
		"$DERRICK" pull oci:"$T/out":1 -o docker-archive:"$T/two.tar":app:1
else
	skip "docker-archive: takes one platform" "this derrick writes no docker-archive"
fi

# --- pull and push ---------------------------------------------------------
"$DERRICK" pull oci:"$T/out":1 -o oci:"$T/pulled":1 >"$T/pull.out"
same "pull of an index copies it whole: the same digest" "$(sha < <(raw oci:"$T/pulled":1))" "$index"
for p in amd64 arm64; do
	same "  ... with the linux/$p image and its blobs" \
		"$(skopeo inspect --override-arch "$p" --override-os linux oci:"$T/pulled":1 |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["Layers"])')" \
		"$(json_get "$T/m-$p.json" '[l["digest"] for l in d["layers"]]')"
done
"$DERRICK" pull --platform linux/arm64 oci:"$T/out":1 -o oci:"$T/arm":1 >"$T/pull-arm.out"
same "pull --platform linux/arm64 copies only that image" "$(sha < <(raw oci:"$T/arm":1))" "${MAN[arm64]}"
same "  ... the amd64 image's blobs stay behind" "$(exists "$T/arm/blobs/sha256/${MAN[amd64]#sha256:}")" absent
umoci unpack --rootless --image "$T/arm":1 "$T/bundle" >"$T/umoci.log" 2>&1
check "  ... and umoci unpacks it" test -f "$T/bundle/rootfs/app/production_control/__init__.py"
same "  ... on the arm64 base" "$(cat "$T/bundle/rootfs/etc/platform")" arm64

if m=$(registry_missing); then skip "registry cases" "missing: $m"; echo "1..$_n"; exit 0; fi
registry_start reg plain || exit 1
R=$REG_ADDR
D() { "$DERRICK" "$@" --tls-verify=false; }
same "push of the index prints its digest" "$(D push oci:"$T/out":1 "docker://$R/app:1")" "docker://$R/app:1@$index"
same "  ... the registry holds the index byte for byte" "$(raw --tls-verify=false "docker://$R/app:1" | sha)" "$index"
for p in amd64 arm64; do
	same "  ... and the linux/$p manifest by its digest" \
		"$(raw --tls-verify=false "docker://$R/app@${MAN[$p]}" | sha)" "${MAN[$p]}"
done
D pull "docker://$R/app:1" -o oci:"$T/from-reg":1 >/dev/null
same "pull of the index from the registry: the same digest" "$(sha < <(raw oci:"$T/from-reg":1))" "$index"
same "pull --platform linux/amd64 from the registry takes that image" \
	"$(D pull --platform linux/amd64 "docker://$R/app:1" -o oci:"$T/from-reg":amd | sed 's/.*@//')" "${MAN[amd64]}"

skopeo copy -q --all --dest-tls-verify=false oci:"$L":multi "docker://$R/base:1" >"$T/sk.log" 2>&1
check "skopeo pushes the two-platform base" test ! -s "$T/sk.log"
spec_on "docker://$R/base:1" "$T/ex/reg.json"
D build -f "$T/ex/reg.json" --version 1 --platform "$BOTH" --json -o "docker://$R/direct:1" -o oci:"$T/reg-out":1 \
	>"$T/reg.json" 2>"$T/reg.err"
diag <"$T/reg.err"
same "a build on the registry's base into the registry: the same index" \
	"$(json_get "$T/reg.json" 'd["manifest_digest"]') $(raw --tls-verify=false "docker://$R/direct:1" | sha)" \
	"$index $index"
echo "1..$_n"
