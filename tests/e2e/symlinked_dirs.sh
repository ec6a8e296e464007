#!/usr/bin/env bash
# Layers over symlinks of the layers below (README, "Layers over symlinks"):
# a base with bin -> usr/bin (merged /usr), a non-/usr link, a two-link
# chain, an absolute target, and a link that a later base layer replaces by
# a directory.  derrick writes a layer's entries through those links, as
# `docker build` does, and never emits a directory over one: checked with
# umoci and Python's tarfile, and with podman on a Debian root.  The base's
# maps are kept by the build caches: a cold runner with a warm registry
# cache downloads no base layer.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"

# --- a base built by derrick from a tar, and a later layer added by hand ----
mkdir -p "$T/r/usr/bin" "$T/r/usr/share/alt" "$T/r/c/d" "$T/r/var/data" "$T/r/opt" "$T/r/srv" "$T/r/guard"
echo "the shell" >"$T/r/usr/bin/sh"
echo "old" >"$T/r/var/data/old"
ln -s usr/bin "$T/r/bin"
ln -s ../opt/app "$T/r/srv/app"          # dangling, and outside /usr
ln -s b "$T/r/a"                         # a -> b -> c/d
ln -s c/d "$T/r/b"
ln -s /usr/share/alt "$T/r/etc-alt"      # absolute
ln -s /var/data "$T/r/data"              # replaced by a directory in the next base layer
ln -s /etc "$T/r/guard/link"             # leads out of a dest /guard
ln -s loop "$T/r/loop"
tar -C "$T/r" -cf "$T/base.tar" .
cat >"$T/base.json" <<'JSON'
{ "stages": [ { "name": "base", "layers": [ { "tar": "base.tar", "dest": "/" } ] } ] }
JSON
"$DERRICK" build -q -f "$T/base.json" -o oci:"$T/base":1 2>"$T/base.err"
check "a base with bin -> usr/bin, built from a tar" test -s "$T/base/index.json"

# base:2 = base:1 plus a layer where /data is a directory (as docker writes it: the entry replaces the link)
python3 - "$T/base" 1 2 <<'PY'
import hashlib, io, json, sys, tarfile
layout, src, dst = sys.argv[1:]
REF = "org.opencontainers.image.ref.name"
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{layout}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d
def get(digest):
    return json.load(open(f"{layout}/blobs/sha256/{digest[7:]}"))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo("data"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    f = tarfile.TarInfo("data/keep"); f.size = 5; t.addfile(f, io.BytesIO(b"keep\n"))
raw = buf.getvalue()
idx = json.load(open(f"{layout}/index.json"))
desc = next(m for m in idx["manifests"] if m.get("annotations", {}).get(REF) == src)
man = get(desc["digest"])
cfg = get(man["config"]["digest"])
cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
cfg["history"].append({"created_by": "a later base layer: /data becomes a directory"})
cb = json.dumps(cfg).encode()
man["config"] = {"mediaType": man["config"]["mediaType"], "digest": put(cb), "size": len(cb)}
# uncompressed, as some bases have their layers
man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(raw), "size": len(raw)})
mb = json.dumps(man).encode()
idx["manifests"].append({"mediaType": desc["mediaType"], "digest": put(mb), "size": len(mb), "annotations": {REF: dst}})
json.dump(idx, open(f"{layout}/index.json", "w"))
PY

# --- the app: a file dest under /bin, a "/" source, a tar through links ------
mkdir -p "$T/app/tool" "$T/app/root/bin" "$T/app/root/srv/app" "$T/app/root/a" "$T/app/root/etc-alt" \
	"$T/app/root/data" "$T/app/tarin/conf"
printf '#!/bin/sh\necho mytool ran\n' >"$T/app/tool/mytool"
chmod 755 "$T/app/tool/mytool"
echo x >"$T/app/root/bin/x"
echo y >"$T/app/root/srv/app/y"
echo z >"$T/app/root/a/z"
echo w >"$T/app/root/etc-alt/w"
echo n >"$T/app/root/data/n"
echo c >"$T/app/tarin/conf/c"
ln -s c "$T/app/tarin/conf/alias"
tar -C "$T/app/tarin" -cf "$T/app/in.tar" .
app_spec() {  # app_spec BASE_REF
	cat <<JSON
{ "base": "$1",
  "stages": [ { "name": "app", "layers": [
      { "source": "tool/mytool", "dest": "/bin/mytool" },
      { "source": "root", "dest": "/" },
      { "tar": "in.tar", "dest": "/data/sub" } ] } ] }
JSON
}
app_spec "oci:$T/base:2" >"$T/app/app.json"
(cd "$T/app" && "$DERRICK" build --json -f app.json -o oci:"$T/out":2 >"$T/b2.json" 2>"$T/b2.err")
check "build the app on the base" test -s "$T/b2.json"
[[ -s $T/b2.json ]] || diag <"$T/b2.err"

# every entry of the app's layers, by Python's tarfile: "path type [-> target]"
layer_entries() {  # layer_entries SUMMARY N
	python3 - "$T/out" "$(json_get "$1" "d['layers'][$2]['digest']")" <<'PY'
import sys, tarfile
t = tarfile.open(f"{sys.argv[1]}/blobs/sha256/{sys.argv[2][7:]}")
for m in t.getmembers():
    print(m.name, "d" if m.isdir() else "l" if m.issym() else "h" if m.islnk() else "f", m.linkname)
PY
}
layer_entries "$T/b2.json" 2 >"$T/l2"
layer_entries "$T/b2.json" 3 >"$T/l3"
layer_entries "$T/b2.json" 4 >"$T/l4"
same "dest /bin/mytool: written as usr/bin/mytool, with no bin directory" "$(cut -d' ' -f1,2 "$T/l2" | tr '\n' ' ')" \
	"usr d usr/bin d usr/bin/mytool f "
same "dest / with bin/x, srv/app/y, a/z, etc-alt/w, data/n: each through its link (or the directory that replaced it)" \
	"$(awk '$2 == "f" { print $1 }' "$T/l3" | tr '\n' ' ')" "c/d/z data/n opt/app/y usr/bin/x usr/share/alt/w "
same "  ... and no directory entry where a link of the base is" \
	"$(awk '$2 == "d" && ($1 == "bin" || $1 == "srv/app" || $1 == "a" || $1 == "b" || $1 == "etc-alt") { print $1 }' "$T/l3" "$T/l2" "$T/l4")" ""
same "a tar source's own symlink and files keep their place below the dest" "$(cut -d' ' -f1-3 "$T/l4" | tr '\n' ' ')" \
	"data d  data/sub d  data/sub/conf d  data/sub/conf/alias l c data/sub/conf/c f  "

umoci unpack --rootless --image "$T/out":2 "$T/bundle" >"$T/umoci.log" 2>&1
fs=$T/bundle/rootfs
check "umoci unpacks it" test -d "$fs/usr"
same "  ... /bin is still the link to usr/bin, and /bin/sh is there" "$(readlink "$fs/bin") $(cat "$fs/bin/sh")" "usr/bin the shell"
same "  ... /bin/mytool and /bin/x reach the files under usr/bin" "$(head -c 9 "$fs/bin/mytool") $(cat "$fs/bin/x")" "#!/bin/sh x"
same "  ... srv/app (-> ../opt/app), a (-> b -> c/d), etc-alt (-> /usr/share/alt) are still links" \
	"$(readlink "$fs/srv/app") $(readlink "$fs/a") $(readlink "$fs/etc-alt")" "../opt/app b /usr/share/alt"
same "  ... and the files sit under their targets" "$(cat "$fs/opt/app/y" "$fs/c/d/z" "$fs/usr/share/alt/w" | tr '\n' ' ')" "y z w "
same "  ... /data, a directory since the second base layer, holds keep, n and the tar" \
	"$(cd "$fs/data" && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./keep ./n ./sub ./sub/conf ./sub/conf/alias ./sub/conf/c "
same "  ... and nothing was written under /var/data" "$(ls "$fs/var/data")" "old"

# --- the caches ----------------------------------------------------------
base_ids=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(" ".join(i[7:] for i in c["rootfs"]["diff_ids"]))' \
	"$T/out/blobs/sha256/$(json_get "$T/b2.json" 'd["config_digest"]' | cut -c8-)" | cut -d' ' -f1-2)
held=0
for id in $base_ids; do [[ -s $XDG_CACHE_HOME/derrick/maps/$id ]] && held=$((held + 1)); done
same "the build cache keeps the maps of both base layers, by diff_id" "$held" "2"
(cd "$T/app" && "$DERRICK" build --json -f app.json -o oci:"$T/out":2b >"$T/b2b.json" 2>/dev/null)
same "a rebuild: every layer a local hit, the same image" \
	"$(json_get "$T/b2b.json" '" ".join(l["cache"] or "base" for l in d["layers"])') $(json_get "$T/b2b.json" 'd["manifest_digest"]')" \
	"base base local local local $(json_get "$T/b2.json" 'd["manifest_digest"]')"

# the same tar on base:1, where /data is a link to /var/data: other bytes, so another key
app_spec "oci:$T/base:1" >"$T/app/app1.json"
(cd "$T/app" && "$DERRICK" build --json -f app1.json -o oci:"$T/out":1 >"$T/b1.json" 2>"$T/b1.err")
same "on a base where /data is a link: the tar layer is built again, not taken from the cache" \
	"$(json_get "$T/b1.json" 'd["layers"][3]["cache"]')" "built"
layer_entries "$T/b1.json" 3 >"$T/l1-4"
same "  ... its entries go to /var/data/sub" "$(awk '$2 != "d" { print $1 }' "$T/l1-4" | tr '\n' ' ')" \
	"var/data/sub/conf/alias var/data/sub/conf/c "
same "  ... and data/n to /var/data/n" "$(layer_entries "$T/b1.json" 2 | awk '$2 == "f" && $1 ~ /data/ { print $1 }')" "var/data/n"

# --- refusals: one clear line ----------------------------------------------
mkdir -p "$T/app/evil/link"
echo pwned >"$T/app/evil/link/passwd"
cat >"$T/app/guard.json" <<JSON
{ "base": "oci:$T/base:2", "stages": [ { "name": "s", "layers": [ { "source": "evil", "dest": "/guard" } ] } ] }
JSON
expect_error "an entry the base's links lead out of its dest is refused" \
	"/guard/link/passwd leads to /etc/passwd through the image's symlinks: outside /guard, where dest /guard leads" \
	"$DERRICK" build -q -f "$T/app/guard.json" -o oci:"$T/no":x
cat >"$T/app/loop.json" <<JSON
{ "base": "oci:$T/base:2", "stages": [ { "name": "s", "layers": [ { "source": "tool", "dest": "/loop/in" } ] } ] }
JSON
expect_error "a symlink loop on the way to dest is refused" "/loop/in: more than 40 symlinks of the image met on the way (a loop?)" \
	"$DERRICK" build -q -f "$T/app/loop.json" -o oci:"$T/no":x
same "  ... neither refused build created its output layout" "$(exists "$T/no")" absent

# --- a cold runner with a warm registry cache downloads no base layer ------
if m=$(registry_missing); then
	skip "registry cache of layer maps" "missing: $m"
else
	registry_start reg plain || exit 1
	R=$REG_ADDR
	"$DERRICK" push -q --tls-verify=false oci:"$T/base":2 "docker://$R/base:2"
	app_spec "docker://$R/base:2" >"$T/app/reg.json"
	job() {  # job CACHE_DIR OUT
		(cd "$T/app" && "$DERRICK" build --json --tls-verify=false --cache-dir "$1" -f reg.json \
			--cache-repo "docker://$R/cache" -o "$2")
	}
	base_blobs=$(python3 -c 'import json,sys; print(" ".join(l["digest"] for l in json.load(sys.stdin)["layers"]))' \
		<<<"$("$DERRICK" inspect --json --tls-verify=false "docker://$R/base:2")")
	base_gets() { local n=0 b; for b in $base_blobs; do n=$((n + $(registry_count reg GET "/blobs/$b"))); done; echo $n; }
	registry_mark reg
	job "$T/runner-a" "docker://$R/app:1" >"$T/ja.json" 2>"$T/ja.err"
	same "runner A (empty disk, empty registry cache): each base layer read once" "$(base_gets)" "2"
	same "  ... and both maps recorded in the cache repository" \
		"$(curl -s "http://$R/v2/cache/tags/list" | python3 -c 'import json,sys; print(len([t for t in json.load(sys.stdin)["tags"] if t.startswith("derrick-map-")]))')" "2"
	registry_mark reg
	job "$T/runner-b" "docker://$R/app:2" >"$T/jb.json" 2>"$T/jb.err"
	same "runner B (empty disk, warm registry cache): the same image" \
		"$(json_get "$T/jb.json" 'd["manifest_digest"]')" "$(json_get "$T/ja.json" 'd["manifest_digest"]')"
	same "  ... every layer a registry hit" "$(json_get "$T/jb.json" '" ".join(l["cache"] or "base" for l in d["layers"])')" \
		"base base registry registry registry"
	same "  ... and no base layer blob downloaded" "$(base_gets)" "0"
	same "  ... the maps came from the cache repository" "$(registry_count reg GET '^/v2/cache/manifests/derrick-map-' 200)" "2"
	same "  ... and the image is the one built from the layout base" \
		"$(json_get "$T/jb.json" '" ".join(l["diff_id"] for l in d["layers"][2:])')" \
		"$(json_get "$T/b2.json" '" ".join(l["diff_id"] for l in d["layers"][2:])')"
fi

# --- podman runs /bin/sh on Debian's merged /usr with an app layer in /bin --
# (the Debian root's links, dash and the C library: enough for /bin/sh, and quick to load)
root=$("$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/root.err" | tail -n 1) || true
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	skip "podman on a merged-/usr Debian root" "podman and runc are not installed"
elif [[ -z $root || ! -L $root/bin ]]; then
	skip "podman on a merged-/usr Debian root" "no Debian root: $(tail -n 1 "$T/root.err")"
else
	L=/tmp/derrick-symlinks-$$    # podman names the image after this path: lowercase
	at_exit 'chmod -R u+w "$L" 2>/dev/null; rm -rf "$L"'
	mkdir -p "$L" "$T/deb/libdir/lib/mytool"
	tar -C "$root" --no-recursion -cf "$T/deb/root.tar" bin lib lib64 sbin usr usr/bin usr/bin/sh usr/bin/dash \
		usr/lib usr/lib64 usr/lib64/ld-linux-x86-64.so.2 usr/lib/x86_64-linux-gnu \
		usr/lib/x86_64-linux-gnu/libc.so.6 usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
	echo "data under /lib" >"$T/deb/libdir/lib/mytool/data"
	cp "$T/app/tool/mytool" "$T/deb/mytool"
	cat >"$T/deb/root.json" <<'JSON'
{ "stages": [ { "name": "root", "layers": [ { "tar": "root.tar", "dest": "/" } ] } ] }
JSON
	cat >"$T/deb/app.json" <<JSON
{ "base": "oci:$L/root:1",
  "stages": [ { "name": "app", "layers": [ { "source": "mytool", "dest": "/bin/mytool" },
                                           { "source": "libdir", "dest": "/" } ] } ] }
JSON
	"$DERRICK" build -q -f "$T/deb/root.json" -o oci:"$L/root":1
	# another cache: the Debian layer's map is read from the layer itself
	"$DERRICK" build -v --cache-dir "$T/deb-cache" -f "$T/deb/app.json" -o oci:"$L/app":1 2>"$T/deb.err" >/dev/null
	check "the base layer's map was read from the layer, once" grep -q "read once for its map" "$T/deb.err"
	out=$(podman --storage-driver vfs --root "$L/storage" --runroot "$L/run" --cgroup-manager cgroupfs \
		--events-backend file run --rm --network none --runtime runc \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 oci:"$L/app":1 \
		/bin/sh -c 'mytool; read l </lib/mytool/data; echo "$l"; [ -L /bin ] && [ -L /lib ] && echo links' 2>"$T/podman.err")
	same "podman: /bin/sh and /bin/mytool run, /lib/mytool is read, /bin and /lib are still links" "$out" \
		"$(printf 'mytool ran\ndata under /lib\nlinks')"
	[[ $out == mytool* ]] || diag <"$T/podman.err"
fi
echo "1..$_n"
