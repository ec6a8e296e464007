#!/usr/bin/env bash
# derrick ls: each layer's entries (type, mode, uid:gid, size, link) as
# Python's tarfile and GNU tar read the same blob, gzip and zstd; --merged
# applies whiteouts, opaque whiteouts and files replacing directories in
# layer order; --layer takes a number, a digest, a diff_id or a prefix.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
PY=/usr/bin/python3

# --- a layout written by hand: three layers, the last one zstd (img-gz: gzip) ----
make_image() {
$PY - "$1" "$2" <<'PY'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile
layout, last = sys.argv[1:]
os.makedirs(f"{layout}/blobs/sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{layout}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d
def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, mode, uid, extra in entries:
            ti = tarfile.TarInfo(name)
            ti.mode, ti.uid, ti.gid, ti.mtime = mode, uid, uid, 1700000000
            data = None
            if kind == "d": ti.type = tarfile.DIRTYPE
            elif kind == "l": ti.type, ti.linkname = tarfile.SYMTYPE, extra
            elif kind == "h": ti.type, ti.linkname = tarfile.LNKTYPE, extra
            elif kind == "p": ti.type = tarfile.FIFOTYPE
            elif kind == "c": ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            else: data = (extra or "").encode(); ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()
layers = [
    [("etc/", "d", 0o755, 0, None), ("etc/conf.d/", "d", 0o755, 0, None),
     ("etc/conf.d/a", "f", 0o644, 0, "a\n"), ("etc/conf.d/b", "f", 0o644, 0, "b\n"),
     ("usr/", "d", 0o755, 0, None), ("usr/bin/", "d", 0o755, 0, None),
     ("usr/bin/tool", "f", 0o755, 0, "#!/bin/sh\necho tool\n"),
     ("usr/lib/", "d", 0o755, 0, None), ("usr/lib/x", "f", 0o644, 0, "x\n"),
     ("data/", "d", 0o750, 0, None), ("data/keep", "f", 0o644, 0, "keep\n"), ("data/old", "f", 0o644, 0, "old\n"),
     ("link", "l", 0o777, 0, "usr/bin"), ("hard", "h", 0o755, 0, "usr/bin/tool"),
     ("fifo", "p", 0o600, 0, None), ("dev/", "d", 0o755, 0, None), ("dev/null", "c", 0o666, 0, None),
     ("home/", "d", 0o755, 0, None), ("home/u/", "d", 0o700, 1000, None),
     ("home/u/file", "f", 0o600, 1000, "secret\n")],
    [("etc/conf.d/", "d", 0o700, 0, None), ("etc/conf.d/.wh..wh..opq", "f", 0o644, 0, ""),
     ("etc/conf.d/c", "f", 0o644, 0, "c\n"), ("data/.wh.old", "f", 0o644, 0, ""),
     ("usr/lib", "f", 0o644, 0, "now a file\n"), (".wh.fifo", "f", 0o644, 0, "")],
    [("data/new", "f", 0o640, 33, "new\n"), (".wh.home", "f", 0o644, 0, ""),
     ("etc/conf.d/d", "f", 0o644, 0, "d\n")],
]
descs, ids = [], []
for i, entries in enumerate(layers):
    raw = tar(entries)
    ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    if i < 2 or last == "gzip":
        blob, mt = gzip.compress(raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    else:
        blob = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
        mt = "application/vnd.oci.image.layer.v1.tar+zstd"
    descs.append({"mediaType": mt, "digest": put(blob), "size": len(blob)})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": ids}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
                  "layers": descs}).encode()
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": put(man), "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]},
          open(f"{layout}/index.json", "w"))
open(f"{layout}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
}
make_image "$T/img" zstd
make_image "$T/img-gz" gzip
check "a three-layer image with whiteouts, written by hand" "$DERRICK" verify -q oci:"$T/img":v1

# tarfile's view of a blob: "TYPE MODE UID GID SIZE PATH LINK" per entry, as derrick's --json gives
tarfile_view() {
	$PY - "$1" <<'PY'
import io, subprocess, sys, tarfile
data = open(sys.argv[1], "rb").read()
if data[:4] == b"\x28\xb5\x2f\xfd":
    data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
t = tarfile.open(fileobj=io.BytesIO(data))
def kind(m):
    return ("file" if m.isreg() else "dir" if m.isdir() else "symlink" if m.issym() else "hardlink" if m.islnk()
            else "char" if m.ischr() else "block" if m.isblk() else "fifo" if m.isfifo() else "?")
def clean(p):
    p = p.rstrip("/")
    while p.startswith("./") or p.startswith("/"):
        p = p[1:] if p.startswith("/") else p[2:]
    return p
for m in t:
    if clean(m.name):
        print(kind(m), oct(m.mode & 0o7777), m.uid, m.gid, m.size if m.isreg() else 0, clean(m.name),
              clean(m.linkname) if m.islnk() else m.linkname if m.issym() else "-")
PY
}
derrick_view() {
	"$DERRICK" ls --json "$@" | $PY -c '
import json, sys
d = json.load(sys.stdin)
for e in (d["entries"] if "entries" in d else d["layers"][0]["entries"]):
    print(e["type"], oct(e["mode"]), e["uid"], e["gid"], e["size"], e["path"], e["link"] if e["link"] is not None else "-")'
}
layer_digest() { "$DERRICK" inspect --json "$1" | $PY -c "import json,sys; print(json.load(sys.stdin)['layers'][$2]['$3'])"; }

for i in 0 1 2; do
	dg=$(layer_digest oci:"$T/img":v1 $i digest)
	want=$(tarfile_view "$T/img/blobs/sha256/${dg#sha256:}")
	same "layer $i ($([[ $i == 2 ]] && echo zstd || echo gzip)): every entry as Python's tarfile reads it" \
		"$(derrick_view --layer $i oci:"$T/img":v1)" "$want"
done
same "layer 0 has every kind: file dir symlink hardlink fifo char" \
	"$(derrick_view --layer 0 oci:"$T/img":v1 | cut -d' ' -f1 | sort -u | tr '\n' ' ')" "char dir fifo file hardlink symlink "

same "the text form: type, mode, uid:gid, size, path, link" \
	"$("$DERRICK" ls --layer 0 oci:"$T/img":v1 | grep -E ' (link|hard|home/u/file|dev/null)( |$)')" \
	"$(printf '%s\n' \
	'l 0777     0:0              0 link -> usr/bin' \
	'h 0755     0:0              0 hard link to usr/bin/tool' \
	'c 0666     0:0              0 dev/null' \
	'f 0600  1000:1000           7 home/u/file')"

# --- --merged ------------------------------------------------------------------
same "--merged: whiteouts, an opaque directory, a file over a directory, in layer order" \
	"$(derrick_view --merged oci:"$T/img":v1)" "$(printf '%s\n' \
	'dir 0o750 0 0 0 data -' \
	'file 0o644 0 0 5 data/keep -' \
	'file 0o640 33 33 4 data/new -' \
	'dir 0o755 0 0 0 dev -' \
	'char 0o666 0 0 0 dev/null -' \
	'dir 0o755 0 0 0 etc -' \
	'dir 0o700 0 0 0 etc/conf.d -' \
	'file 0o644 0 0 2 etc/conf.d/c -' \
	'file 0o644 0 0 2 etc/conf.d/d -' \
	'hardlink 0o755 0 0 0 hard usr/bin/tool' \
	'symlink 0o777 0 0 0 link usr/bin' \
	'dir 0o755 0 0 0 usr -' \
	'dir 0o755 0 0 0 usr/bin -' \
	'file 0o755 0 0 20 usr/bin/tool -' \
	'file 0o644 0 0 11 usr/lib -')"
same "--merged --layer 1: the filesystem as layer 1 leaves it (home still there, fifo gone)" \
	"$(derrick_view --merged --layer 1 oci:"$T/img":v1 | cut -d' ' -f6 | tr '\n' ' ')" \
	"data data/keep dev dev/null etc etc/conf.d etc/conf.d/c hard home home/u home/u/file link usr usr/bin usr/bin/tool usr/lib "
same "--merged: the same whether the last layer is zstd or gzip" "$(derrick_view --merged oci:"$T/img-gz":v1)" \
	"$(derrick_view --merged oci:"$T/img":v1)"
# umoci (gzip only) unpacks the same image: its rootfs has the same paths
if umoci unpack --rootless --image "$T/img-gz":v1 "$T/bundle" >"$T/umoci.log" 2>&1; then
	same "--merged lists the paths umoci unpacks" "$(derrick_view --merged oci:"$T/img-gz":v1 | cut -d' ' -f6)" \
		"$(cd "$T/bundle/rootfs" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)"
else
	skip "--merged lists the paths umoci unpacks" "umoci unpack failed"
fi

# --- --layer by digest, diff_id, prefix; errors --------------------------------
dg1=$(layer_digest oci:"$T/img":v1 1 digest)
id1=$(layer_digest oci:"$T/img":v1 1 diff_id)
want=$(derrick_view --layer 1 oci:"$T/img":v1)
same "--layer DIGEST" "$(derrick_view --layer "$dg1" oci:"$T/img":v1)" "$want"
same "--layer DIFF_ID" "$(derrick_view --layer "$id1" oci:"$T/img":v1)" "$want"
same "--layer HEX-PREFIX" "$(derrick_view --layer "${dg1:7:12}" oci:"$T/img":v1)" "$want"
same "without --layer: every layer, each under its digest" \
	"$("$DERRICK" ls oci:"$T/img":v1 | grep '^layer ' | cut -d' ' -f2)" "$(printf '0\n1\n2')"
expect_error "--layer past the last" "no layer 3 (it has 3: 0 to 2)" "$DERRICK" ls --layer 3 oci:"$T/img":v1
expect_error "--layer naming nothing" "no layer is abcdef" "$DERRICK" ls --layer abcdef oci:"$T/img":v1

# a damaged layer is not listed: the diff_id is checked on the way
cp -a "$T/img" "$T/bad"
$PY - "$T/bad" <<'PY'
import hashlib, json, sys
layout = sys.argv[1]
ent = json.load(open(f"{layout}/index.json"))["manifests"][0]
m = json.load(open(f"{layout}/blobs/sha256/{ent['digest'][7:]}"))
c = m["config"]["digest"][7:]
cfg = json.load(open(f"{layout}/blobs/sha256/{c}"))
cfg["rootfs"]["diff_ids"][1] = "sha256:" + "1" * 64
data = json.dumps(cfg).encode()
d = hashlib.sha256(data).hexdigest()
open(f"{layout}/blobs/sha256/{d}", "wb").write(data)
m["config"]["digest"], m["config"]["size"] = "sha256:" + d, len(data)
data = json.dumps(m).encode()
d = hashlib.sha256(data).hexdigest()
open(f"{layout}/blobs/sha256/{d}", "wb").write(data)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": ent["mediaType"], "digest": "sha256:" + d, "size": len(data),
           "annotations": ent["annotations"]}]}, open(f"{layout}/index.json", "w"))
PY
expect_error "a layer whose diff_id is not the config's is refused" "not to its diff_id sha256:1111" \
	"$DERRICK" ls --layer 1 oci:"$T/bad":v1

# --- derrick's own layers, gzip and zstd, against GNU tar --------------------------
mkdir -p "$T/src/app/sub" && echo hi >"$T/src/app/a.py" && echo x >"$T/src/app/sub/b" && chmod 755 "$T/src/app/sub/b"
ln -s a.py "$T/src/app/link"
echo '{ "stages": [ { "name": "s", "layers": [ { "source": "app", "dest": "/app" } ] } ] }' >"$T/src/derrick.json"
for comp in gzip zstd; do
	"$DERRICK" build -q -f "$T/src/derrick.json" --compression $comp -o oci:"$T/own":$comp
	dg=$(layer_digest oci:"$T/own":$comp 0 digest)
	same "$comp layer built by derrick: the names GNU tar lists, in its order" \
		"$("$DERRICK" ls --layer 0 --json oci:"$T/own":$comp | $PY -c 'import json,sys; print("\n".join(e["path"] for e in json.load(sys.stdin)["layers"][0]["entries"]))')" \
		"$(tar -tf "$T/own/blobs/sha256/${dg#sha256:}" | sed 's|/$||')"
	same "  ... and every field as tarfile reads it" "$(derrick_view --layer 0 oci:"$T/own":$comp)" \
		"$(tarfile_view "$T/own/blobs/sha256/${dg#sha256:}")"
done
echo "1..$_n"
