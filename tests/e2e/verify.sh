#!/usr/bin/env bash
# derrick verify: an intact image passes; a layout with four damaged blobs
# (a flipped byte, a truncated blob, a wrong size in a descriptor, a
# missing blob) gives exactly four lines, each naming its blob; a wrong
# diff_id, a wrong layer media type and a damaged image inside an index are
# found too.  The image is built from four small directories: no network.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mkdir -p "$T/src"/{a,b,c,d}
for x in a b c d; do
	for i in 1 2 3; do head -c 3000 /dev/urandom | base64 >"$T/src/$x/file$i"; done
done
cat >"$T/src/derrick.json" <<'JSON'
{ "stages": [ { "name": "s", "layers": [
    { "source": "a", "dest": "/a" }, { "source": "b", "dest": "/b" },
    { "source": "c", "dest": "/c" }, { "source": "d", "dest": "/d" } ] } ] }
JSON
"$DERRICK" build -q -f "$T/src/derrick.json" --json -o oci:"$T/good":v1 >"$T/good.json"
check "an image of four layers is built" test -s "$T/good.json"

"$DERRICK" verify oci:"$T/good":v1 >"$T/v.out" 2>"$T/v.err"
same "an intact image: exit 0, nothing on stderr" "$? $(wc -c <"$T/v.err")" "0 0"
same "  ... and says what it checked" "$(cat "$T/v.out")" \
	"oci:$T/good:v1: 1 manifest, 5 blobs ($(( $(json_get "$T/good.json" 'sum(l["size"] for l in d["layers"])') + \
	$(stat -c %s "$T/good/blobs/sha256/$(json_get "$T/good.json" 'd["config_digest"][7:]')") )) bytes) checked: intact"

# layer N's digest, and its blob's path in layout $1
layer() { json_get "$T/good.json" "d['layers'][$1]['digest']"; }
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }

# --- four faults at once ----------------------------------------------------
cp -a "$T/good" "$T/bad"
l0=$(layer 0) l1=$(layer 1) l2=$(layer 2) l3=$(layer 3)
# a flipped byte inside layer 0 (past the gzip header, so it still looks like gzip)
python3 - "$(blob "$T/bad" "$l0")" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01; open(p, "wb").write(b)
PY
# layer 1 cut short
truncate -s -100 "$(blob "$T/bad" "$l1")"
# layer 2's descriptor says one byte more: a new manifest, and index.json pointing at it
python3 - "$T/bad" "$l2" <<'PY'
import hashlib, json, sys
layout, digest = sys.argv[1:]
index = json.load(open(f"{layout}/index.json"))
ent = index["manifests"][0]
m = json.load(open(f"{layout}/blobs/sha256/{ent['digest'][7:]}"))
for l in m["layers"]:
    if l["digest"] == digest:
        l["size"] += 1
data = json.dumps(m, separators=(",", ":")).encode()
d = hashlib.sha256(data).hexdigest()
open(f"{layout}/blobs/sha256/{d}", "wb").write(data)
ent["digest"], ent["size"] = "sha256:" + d, len(data)
json.dump(index, open(f"{layout}/index.json", "w"))
PY
rm "$(blob "$T/bad" "$l3")"

rc=0
"$DERRICK" verify oci:"$T/bad":v1 >"$T/bad.out" 2>"$T/bad.err" || rc=$?
same "four faults: exit 1" "$rc" 1
same "  ... four lines on stderr, one per damaged blob" "$(grep -c '' "$T/bad.err")" 4
same "  ... the flipped byte, naming layer 0's digest" "$(grep -c "blob $l0 is corrupt: its content hashes to sha256:[0-9a-f]* (layer 0)$" "$T/bad.err")" 1
l1_size=$(stat -c %s "$(blob "$T/bad" "$l1")")
same "  ... the truncated blob, naming layer 1's digest and both sizes" \
	"$(grep -c "blob $l1 is corrupt: its content hashes to sha256:[0-9a-f]* ($l1_size bytes, its descriptor says $((l1_size + 100)))" "$T/bad.err")" 1
same "  ... the wrong size, naming layer 2's digest and both sizes" \
	"$(grep -c "blob $l2 has $(stat -c %s "$(blob "$T/bad" "$l2")") bytes, its descriptor says $(( $(stat -c %s "$(blob "$T/bad" "$l2")") + 1 ))" "$T/bad.err")" 1
same "  ... the missing blob, naming layer 3's digest" "$(grep -c "layer 3 $l3 is missing" "$T/bad.err")" 1
same "  ... the summary says damaged" "$(grep -c 'checked: damaged$' "$T/bad.out")" 1
show_nulls "$T/bad.err" "$T/bad.out"

# --- a diff_id that is not the layer's, and a media type that is not its bytes' ----
cp -a "$T/good" "$T/ids"
python3 - "$T/ids" "$l1" <<'PY'
import hashlib, json, sys
layout, digest = sys.argv[1:]
def put(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    d = hashlib.sha256(data).hexdigest()
    open(f"{layout}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
index = json.load(open(f"{layout}/index.json"))
ent = index["manifests"][0]
m = json.load(open(f"{layout}/blobs/sha256/{ent['digest'][7:]}"))
c = json.load(open(f"{layout}/blobs/sha256/{m['config']['digest'][7:]}"))
c["rootfs"]["diff_ids"][0] = "sha256:" + "0" * 64
m["config"]["digest"], m["config"]["size"] = put(c)
for l in m["layers"]:
    if l["digest"] == digest:
        l["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd"
ent["digest"], ent["size"] = put(m)
json.dump(index, open(f"{layout}/index.json", "w"))
PY
rc=0
"$DERRICK" verify oci:"$T/ids":v1 >/dev/null 2>"$T/ids.err" || rc=$?
same "a wrong diff_id and a wrong media type: exit 1, two lines" "$rc $(grep -c '' "$T/ids.err")" "1 2"
same "  ... the diff_id line names the layer and both diff_ids" \
	"$(grep -c "layer 0 $l0 unpacks to $(json_get "$T/good.json" "d['layers'][0]['diff_id']"), not to its diff_id sha256:0000" "$T/ids.err")" 1
same "  ... the media type line names the layer, what it says and what it is" \
	"$(grep -c "layer 1 $l1: its media type application/vnd.oci.image.layer.v1.tar+zstd says zstd, its bytes are gzip" "$T/ids.err")" 1

# --- an index: every image in it is verified ----------------------------------
cp -a "$T/good" "$T/idx"
"$DERRICK" build -q -f "$T/src/derrick.json" --platform linux/arm64 -o oci:"$T/idx":arm 2>/dev/null
python3 "$TOP_SRCDIR/tests/lib/oci_layout.py" index "$T/idx" multi v1=linux/amd64 arm=linux/arm64 >/dev/null
"$DERRICK" verify oci:"$T/idx":multi >"$T/idx.out" 2>&1
same "an intact index: exit 0, 3 documents read (an index, two manifests)" "$? $(grep -o '[0-9]* manifests' "$T/idx.out")" "0 3 manifests"
# the arm64 image's config goes missing: only an index walk finds it on an amd64 machine
arm_cfg=$("$DERRICK" inspect --json oci:"$T/idx":arm | python3 -c 'import json,sys; print(json.load(sys.stdin)["config_digest"])')
rm "$(blob "$T/idx" "$arm_cfg")"
rc=0
"$DERRICK" verify oci:"$T/idx":multi >/dev/null 2>"$T/idx.err" || rc=$?
same "a missing blob of the index's second image: exit 1, named" "$rc $(grep -c "config $arm_cfg is missing" "$T/idx.err")" "1 1"

# --- what verify cannot open is one error line, not a report ----------------------
expect_error "no such layout" "layout directory $T/nowhere" "$DERRICK" verify oci:"$T/nowhere"
expect_error "verify takes one IMAGE" "expected exactly one IMAGE" "$DERRICK" verify
echo "1..$_n"
