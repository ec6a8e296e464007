#!/usr/bin/env bash
# What derrick reads besides its own single-platform images (issue #9):
# multi-platform indexes as BuildKit and Docker Hub write them (arm64 entries
# without a variant, amd64 levels, attestations), OCI 1.1 artifacts, and
# documents over the size limits; from a layout and from a registry.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"

L=$T/layout
P=$T/p
OL() { python3 "$TOP_SRCDIR/tests/lib/oci_layout.py" "$@"; }
# DG[TAG] and SZ[TAG]: the digest and size of what TAG names in $L
declare -A DG SZ
tags() { local t d s; while read -r t d s; do DG[$t]=$d; SZ[$t]=$s; done < <(OL tags "$L"); }
# field TITLE CMD...: the text after "TITLE:" in what CMD prints
field() { local title=$1; shift; "$@" | sed -n "s/^$title: *//p"; }

# One image per platform; each layer holds the platform's name, so the
# image chosen from an index can be told by its layer.
mkdir -p "$P/src"
echo '{ "stages": [ { "name": "app", "layers": [ { "source": "src", "dest": "/app" } ] } ] }' >"$P/derrick.json"
for tp in amd64=linux/amd64 amd64v2=linux/amd64/v2 amd64v3=linux/amd64/v3 arm64=linux/arm64 \
	armv7=linux/arm/v7 armv6=linux/arm/v6; do
	echo "${tp#*=}" >"$P/src/platform"
	"$DERRICK" build -q -f "$P/derrick.json" --platform "${tp#*=}" -o oci:"$L:${tp%%=*}"
done
# as BuildKit writes it: no variant on arm64, an attestation per image
OL index "$L" multi attestation=amd64 amd64=linux/amd64 arm64=linux/arm64 armv7=linux/arm/v7 \
	armv6=linux/arm/v6 attestation=arm64 >/dev/null
OL index "$L" levels amd64v2=linux/amd64/v2 amd64=linux/amd64 amd64v3=linux/amd64/v3 >/dev/null
OL index "$L" v3only amd64v3=linux/amd64/v3 >/dev/null
tags

# --- platforms -----------------------------------------------------------
# picked PLATFORM SRC: the digest of the image pull takes (pull prints DEST@DIGEST)
picked() { "$DERRICK" pull --platform "$1" "${@:2}" -o oci:"$T/pulled":x | sed 's/.*@//'; }

same "pull --platform linux/arm64/v8 takes the arm64 entry that has no variant" \
	"$(picked linux/arm64/v8 oci:"$L":multi)" "${DG[arm64]}"
same "  ... and so does linux/arm64" "$(picked linux/arm64 oci:"$L":multi)" "${DG[arm64]}"
same "linux/arm is arm/v7" "$(picked linux/arm oci:"$L":multi)" "${DG[armv7]}"
same "linux/arm/v6 is not v7" "$(picked linux/arm/v6 oci:"$L":multi)" "${DG[armv6]}"
same "linux/amd64/v3 takes v3 when there is one" "$(picked linux/amd64/v3 oci:"$L":levels)" "${DG[amd64v3]}"
same "linux/amd64/v4 takes the highest level below: v3" "$(picked linux/amd64/v4 oci:"$L":levels)" "${DG[amd64v3]}"
same "linux/amd64/v2 takes v2, not v3" "$(picked linux/amd64/v2 oci:"$L":levels)" "${DG[amd64v2]}"
same "linux/amd64 takes the entry without a variant" "$(picked linux/amd64 oci:"$L":levels)" "${DG[amd64]}"
same "linux/amd64/v3 takes an entry without a variant when that is all" \
	"$(picked linux/amd64/v3 oci:"$L":multi)" "${DG[amd64]}"
expect_error "v2 never takes a v3 image" \
	"oci:$L:v3only: the image index has no manifest for linux/amd64/v2 (it has linux/amd64/v3)" \
	"$DERRICK" pull --platform linux/amd64/v2 oci:"$L":v3only -o oci:"$T/none":x
expect_error "no match: the error lists what the index has, attestations left out" \
	"the image index has no manifest for linux/s390x (it has linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6)" \
	"$DERRICK" inspect --platform linux/s390x oci:"$L":multi
same "inspect --platform linux/arm64/v8 describes the arm64 image" \
	"$(field '\(manifest\|platform\)' "$DERRICK" inspect --platform linux/arm64/v8 oci:"$L":multi)" \
	"${DG[arm64]} (application/vnd.oci.image.manifest.v1+json)
linux/arm64"

# a build on a multi-platform base
first_layer() { "$DERRICK" inspect "$1" | sed -n '/^layers:/{n;s/^ *\([^ ]*\).*/\1/p}'; }
arm64_layer=$(first_layer oci:"$L":arm64)
mkdir -p "$P/app"
echo hi >"$P/app/hello"
printf '{ "base": "oci:%s:multi", "stages": [ { "name": "a", "layers": [ { "source": "app", "dest": "/srv" } ] } ] }\n' \
	"$L" >"$P/on-multi.json"
"$DERRICK" build -f "$P/on-multi.json" --platform linux/arm64/v8 -o oci:"$T/built":arm >"$T/build.out" 2>"$T/build.err"
check "build --platform linux/arm64/v8 on a base whose arm64 entry has no variant" test -s "$T/built/index.json"
same "  ... with the arm64 base's layer" "$(first_layer oci:"$T/built":arm)" "$arm64_layer"
same "  ... and no warning about the base's platform" "$(cat "$T/build.err")" ""
same "  ... its config says linux/arm64/v8, as docker writes it when asked" \
	"$(field platform "$DERRICK" inspect oci:"$T/built":arm)" "linux/arm64/v8"
printf '{ "base": "oci:%s:arm64", "stages": [ { "name": "a", "layers": [ { "source": "app", "dest": "/srv" } ] } ] }\n' \
	"$L" >"$P/on-arm64.json"
"$DERRICK" build -f "$P/on-arm64.json" --platform linux/arm64/v8 -o oci:"$T/built":arm2 >/dev/null 2>"$T/build.err"
same "a single arm64 base without a variant suits arm64/v8: no warning" "$(cat "$T/build.err")" ""
"$DERRICK" build -f "$P/on-arm64.json" --platform linux/amd64 -o oci:"$T/built":amd 2>"$T/build.err" >/dev/null
check "an arm64 base for an amd64 image is warned about, platforms in full" \
	grep -qF "warning: base image oci:$L:arm64 is linux/arm64, the image being built is linux/amd64" "$T/build.err"

# --- artifacts -------------------------------------------------------------
echo '{"spdxVersion":"SPDX-2.3"}' >"$T/sbom.json"
sbom=$(OL artifact "$L" sbom --type application/vnd.example.sbom.v1+json --subject arm64 \
	--blob "application/spdx+json=$T/sbom.json=sbom.spdx.json" --annotation org.opencontainers.image.created=2024-05-01T00:00:00Z)
"$DERRICK" inspect oci:"$L":sbom >"$T/art.txt" 2>&1
check "inspect describes an artifact" test -s "$T/art.txt"
show_nulls "$T/art.txt"
same "  ... as an artifact, with its type, config, subject and blobs" "$(sed -n '1,6p' "$T/art.txt")" \
"manifest:    $sbom (application/vnd.oci.image.manifest.v1+json)
artifact:    application/vnd.example.sbom.v1+json
config:      sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a (application/vnd.oci.empty.v1+json, 2 bytes)
subject:     ${DG[arm64]} (application/vnd.oci.image.manifest.v1+json, ${SZ[arm64]} bytes)
blobs:
  $(sha256sum "$T/sbom.json" | sed 's/ .*//;s/^/sha256:/')  $(printf '%10d' "$(stat -c %s "$T/sbom.json")") bytes  application/spdx+json"
same "  ... each blob's annotations, then the manifest's" "$(sed -n '7,$p' "$T/art.txt")" \
"    org.opencontainers.image.title=sbom.spdx.json
annotations:
  org.opencontainers.image.created=2024-05-01T00:00:00Z"
"$DERRICK" inspect --json oci:"$L":sbom >"$T/art.json"
same "inspect --json: artifact type, subject, blobs" \
	"$(json_get "$T/art.json" 'd["artifact_type"], d["subject"]["digest"], [(b["media_type"], b["size"], b["annotations"]) for b in d["blobs"]], d["config"]["media_type"], "platform" in d')" \
	"('application/vnd.example.sbom.v1+json', '${DG[arm64]}', [('application/spdx+json', $(stat -c %s "$T/sbom.json"), {'org.opencontainers.image.title': 'sbom.spdx.json'})], 'application/vnd.oci.empty.v1+json', False)"
same "an image's description has no artifact_type" "$("$DERRICK" inspect --json oci:"$L":arm64 | grep -c artifact_type)" 0
# before OCI 1.1 (Helm, ORAS): the config's media type is the artifact's type
echo '{"name":"chart","version":"1.0.0"}' >"$T/chart.json"
OL artifact "$L" chart --config "application/vnd.cncf.helm.config.v1+json=$T/chart.json" \
	--blob "application/vnd.cncf.helm.chart.content.v1.tar+gzip=$T/chart.json" >/dev/null
same "an artifact without artifactType: its config's media type is its type" \
	"$(field artifact "$DERRICK" inspect oci:"$L":chart)" "application/vnd.cncf.helm.config.v1+json"
OL artifact "$L" bare --type application/vnd.example.signature >/dev/null
"$DERRICK" inspect oci:"$L":bare >"$T/bare.txt" 2>&1
same "an artifact without blobs or subject" "$(sed -n '4,6p' "$T/bare.txt")" \
"subject:     (none)
blobs:
  sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a           2 bytes  application/vnd.oci.empty.v1+json"
printf '{ "base": "oci:%s:sbom", "stages": [ { "name": "a", "layers": [ { "source": "app", "dest": "/srv" } ] } ] }\n' \
	"$L" >"$P/on-artifact.json"
expect_error "an artifact is no base image" \
	"base image oci:$L:sbom is an artifact (application/vnd.example.sbom.v1+json), not an image" \
	"$DERRICK" build -f "$P/on-artifact.json" -o oci:"$T/none":x
check "  ... and nothing was written" test ! -e "$T/none"

# --- size limits -----------------------------------------------------------
OUT=$T/out
"$DERRICK" build -q -f "$P/derrick.json" -o oci:"$OUT":keep
before=$(tree_state "$OUT")
python3 - "$P" "$L" <<'PY'
import json, sys
p, l = sys.argv[1], sys.argv[2]
stages = [{"name": "app", "layers": [{"source": "src", "dest": "/app"}]}]
json.dump({"stages": stages, "annotations": {"big": "x" * (5 << 20)}}, open(p + "/big-ann.json", "w"))
# 10 MiB of labels in the base and 7 in the image: each spec is under 16 MiB, the config is not
json.dump({"stages": stages, "config": {"labels": {"big": "x" * (10 << 20)}}}, open(p + "/big-base.json", "w"))
json.dump({"base": "oci:%s:bigbase" % l, "stages": stages, "config": {"labels": {"more": "y" * (7 << 20)}}},
          open(p + "/big-cfg.json", "w"))
PY
expect_error "a build whose manifest is over 4 MiB is refused" \
	"$P/big-ann.json: manifest sha256:" "$DERRICK" build -f "$P/big-ann.json" -o oci:"$OUT":big -o oci:"$T/new":big
check "  ... the error names the size and the limit" \
	grep -qE "manifest sha256:[0-9a-f]{64}: 52[0-9]{5} bytes, over the 4 MiB limit registries accept \(it holds the annotations\)$" "$T/.err"
same "  ... the existing output is untouched" "$(tree_state "$OUT")" "$before"
check "  ... and no new output was created" test ! -e "$T/new"
"$DERRICK" build -q -f "$P/big-base.json" -o oci:"$L":bigbase
expect_error "a build whose config is over 16 MiB is refused" \
	"over the 16 MiB limit derrick reads (it holds the base's config, the labels and env)" \
	"$DERRICK" build -f "$P/big-cfg.json" -o oci:"$OUT":big
check "  ... the error calls it the image config" grep -qE "big-cfg.json: image config sha256:[0-9a-f]{64}: 17[0-9]{6} bytes" "$T/.err"
same "  ... the existing output is untouched" "$(tree_state "$OUT")" "$before"

# documents over the limit that others wrote: each called what it is
head -c $((5 << 20)) /dev/zero | tr '\0' x >"$T/5m.txt"
OL artifact "$L" huge --type application/x-test --annotation "big=@$T/5m.txt" >/dev/null
OL index "$L" hugeidx --annotation "big=@$T/5m.txt" amd64=linux/amd64 >/dev/null
head -c $((17 << 20)) /dev/zero | tr '\0' ' ' >"$T/17m.json"
echo '{}' >>"$T/17m.json"
OL artifact "$L" bigcfg --config "application/vnd.oci.image.config.v1+json=$T/17m.json" >/dev/null
tags
expect_error "pull of a layout's manifest over 4 MiB: a manifest, its size, the limit" \
	"oci:$L:huge: manifest ${DG[huge]}: ${SZ[huge]} bytes, over the 4 MiB limit registries accept" \
	"$DERRICK" pull oci:"$L":huge -o oci:"$T/none":x
expect_error "an index over 4 MiB is an image index" \
	"oci:$L:hugeidx: image index ${DG[hugeidx]}: ${SZ[hugeidx]} bytes, over the 4 MiB limit registries accept" \
	"$DERRICK" inspect oci:"$L":hugeidx
expect_error "a config over 16 MiB is an image config" \
	"oci:$L:bigcfg: image config sha256:$(sha256sum "$T/17m.json" | cut -c1-64): $(stat -c %s "$T/17m.json") bytes, over the 16 MiB limit derrick reads" \
	"$DERRICK" inspect oci:"$L":bigcfg

# --- the same through a registry -------------------------------------------
if m=$(registry_missing); then skip "registry cases" "missing: $m"; echo "1..$_n"; exit 0; fi
registry_start reg plain || exit 1
R=$REG_ADDR
D() { "$DERRICK" "$@" --tls-verify=false; }
skopeo copy -q --all --dest-tls-verify=false oci:"$L":multi "docker://$R/multi:1" >"$T/sk.log" 2>&1
check "skopeo pushes the multi-platform index" test ! -s "$T/sk.log"
same "pull --platform linux/arm64/v8 from a registry takes the arm64 entry" \
	"$(picked linux/arm64/v8 "docker://$R/multi:1" --tls-verify=false)" "${DG[arm64]}"
expect_error "  ... and a platform it lacks lists those it has" \
	"docker://$R/multi:1: the image index has no manifest for linux/riscv64 (it has linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6)" \
	D pull --platform linux/riscv64 "docker://$R/multi:1" -o oci:"$T/none":x

D push -q oci:"$L":arm64 "docker://$R/app:1"
D push -q oci:"$L":sbom "docker://$R/app:sbom"
D inspect "docker://$R/app:sbom" >"$T/reg-art.txt" 2>&1
same "inspect of an artifact in a registry: the same description" "$(cat "$T/reg-art.txt")" "$(cat "$T/art.txt")"

# manifests over 4 MiB, from a server that serves what a registry refuses to store
python3 "$TOP_SRCDIR/tests/lib/big_manifest_server.py" >"$T/big.port" &
big_pid=$!
track_pid "$big_pid"
for _ in $(seq 50); do [[ -s $T/big.port ]] && break; sleep 0.1; done
B=127.0.0.1:$(head -n 1 "$T/big.port")
expect_error "a registry's manifest over 4 MiB: a manifest, its size, the limit" \
	"docker://$B/x:big: manifest big: " \
	D inspect "docker://$B/x:big"
check "  ... in full" grep -qE "manifest big: 52[0-9]{5} bytes, over the 4 MiB limit registries accept$" "$T/.err"
expect_error "  ... and without a Content-Length" \
	"docker://$B/x:chunked: manifest chunked is over the 4 MiB limit registries accept" \
	D inspect "docker://$B/x:chunked"
expect_error "  ... and the manifest an index entry names" \
	"docker://$B/x:index: manifest sha256:" \
	D pull --platform linux/amd64 "docker://$B/x:index" -o oci:"$T/none":x
check "  ... the error says its size and the limit" grep -qE "bytes, over the 4 MiB limit registries accept$" "$T/.err"
kill "$big_pid" 2>/dev/null
wait "$big_pid" 2>/dev/null
echo "1..$_n"
