#!/usr/bin/env bash
# Registries, plain HTTP: derrick and skopeo read each other's pushes with
# equal digests; a second push uploads nothing; an app change uploads one
# layer and the config; a base in repository A is mounted into B (read once
# for its symlinks, never again); :deps and :latest share layers; errors are
# one clear line.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "registry tests" "missing: $m"; echo "1..$_n"; exit 0; fi
sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then skip "registry tests" "no site-packages"; echo "1..$_n"; exit 0; fi

registry_start reg plain || exit 1
R=$REG_ADDR
D() { "$DERRICK" "$@" --tls-verify=false --cache-dir "$T/cache"; }
json_actions() { json_get "$1" '" ".join(sorted(b["action"] for b in d["blobs"]))'; }

copy_example "$T/app"
(cd "$T/app" && "$DERRICK" build -q --version 1.0.0 -o oci:"$T/out":latest -o oci:"$T/out":v1)

# --- push, and skopeo agrees --------------------------------------------
registry_mark reg
D push --json oci:"$T/out":latest "docker://$R/app:latest" >"$T/push1.json"
same "first push uploads every blob" "$(json_actions "$T/push1.json")" "uploaded uploaded uploaded uploaded"
same "  ... counted by the registry: 4 blob PUTs, 1 manifest PUT" \
	"$(registry_count reg PUT '^/v2/app/blobs/uploads/' 201) $(registry_count reg PUT '^/v2/app/manifests/latest' 201)" "4 1"
local_digest=$("$DERRICK" inspect --json oci:"$T/out":latest | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')
same "push keeps the manifest digest" "$(json_get "$T/push1.json" 'd["manifest_digest"]')" "$local_digest"
same "skopeo reads what derrick pushed: same digest" \
	"$(skopeo inspect --tls-verify=false "docker://$R/app:latest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" "$local_digest"
check "skopeo pulls it back and every digest verifies" registry_verify reg app:latest

skopeo copy -q --dest-tls-verify=false oci:"$T/out":v1 "docker://$R/by-skopeo:v1" >/dev/null 2>&1
sk=$(skopeo inspect --tls-verify=false "docker://$R/by-skopeo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
same "derrick reads what skopeo pushed: same digest" \
	"$(D inspect --json "docker://$R/by-skopeo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" "$sk"
D pull -q "$R/by-skopeo:v1" -o oci:"$T/pulled":v1
check "derrick pull: the layout validates" oci-image-tool validate --type image "$T/pulled"
same "derrick pull keeps the digest" "$("$DERRICK" inspect --json oci:"$T/pulled":v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" "$sk"

# --- idempotence and incremental pushes -----------------------------------
registry_mark reg
D push --json oci:"$T/out":latest "docker://$R/app:latest" >"$T/push2.json"
same "second push: every blob existed" "$(json_actions "$T/push2.json")" "existed existed existed existed"
same "  ... no upload reached the registry" "$(registry_count reg 'POST|PATCH|PUT' '/blobs/uploads/')" "0"
same "  ... and no byte was sent" "$(json_get "$T/push2.json" 'd["bytes_sent"]')" "0"

echo "# changed" >>"$T/app/src/production_control/app.py"
(cd "$T/app" && "$DERRICK" build -q --version 1.0.1 -o oci:"$T/out":latest)
registry_mark reg
D push --json --digest-file "$T/digest.txt" oci:"$T/out":latest "docker://$R/app:latest" >"$T/push3.json"
same "after an app change: the app layer and the config are uploaded, the rest existed" \
	"$(json_actions "$T/push3.json")" "existed existed uploaded uploaded"
same "  ... the registry saw exactly 2 blob uploads" "$(registry_count reg PUT '^/v2/app/blobs/uploads/' 201)" "2"
same "--digest-file holds REF@digest" "$(cat "$T/digest.txt")" "docker://$R/app:latest@$(json_get "$T/push3.json" 'd["manifest_digest"]')"

# --- :deps and :latest share their layers -------------------------------
(cd "$T/app" && "$DERRICK" build -q --version 1.0.1 --target dependencies -o oci:"$T/out":deps)
D push -q oci:"$T/out":deps "docker://$R/svc:deps"
D push --json oci:"$T/out":latest "docker://$R/svc:latest" >"$T/svc.json"
same ":latest after :deps: system and dependencies layers already there" \
	"$(json_actions "$T/svc.json")" "existed existed uploaded uploaded"

# --- a base in repository A, pushed to repository B: mounted, never uploaded
cat >"$T/app/on-base.json" <<JSON
{ "base": "docker://$R/app:latest",
  "stages": [ { "name": "extra", "layers": [ { "source": "rootfs", "dest": "/opt/extra" } ] } ] }
JSON
rm -rf "$T/cache"
registry_mark reg
(cd "$T/app" && D build -q -f on-base.json --json -o "docker://$R/derived:1" >"$T/derived.json")
same "build on a registry base, pushed to another repository: base layers mounted" \
	"$(registry_count reg POST '^/v2/derived/blobs/uploads/\?mount=.*&from=app' 201)" "3"
# a cache that does not know the base yet reads each of its layers once, for its
# symlinks (README, "Layers over symlinks"); the build cache keeps what it learnt
same "  ... with an empty cache, each base layer was downloaded once (for its symlinks), and the config" \
	"$(registry_count reg GET '^/v2/app/blobs/' 200)" "4"
base_layers=$(D inspect --json "docker://$R/app:latest" | python3 -c 'import json,sys; print(" ".join(l["digest"][7:] for l in json.load(sys.stdin)["layers"]))')
held=0
for h in $base_layers; do [[ -e $T/cache/blobs/sha256/$h ]] && held=$((held + 1)); done
same "  ... through the blob cache" "$held" "3"
check "skopeo verifies the derived image" registry_verify reg derived:1
registry_mark reg
(cd "$T/app" && D build -q -f on-base.json --json -o "docker://$R/derived:1b" >/dev/null)
same "a second build on that base downloads no base layer" "$(registry_count reg GET '^/v2/app/blobs/')" "1"
same "  ... (that one GET is the base's config)" \
	"$(registry_lines reg GET '^/v2/app/blobs/' | grep -c "$(json_get "$T/push3.json" '[b["digest"] for b in d["blobs"] if b["size"] < 2000 and b["action"] == "uploaded"][0]')")" "1"

# pulling it into a layout needs the bytes: they come through the cache, once
D pull -q "docker://$R/derived:1" -o oci:"$T/derived-layout":1
held=0
for h in $base_layers; do [[ -e $T/cache/blobs/sha256/$h ]] && held=$((held + 1)); done
same "a pull into a layout brings the base layers through the cache" "$held" "3"
registry_mark reg
D pull -q "docker://$R/derived:1" -o oci:"$T/derived-layout2":1
same "a second pull takes every blob from the cache" "$(registry_count reg GET '/blobs/')" "0"

# a base on another registry: its layers stream through the blob cache, once
registry_start reg2 plain || exit 1
rm -rf "$T/cache"
registry_mark reg
(cd "$T/app" && D build -q -f on-base.json -o "docker://$REG2_ADDR/derived:1" -o "docker://$REG2_ADDR/derived:2")
same "a registry base pushed to another registry: each base layer downloaded once" \
	"$(registry_count reg GET '^/v2/app/blobs/sha256:' 200)" "4"
held=0
for h in $base_layers; do [[ -e $T/cache/blobs/sha256/$h ]] && held=$((held + 1)); done
same "  ... through the blob cache" "$held" "3"
check "  ... and the other registry has the image" registry_verify reg2 derived:2

# several runs sharing one blob cache at once
rm -rf "$T/cache"
pids=()
for i in 1 2 3 4; do
	{ D pull -q "docker://$R/derived:1" -o oci:"$T/par$i":1 2>"$T/par$i.err" || echo "pull $i failed" >>"$T/par$i.err"; } &
	pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: the registry runs in the background too
same "four concurrent pulls sharing one cache: all succeed" "$(cat "$T"/par*.err)" ""
check "  ... every cached blob is whole (its name is its digest)" \
	bash -c 'cd "$1/cache/blobs/sha256" && for f in *; do [[ $(sha256sum "$f" | cut -c1-64) == "$f" ]] || exit 1; done' _ "$T"

# --- errors: one clear line, nothing left behind -------------------------
expect_error "a missing repository" "HTTP 404" D pull "$R/no-such-repo:1" -o oci:"$T/e1"
check "  ... no layout created" test ! -e "$T/e1"
expect_error "a missing tag" "manifest nope: HTTP 404 MANIFEST_UNKNOWN" D pull "$R/app:nope" -o oci:"$T/e2"
expect_error "an unknown host" "Could not resolve host: no-such-host.invalid" \
	"$DERRICK" pull no-such-host.invalid/app:1 -o oci:"$T/e3"
expect_error "a registry that is not there" "Couldn't connect to server" \
	"$DERRICK" pull --retries 0 127.0.0.1:1/app:1 -o oci:"$T/e4"
expect_error "an invalid reference names its rule" "repository name must be lowercase" \
	"$DERRICK" pull "$R/App:1" -o oci:"$T/e5"
# a registry serving a blob whose bytes do not match its digest
layer=$(json_get "$T/push1.json" '[b["digest"] for b in d["blobs"] if b["size"] > 100000][0]')
data=$(find "$REG_STORAGE" -path "*/blobs/sha256/*/${layer#sha256:}/data")
printf 'X' | dd of="$data" bs=1 seek=1000 conv=notrunc status=none
rm -rf "$T/cache"
expect_error "a blob whose digest is wrong" "blob $layer: the registry served" \
	D pull "$R/app:latest" -o oci:"$T/e6"
check "  ... no layout created" test ! -e "$T/e6"
check "  ... the bad blob is not in the cache, and no temporary file is" \
	test ! -e "$T/cache/blobs/sha256/${layer#sha256:}" -a -z "$(find "$T/cache" -name '.tmp-*')"
echo "1..$_n"
