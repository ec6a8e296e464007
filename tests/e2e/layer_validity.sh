#!/usr/bin/env bash
# Layers that unpack as they read (issue #10, items 2 and 3), checked with
# unpackers that are not derrick: umoci, GNU tar and Python's tarfile.
#  - tar sources come out as directory sources do: hardlinks point forward
#    (`tar -cf in.tar b a` with a linked to b), chains and links to symlinks
#    resolve; a link to nothing, a path below a file or through a symlink
#    (p -> /etc then p/passwd) is refused with the entry's name;
#  - a source name starting with .wh. is refused (directory or tar, any
#    depth); `delete` writes whiteouts, opaque where the layer re-creates the
#    directory, and refuses paths no lower layer has; the base's paths are
#    listed once per cache (a registry base: one download per cache).
. "$TOP_SRCDIR/tests/lib/e2e.sh"

P=$T/p
mkdir -p "$P"
cd "$P" || exit 1

# build NAME SPEC_JSON: an image tagged NAME in $T/lay, from spec text
build() { printf '%s' "$2" >"$P/$1.json" && "$DERRICK" build -q -f "$P/$1.json" -o oci:"$T/lay":"$1"; }
# layers TAG: the blob files of image TAG's layers, in order, into the array L (Python, once per image)
layers() {
	mapfile -t L < <(python3 - "$T/lay" "$1" <<'PY'
import json, sys
lay, tag = sys.argv[1], sys.argv[2]
blob = lambda d: lay + "/blobs/sha256/" + d.split(":")[1]
for m in json.load(open(lay + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
        for l in json.load(open(blob(m["digest"])))["layers"]:
            print(blob(l["digest"]))
PY
)
}
# entries FILE: "name TYPE [link] [size=N]" per entry of a gzipped layer, in order, as GNU tar lists it
entries() {
	tar --numeric-owner -tvzf "$1" | awk '{
		t = substr($1, 1, 1); n = $6; sub("/$", "", n)
		if (t == "-") print n, "f", "size=" $3
		else if (t == "l") print n, "l", $8
		else if (t == "h") print n, "h", $9
		else print n, t }'
}
# diff_id FILE: the SHA-256 of the layer's tar, as gzip -d gives it
diff_id() { gzip -dc "$1" | sha256sum | cut -d' ' -f1; }
# gnu_untar FILE DIR: GNU tar extracts the layer alone (it must not fail)
gnu_untar() { rm -rf "$2" && mkdir -p "$2" && tar -xzf "$1" -C "$2"; }
# py_untar DIR FILE...: Python's tarfile extracts each layer alone into DIR/N
py_untar() {
	python3 - "$@" <<'PY'
import sys, tarfile
for i, f in enumerate(sys.argv[2:]):
    tarfile.open(f).extractall("%s/%d" % (sys.argv[1], i))
PY
}
# unpack TAG: umoci's rootfs of image TAG, in $T/b-TAG
unpack() { rm -rf "$T/b-$1" && umoci unpack --rootless --image "$T/lay:$1" "$T/b-$1" >"$T/umoci-$1.log" 2>&1; }
tar_layer() { printf '{"stages":[{"name":"s","layers":[{"tar":"%s","dest":"/x"}]}]}' "$1"; }
# refused NAME PATTERN TAR: a build of TAR as a layer fails with one line holding PATTERN
refused() { tar_layer "$3" >"$P/refused.json" && expect_error "$1" "$2" "$DERRICK" build -q -f "$P/refused.json" -o oci:"$T/never":x; }

# Every tar of the tests, written by Python's tarfile: f/h/s/d add entries in archive order.
python3 - <<'PY'
import io, tarfile
tars = {
    "chain": 'f("c", b"chain"); h("b", "c"); h("a", "b"); f("o", b"old"); h("k", "o"); f("o", b"new"); s("l", "/etc"); h("m", "l")',
    "missing": 'h("a", "nope")',
    "later": 'h("a", "b"); f("b")',
    "todir": 'd("dd"); h("a", "dd")',
    "inner": 'f("k"); f("k/inner")',
    "escape": 's("p", "/etc"); f("p/passwd", b"root::0:0")',
    "chain-escape": 's("a", "b"); s("b", "../../../etc"); f("a/passwd")',
    "replaced": 'd("d"); f("d/x"); f("d")',
    "redir": 's("p", "/etc"); d("p"); f("p/passwd", b"mine")',
    "bare": 'f(".wh.")',
    "deep": 'f("a/b/.wh.c")',
}
for name, code in tars.items():
    t = tarfile.open(name + ".tar", "w")
    def f(n, data=b"x"):
        i = tarfile.TarInfo(n); i.size = len(data); t.addfile(i, io.BytesIO(data))
    def h(n, target):
        i = tarfile.TarInfo(n); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
    def s(n, target):
        i = tarfile.TarInfo(n); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
    def d(n):
        i = tarfile.TarInfo(n); i.type = tarfile.DIRTYPE; t.addfile(i)
    exec(code)
    t.close()
PY

# ---------------------------------------------------------------- tar sources
mkdir -p hl && echo hello >hl/b && ln hl/b hl/a
(cd hl && tar -cf ../gnu.tar b a)
same "GNU tar writes a after b, as a link to b" "$(tar -tvf gnu.tar | awk '{print $1, $6, $7, $8}')" \
	"$(printf -- '-rw-r--r-- b  \nhrw-r--r-- a link to')"
build gnu "$(tar_layer gnu.tar)" && layers gnu && G=${L[0]}
same "the layer: a is the file, b links to it" "$(entries "$G")" \
	"$(printf 'x d\nx/a f size=6\nx/b h x/a')"
check "umoci unpacks it" unpack gnu
same "  ... a and b: one file, two names, the content" \
	"$(stat -c '%h' "$T/b-gnu/rootfs/x/a") $(stat -c '%i' "$T/b-gnu/rootfs/x/a") $(cat "$T/b-gnu/rootfs/x/b")" \
	"2 $(stat -c '%i' "$T/b-gnu/rootfs/x/b") hello"
check "GNU tar extracts the layer" gnu_untar "$G" "$T/g-gnu"
same "  ... with a and b linked" "$(stat -c '%h %s' "$T/g-gnu/x/a" "$T/g-gnu/x/b" | sort -u)" "2 6"

# the same tree as a directory source gives the same layer
printf '{"stages":[{"name":"s","layers":[{"source":"hl","dest":"/x"}]}]}' >dir.json
"$DERRICK" build -q -f dir.json -o oci:"$T/lay":dir && layers dir
same "a directory source of the same files gives the same layer" "$(diff_id "${L[0]}")" "$(diff_id "$G")"

# chains, a link that keeps the content its target had, a link to a symlink
build chain "$(tar_layer chain.tar)" && layers chain && C=${L[0]}
same "chain a -> b -> c, a replaced target, a link to a symlink" "$(entries "$C")" \
	"$(printf 'x d\nx/a f size=5\nx/b h x/a\nx/c h x/a\nx/k f size=3\nx/l l /etc\nx/m l /etc\nx/o f size=3')"
check "umoci unpacks it" unpack chain
same "  ... contents as extraction of the tar gives them" \
	"$(cd "$T/b-chain/rootfs/x" && cat a b c k o && readlink m)" "$(printf 'chainchainchainoldnew/etc')"
check "GNU tar extracts it" gnu_untar "$C" "$T/g-chain"
check "Python's tarfile extracts both layers" py_untar "$T/py" "$G" "$C"
same "  ... with the contents in place" "$(cat "$T/py/0/x/b" "$T/py/1/x/c" "$T/py/1/x/k")" "$(printf 'hello\nchainold')"

# refused, each with one line naming the entry
refused "a hardlink to a name not in the archive" '"x/a" is a hardlink to "x/nope"' missing.tar
refused "a hardlink to a name that only comes later" '"x/a" is a hardlink to "x/b"' later.tar
refused "a hardlink to a directory" 'which is a directory' todir.tar
refused "a file used as a directory (k then k/inner)" '"x/k/inner" lies below "x/k"' inner.tar
refused "a path through a symlink (p -> /etc, p/passwd)" '"x/p/passwd" lies below "x/p", a symlink to "/etc"' escape.tar
refused "  ... through a chain of links" '"x/a/passwd" lies below "x/a", a symlink' chain-escape.tar
refused "a directory replaced by a file, its contents left below it" '"x/d/x" lies below "x/d"' replaced.tar
mkdir -p gz/real && ln -s /etc gz/p && echo x >gz/real/passwd
tar -C gz --transform 's,^real/,p/,' -czf gz-escape.tar.gz p real/passwd
refused "  ... in a gzipped tar written by GNU tar too" 'lies below "x/p", a symlink to "/etc"' gz-escape.tar.gz
same "nothing was written for the refused tars" "$(ls "$T/never" 2>/dev/null)" ""
# a symlink replaced by a directory is a directory (as GNU tar and umoci extract it)
build redir "$(tar_layer redir.tar)"
check "a symlink replaced by a directory: umoci unpacks it" unpack redir
same "  ... the file is inside the directory" "$(cat "$T/b-redir/rootfs/x/p/passwd")" mine

# ---------------------------------------------------------------- whiteout names
mkdir -p wsrc/etc && echo x >wsrc/etc/.wh.app.conf
printf '{"stages":[{"name":"s","layers":[{"source":"wsrc","dest":"/app"}]}]}' >wdir.json
expect_error "a source file named .wh.* is refused, its file named" "wsrc/etc/.wh.app.conf" \
	"$DERRICK" build -q -f wdir.json -o oci:"$T/never":x
mkdir -p wsrc2/.wh..wh..opq
printf '{"stages":[{"name":"s","layers":[{"source":"wsrc2"}]}]}' >wdir2.json
expect_error "  ... and a directory named .wh..wh..opq" '".wh..wh..opq" starts with ".wh."' \
	"$DERRICK" build -q -f wdir2.json -o oci:"$T/never":x
refused "  ... and a bare .wh. entry in a tar" '"x/.wh."' bare.tar
refused "  ... at any depth" '"x/a/b/.wh.c"' deep.tar
printf '{"stages":[{"name":"s","layers":[{"source":"wsrc","dest":"/app","exclude":["**/.wh.*"]}]}]}' >wx.json
check "  ... unless excluded: then it is not in the layer" "$DERRICK" build -q -f wx.json -o oci:"$T/lay":wx

# ---------------------------------------------------------------- delete
mkdir -p base/etc/app base/opt/data/sub base/tmp base/usr/bin base/srv
echo conf >base/etc/app.conf; echo old >base/etc/app/old; echo d >base/opt/data/sub/f; echo keep >base/etc/keep
echo sh >base/usr/bin/sh; ln -s usr/bin base/bin; echo t >base/tmp/junk; chmod 1777 base/tmp
echo x >base/etc-x; echo y >base/srv/y
build base '{"stages":[{"name":"b","layers":[{"source":"base"}]}]}'
mkdir -p app/etc/app && echo new >app/etc/app/new && echo early >app/etc/app/-early
build del '{"base":"oci:'"$T/lay"':base","stages":[{"name":"s","layers":[
  {"delete":["/etc/app.conf","/opt/data","/tmp/junk"]},
  {"source":"app","delete":["/etc/app"]}]},
  {"name":"t","layers":[{"source":"app","dest":"/srv","delete":["/srv/y"]},{"delete":["/srv/etc/app/new"]}]}]}' 2>"$T/del.err"
same "delete: built" "$(cat "$T/del.err")" ""
layers del
same "a layer that only deletes holds whiteouts only: empty files, no parent directories" \
	"$(entries "${L[1]}")" "$(printf 'etc/.wh.app.conf f size=0\nopt/.wh.data f size=0\ntmp/.wh.junk f size=0')"
same "a layer that makes a deleted directory again: an opaque whiteout among its own files" \
	"$(entries "${L[2]}")" \
	"$(printf 'etc d\netc/app d\netc/app/-early f size=6\netc/app/.wh..wh..opq f size=0\netc/app/new f size=4')"
same "beside a source, a path the layer does not make: .wh.NAME" "$(entries "${L[3]}" | grep wh)" "srv/.wh.y f size=0"
same "a path an earlier derrick layer made can be deleted" "$(entries "${L[4]}")" "srv/etc/app/.wh.new f size=0"
check "umoci unpacks the image" unpack del
same "  ... what was deleted is gone, the rest stays, the layers' own files show" \
	"$(cd "$T/b-del/rootfs" && find . | LC_ALL=C sort | tr '\n' ' ')" \
	". ./bin ./etc ./etc-x ./etc/app ./etc/app/-early ./etc/app/new ./etc/keep ./opt ./srv ./srv/etc ./srv/etc/app ./srv/etc/app/-early ./tmp ./usr ./usr/bin ./usr/bin/sh "
for i in 1 2 3 4; do
	check "GNU tar extracts layer $i alone" gnu_untar "${L[$i]}" "$T/g-del$i"
done
check "Python's tarfile extracts them" py_untar "$T/py-del" "${L[@]:1}"
same "history: DELETE, and the paths beside a COPY" \
	"$("$DERRICK" inspect --json oci:"$T/lay":del | python3 -c 'import json,sys; print(" | ".join(l["created_by"] for l in json.load(sys.stdin)["layers"][1:]))')" \
	"derrick stage s: DELETE /etc/app.conf /opt/data /tmp/junk | derrick stage s: COPY app /; DELETE /etc/app | derrick stage t: COPY app /srv; DELETE /srv/y | derrick stage t: DELETE /srv/etc/app/new"
build etcgone '{"base":"oci:'"$T/lay"':base","stages":[{"name":"s","layers":[{"delete":["/etc"]}]}]}'
check "umoci unpacks a whole directory deleted" unpack etcgone
same "  ... it is gone, etc-x (sorting between etc and etc/...) stays" "$(ls "$T/b-etcgone/rootfs" | tr '\n' ' ')" "bin etc-x opt srv tmp usr "

lay_before=$(tree_state "$T/lay")
expect_error "delete: a path no lower layer has" 'delete[0]: "/nope": no layer below' \
	build e1 '{"base":"oci:'"$T/lay"':base","stages":[{"name":"s","layers":[{"delete":["/nope"]}]}]}'
expect_error "delete: a path below a symlink of a lower layer names the link" '"/bin" is a symlink to "usr/bin"' \
	build e2 '{"base":"oci:'"$T/lay"':base","stages":[{"name":"s","layers":[{"delete":["/bin/sh"]}]}]}'
expect_error "delete: a path an earlier layer deleted" 'delete[0]: "/etc/app.conf": no layer below' \
	build e3 '{"base":"oci:'"$T/lay"':base","stages":[{"name":"s","layers":[{"delete":["/etc"]},{"delete":["/etc/app.conf"]}]}]}'
expect_error "delete: on scratch nothing can be deleted" 'no layer below' \
	build e4 '{"stages":[{"name":"s","layers":[{"delete":["/x"]}]}]}'
expect_error "delete: the spec refuses overlapping paths" 'delete[1]: "/etc/keep" lies in "/etc"' \
	build e5 '{"base":"oci:'"$T/lay"':base","stages":[{"name":"s","layers":[{"delete":["/etc","/etc/keep"]}]}]}'
same "  ... and each refusal left the layout it was to write into as it was" "$(tree_state "$T/lay")" "$lay_before"
same "no refused build created its output layout" "$(exists "$T/never")" absent

# the base's paths come from the cache after the first build (its layer map, as for placing a layer)
cat >cached.json <<JSON
{"base":"oci:$T/lay:base","stages":[{"name":"s","layers":[{"delete":["/etc/keep"]}]}]}
JSON
"$DERRICK" build -v --cache-dir "$T/fresh" -f cached.json -o oci:"$T/lay":c1 >"$T/c1.log" 2>&1
"$DERRICK" build -v --cache-dir "$T/fresh" -f cached.json -o oci:"$T/lay":c2 >"$T/c2.log" 2>&1
same "the first build reads the base layer from its blob, once" "$(grep -c 'read once for its map' "$T/c1.log")" 1
same "  ... the next takes its paths from the cache, and the layer hits" \
	"$(grep -c 'its map from the build cache' "$T/c2.log") $(grep -c 'read once for its map' "$T/c2.log") $(grep -c 'cache: built' "$T/c2.log")" "1 0 0"

# a registry base: its layers are downloaded once per cache, and read once, for their maps (see
# symlinked_dirs.sh), which both placing a layer and "delete" use; later builds use the kept maps
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then
	skip "delete on a registry base" "missing: $m"
else
	registry_start reg plain || exit 1
	R=$REG_ADDR
	"$DERRICK" push -q --tls-verify=false oci:"$T/lay":base "docker://$R/base:1" >"$T/push.log" 2>&1
	same "the base is pushed" "$?" 0
	layers base && bl=sha256:${L[0]##*/}
	for spec in nodel del; do
		d=$([[ $spec == del ]] && echo ',"delete":["/etc/keep"]')
		printf '{"base":"docker://%s/base:1","stages":[{"name":"s","layers":[{"source":"app"%s}]}]}' "$R" "$d" >"$spec-reg.json"
	done
	run() { "$DERRICK" build -q --tls-verify=false --cache-dir "$T/regcache" -f "$1" -o "docker://$R/app:$2"; }
	registry_mark reg
	run nodel-reg.json 1
	same "without delete: built, the base layer downloaded once (for its symlink map)" "$?:$(registry_count reg GET "/blobs/$bl" 200)" 0:1
	registry_mark reg
	run del-reg.json 2
	same "with delete: built, the base layer not downloaded again (its map is kept)" "$?:$(registry_count reg GET "/blobs/$bl" 200)" 0:0
	rm -rf "$T/regcache/blobs"
	registry_mark reg
	run del-reg.json 3
	same "  ... and not again, even with the blob gone from the cache" \
		"$?:$(registry_count reg GET "/blobs/$bl" 200)" 0:0
	registry_mark reg
	"$DERRICK" build -v --tls-verify=false --cache-dir "$T/regcache2" -f del-reg.json -o "docker://$R/app:4" >"$T/del4.log" 2>&1
	same "with delete on an empty cache: built, the base layer downloaded once and read once" \
		"$?:$(registry_count reg GET "/blobs/$bl" 200):$(grep -c 'read once for its map' "$T/del4.log")" 0:1:1
fi
echo "1..$_n"
