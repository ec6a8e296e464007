#!/usr/bin/env bash
# Base images from a layout (inherited config, env merged by key, shared
# layers), prebuilt tar layers, single-file sources, exclude patterns and
# ownership/mode overrides, checked from the written layers.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

P=$T/p
mkdir -p "$P/base" "$P/app/pkg" "$P/app/docs" "$P/app/build"
echo base >"$P/base/base.txt"
echo 'x = 1' >"$P/app/pkg/mod.py"
echo 'keep me' >"$P/app/docs/keep.md"
echo 'drop me' >"$P/app/docs/drop.md"
echo 'log' >"$P/app/debug.log"
echo 'nested log' >"$P/app/pkg/nested.log"
echo 'artifact' >"$P/app/build/out.o"
echo '#!/bin/sh' >"$P/app/run.sh" && chmod 700 "$P/app/run.sh"
echo 'conf' >"$P/settings.conf"

cat >"$P/base.json" <<'JSON'
{ "stages": [ { "name": "base", "layers": [ { "source": "base", "dest": "/opt/base" } ] } ],
  "config": { "env": { "A": "1", "B": "2", "PATH": "/usr/bin" }, "entrypoint": ["/bin/base"], "cmd": ["--serve"],
              "user": "0", "labels": { "from.base": "yes", "overridden": "base" }, "exposed_ports": ["80"] } }
JSON
"$DERRICK" build -q -f "$P/base.json" -o oci:"$T/layout":base
base_layer=$("$DERRICK" inspect --json oci:"$T/layout":base | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')

cat >"$P/derrick.json" <<JSON
{ "base": "oci:$T/layout:base",
  "stages": [ { "name": "app", "layers": [
      { "source": "app", "dest": "/srv/app/", "exclude": ["*.log", "build", "docs", "!docs/keep.md"],
        "uid": 1000, "gid": 1000, "dir_mode": "0750" },
      { "source": "settings.conf", "dest": "/etc/app/" },
      { "source": "settings.conf", "dest": "/etc/app/renamed.conf", "file_mode": "0600" },
      { "tar": "extra.tar.gz", "dest": "/opt/extra" } ] } ],
  "config": { "env": { "B": "3", "C": "\${VERSION}" }, "labels": { "overridden": "app" }, "workdir": "/srv/app",
              "exposed_ports": ["8000/tcp"] } }
JSON
mkdir -p "$T/tarsrc/sub"
echo inner >"$T/tarsrc/sub/inner.txt"
chmod 600 "$T/tarsrc/sub/inner.txt"
tar -C "$T/tarsrc" --owner=4242 --group=4242 --mtime=@12345 -czf "$P/extra.tar.gz" ./sub
"$DERRICK" build -f "$P/derrick.json" --version 7 --json -o oci:"$T/layout":app >"$T/app.json"
"$DERRICK" inspect --json oci:"$T/layout":app >"$T/inspect.json"

same "the base layer comes first, unchanged" "$(json_get "$T/app.json" 'd["layers"][0]["digest"] + " " + d["layers"][0]["stage"]')" "$base_layer base"
same "five layers: base plus four" "$(json_get "$T/app.json" 'len(d["layers"])')" "5"
same "env is inherited and merged by key, the spec wins" "$(json_get "$T/inspect.json" '" ".join(d["env"])')" "A=1 B=3 PATH=/usr/bin C=7"
same "labels merged" "$(json_get "$T/inspect.json" 'd["labels"]["from.base"] + d["labels"]["overridden"] + d["labels"]["org.opencontainers.image.version"]')" "yesapp7"
same "entrypoint and cmd inherited" "$(json_get "$T/inspect.json" '" ".join(d["entrypoint"] + d["cmd"])')" "/bin/base --serve"
same "history: one entry per layer" "$(json_get "$T/inspect.json" '" | ".join(l["created_by"] for l in d["layers"])')" \
	"derrick stage base: COPY base /opt/base | derrick stage app: COPY app /srv/app | derrick stage app: COPY settings.conf /etc/app | derrick stage app: COPY settings.conf /etc/app/renamed.conf | derrick stage app: ADD extra.tar.gz /opt/extra"
check "skopeo accepts the image built on a base" skopeo inspect oci:"$T/layout":app
check "oci-image-tool validates both images" oci-image-tool validate --type image "$T/layout"

# list each new layer: "path mode uid:gid" per entry
python3 - "$T/layout" "$(json_get "$T/app.json" 'd["manifest_digest"]')" >"$T/layers.txt" <<'PY'
import json, sys, tarfile, os
lay, dg = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(lay, "blobs/sha256", d.split(":")[1])
m = json.load(open(blob(dg)))
for i, l in enumerate(m["layers"][1:]):
    with tarfile.open(blob(l["digest"])) as t:
        print("layer%d" % i, " ".join("%s:%o:%d:%d" % (e.name, e.mode, e.uid, e.gid) for e in t))
PY
same "excludes: *.log at the top only, a directory and its subtree, ! re-includes" \
	"$(grep ^layer0 "$T/layers.txt")" \
	"layer0 srv:750:1000:1000 srv/app:750:1000:1000 srv/app/docs:750:1000:1000 srv/app/docs/keep.md:644:1000:1000 srv/app/pkg:750:1000:1000 srv/app/pkg/mod.py:644:1000:1000 srv/app/pkg/nested.log:644:1000:1000 srv/app/run.sh:755:1000:1000"
same "a file source with a directory dest keeps its name" "$(grep ^layer1 "$T/layers.txt")" \
	"layer1 etc:755:0:0 etc/app:755:0:0 etc/app/settings.conf:644:0:0"
same "a file source with a file dest is renamed; file_mode applies" "$(grep ^layer2 "$T/layers.txt")" \
	"layer2 etc:755:0:0 etc/app:755:0:0 etc/app/renamed.conf:600:0:0"
same "a prebuilt tar is re-normalised under its dest" "$(grep ^layer3 "$T/layers.txt")" \
	"layer3 opt:755:0:0 opt/extra:755:0:0 opt/extra/sub:755:0:0 opt/extra/sub/inner.txt:644:0:0"

# the same tar content with other owners, times and order gives the same layer
mkdir -p "$T/tarsrc2/sub" && echo inner >"$T/tarsrc2/sub/inner.txt"
tar -C "$T/tarsrc2" --owner=1 --group=1 --mtime=@999999 -cf "$P/extra.tar.gz" ./sub
"$DERRICK" build -f "$P/derrick.json" --version 7 --json -o oci:"$T/layout2":app >"$T/app2.json"
same "a tar layer depends on content only" "$(json_get "$T/app2.json" 'd["layers"][4]["digest"]')" \
	"$(json_get "$T/app.json" 'd["layers"][4]["digest"]')"
same "a base from another layout is copied in, so the new layout stands alone" \
	"$(oci-image-tool validate --type image --ref name=app "$T/layout2" >/dev/null 2>&1 && echo valid)" "valid"

# building on a base whose layout is the output itself shares the blobs
count_before=$(find "$T/layout/blobs/sha256" -type f | wc -l)
"$DERRICK" build -q -f "$P/derrick.json" --version 7 -o oci:"$T/layout":app-again
same "rebuilding into the same layout adds no blob" "$(find "$T/layout/blobs/sha256" -type f | wc -l)" "$count_before"
echo "1..$_n"
