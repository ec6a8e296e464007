#!/usr/bin/env bash
# Bad input: one clear error line, a non-zero exit, and the output layout
# exactly as it was before the failed run.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

P=$T/p
mkdir -p "$P/src/pkg" "$T/specs"
echo 'print("hi")' >"$P/src/pkg/main.py"
echo 'data' >"$P/src/data.txt"
cat >"$P/derrick.json" <<'JSON'
{ "stages": [ { "name": "app", "layers": [ { "source": "src", "dest": "/app" } ] },
              { "name": "extra", "layers": [ { "source": "src/data.txt", "dest": "/etc/" } ] } ],
  "config": { "labels": { "v": "${VERSION}" } } }
JSON
# A layout that already holds an image: every failure below must leave it alone.
OUT=$T/out
"$DERRICK" build -q -f "$P/derrick.json" --version 1 -o oci:"$OUT":keep
before=$(tree_state "$OUT")
unchanged() { same "$1: the output layout is unchanged" "$(tree_state "$OUT")" "$before"; }

# spec NAME JSON: write a spec file next to the project sources.
spec() { printf '%s\n' "$2" >"$P/$1.json"; }

spec missing '{"stages":[{"name":"a","layers":[{"source":"nope","dest":"/x"}]}]}'
expect_error "a missing source" "$P/nope: No such file or directory" \
	"$DERRICK" build -f "$P/missing.json" -o oci:"$OUT":new
unchanged "missing source"

ln -s "$P/does-not-exist" "$P/dangling"
spec dangling '{"stages":[{"name":"a","layers":[{"source":"dangling","dest":"/x"}]}]}'
expect_error "a dangling source symlink" "source $P/dangling is a dangling symlink" \
	"$DERRICK" build -f "$P/dangling.json" -o oci:"$OUT":new
unchanged "dangling source"

expect_error "an unknown --target" "--target nope: no such stage in $P/derrick.json (stages: app, extra)" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 --target nope -o oci:"$OUT":new
unchanged "unknown target"

spec dup '{"stages":[{"name":"a"},{"name":"a"}]}'
expect_error "a duplicate stage" "$P/dup.json: stages[1]: duplicate stage name \"a\"" \
	"$DERRICK" build -f "$P/dup.json" -o oci:"$OUT":new
unchanged "duplicate stage"

expect_error "an invalid tag" "invalid tag \"bad tag\"" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 -o "oci:$OUT:bad tag"
expect_error "a path without a transport" "looks like a path: write oci:$OUT for an OCI layout" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 -o "$OUT"
expect_error "an unknown transport" "unsupported transport \"docker-daemon\"" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 -o "docker-daemon:x:y"
unchanged "invalid references"

echo "not a directory" >"$T/afile"
expect_error "an output path that is a file" "$T/afile exists and is not a directory" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$T/afile":x
same "the file is untouched" "$(cat "$T/afile")" "not a directory"
mkdir -p "$T/notlayout" && echo precious >"$T/notlayout/file"
expect_error "a non-empty directory that is not a layout" "is a non-empty directory that is not an OCI layout" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$T/notlayout":x
same "its file is untouched" "$(ls "$T/notlayout")" "file"

printf '{\n  "stages": [\n    { "name": "a", }\n  ]\n}\n' >"$P/syntax.json"
expect_error "a JSON syntax error gives file:line:column" "$P/syntax.json:3:" \
	"$DERRICK" build -f "$P/syntax.json" -o oci:"$OUT":new
head -c 40 "$P/derrick.json" >"$P/truncated.json"
expect_error "a truncated spec" "$P/truncated.json:" \
	"$DERRICK" build -f "$P/truncated.json" -o oci:"$OUT":new
expect_error "a missing spec" "build spec: open $P/none.json: No such file or directory" \
	"$DERRICK" build -f "$P/none.json" -o oci:"$OUT":new
spec typo '{"stages":[{"name":"a","layers":[{"sorce":"src"}]}]}'
expect_error "an unknown key names its path" "$P/typo.json: stages[0].layers[0].sorce: unknown key" \
	"$DERRICK" build -f "$P/typo.json" -o oci:"$OUT":new
expect_error "\${VERSION} without a version" "config.labels.v uses \${VERSION} but no version was given" \
	"$DERRICK" build -f "$P/derrick.json" -o oci:"$OUT":new
unchanged "spec errors"

expect_error "a bad SOURCE_DATE_EPOCH" "SOURCE_DATE_EPOCH=\"yesterday\"" \
	env SOURCE_DATE_EPOCH=yesterday "$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$OUT":new
expect_error "a SOURCE_DATE_EPOCH past the year 9999 says so" \
	"SOURCE_DATE_EPOCH=\"253402300800\": a date after the year 9999" \
	env SOURCE_DATE_EPOCH=253402300800 "$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$OUT":new
expect_error "  ... also when it does not fit 64 bits" "a date after the year 9999" \
	env SOURCE_DATE_EPOCH=99999999999999999999999 "$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$OUT":new
expect_error "a negative SOURCE_DATE_EPOCH" "SOURCE_DATE_EPOCH=\"-1\": a date before 1970" \
	env SOURCE_DATE_EPOCH=-1 "$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$OUT":new
expect_error "a SOURCE_DATE_EPOCH with a sign or blanks" "SOURCE_DATE_EPOCH=\" 5\": expected seconds since 1970" \
	env SOURCE_DATE_EPOCH=" 5" "$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$OUT":new
check "the last second of 9999 is a valid SOURCE_DATE_EPOCH" \
	env SOURCE_DATE_EPOCH=253402300799 "$DERRICK" build -q -f "$P/derrick.json" --version 1 -o oci:"$T/y9999":x
same "  ... and the config says so" "$(python3 -c 'import json,sys; l=sys.argv[1]; i=json.load(open(l+"/index.json"));
m=json.load(open(l+"/blobs/sha256/"+i["manifests"][0]["digest"][7:]));
print(json.load(open(l+"/blobs/sha256/"+m["config"]["digest"][7:]))["created"])' "$T/y9999")" "9999-12-31T23:59:59Z"
expect_error "a bad --platform" "unknown architecture \"x86_64\"" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 --platform linux/x86_64 -o oci:"$OUT":new
expect_error "no output" "no output: give at least one -o DEST" \
	"$DERRICK" build -f "$P/derrick.json" --version 1
expect_error "an unknown --compression" "--compression lz4: expected gzip or zstd" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 --compression lz4 -o oci:"$OUT":new
expect_error "a gzip level out of range" "--compression-level 12: gzip levels are 1 to 9" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 --compression-level 12 -o oci:"$OUT":new
# the level is checked against the compressor the build uses, which the spec may choose
spec zstdspec '{"compression":"zstd","stages":[{"name":"a","layers":[{"source":"src","dest":"/app"}]}]}'
check "a zstd level above gzip's range, with zstd chosen by the spec, builds" \
	"$DERRICK" build -q -f "$P/zstdspec.json" --compression-level 12 -o oci:"$T/zstd-out":x
expect_error "--compression gzip overrides the spec's zstd, and its level range applies" \
	"--compression-level 12: gzip levels are 1 to 9" \
	"$DERRICK" build -f "$P/zstdspec.json" --compression gzip --compression-level 12 -o oci:"$OUT":new
expect_error "an unknown --cache-mode" "--cache-mode sometimes: expected read, write or readwrite" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 --cache-mode sometimes -o oci:"$OUT":new
expect_error "--jobs 0" "--jobs 0: expected 1 to 64" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 --jobs 0 -o oci:"$OUT":new
spec comp '{"compression":"lz4","stages":[{"name":"a"}]}'
expect_error "a spec with an unknown compression" "$P/comp.json: compression: \"lz4\": expected \"gzip\" or \"zstd\"" \
	"$DERRICK" build -f "$P/comp.json" -o oci:"$OUT":new
spec crepo '{"cache_repo":"oci:somewhere","stages":[{"name":"a"}]}'
expect_error "a spec whose cache_repo is not a registry" "cache_repo: \"oci:somewhere\" is not a registry repository" \
	"$DERRICK" build -f "$P/crepo.json" -o oci:"$OUT":new
unchanged "flag errors"

# --- base images that are missing or corrupt --------------------------------
spec base-missing "{\"base\":\"oci:$T/no-such-layout:x\",\"stages\":[{\"name\":\"a\",\"layers\":[{\"source\":\"src\"}]}]}"
expect_error "a missing base layout" "base image: oci:$T/no-such-layout:x: layout directory $T/no-such-layout" \
	"$DERRICK" build -f "$P/base-missing.json" -o oci:"$OUT":new
cp -a "$OUT" "$T/base"
spec base-tag "{\"base\":\"oci:$T/base:nope\",\"stages\":[{\"name\":\"a\",\"layers\":[{\"source\":\"src\"}]}]}"
expect_error "a base tag that does not exist" "no image tagged \"nope\" (tags: keep)" \
	"$DERRICK" build -f "$P/base-tag.json" -o oci:"$OUT":new
layer=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["layers"][0]["digest"])' \
	"$T/base/blobs/sha256/$(json_get "$T/base/index.json" 'd["manifests"][0]["digest"][7:]')")
chmod u+w "$T/base/blobs/sha256/${layer#sha256:}"
printf 'X' | dd of="$T/base/blobs/sha256/${layer#sha256:}" bs=1 seek=100 conv=notrunc status=none
spec base-corrupt "{\"base\":\"oci:$T/base:keep\",\"stages\":[{\"name\":\"a\",\"layers\":[{\"source\":\"src\"}]}]}"
expect_error "a base layer whose digest is wrong" "blob $layer is corrupt" \
	"$DERRICK" build -f "$P/base-corrupt.json" -o oci:"$OUT":new
echo '{"schemaVersion":2,' >"$T/base/index.json"
expect_error "a base with a truncated index.json" "$T/base/index.json:" \
	"$DERRICK" build -f "$P/base-corrupt.json" -o oci:"$OUT":new
unchanged "base errors"
cp "$OUT/index.json" "$T/index.good"
echo '{"manifests": 1}' >"$OUT/index.json"
expect_error "an output layout with a corrupt index.json" "not an OCI image index" \
	"$DERRICK" build -f "$P/derrick.json" --version 1 -o oci:"$OUT":new
cp "$T/index.good" "$OUT/index.json"

# --- unreadable sources (as an unprivileged user: root reads everything) ---
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	chmod 755 "$T"
	cp -a "$P" "$T/np" && chmod -R a+rX "$T/np"
	mkdir -p "$T/nobody" && chmod 777 "$T/nobody"
	as_nobody "$DERRICK" build -q -f "$T/np/derrick.json" --version 1 -o oci:"$T/nobody/out":keep
	nb_before=$(tree_state "$T/nobody/out")
	chmod 000 "$T/np/src/pkg/main.py"
	expect_error "an unreadable file in a source" "open $T/np/src/pkg/main.py: Permission denied" \
		as_nobody "$DERRICK" build -f "$T/np/derrick.json" --version 1 -o oci:"$T/nobody/out":new
	chmod 644 "$T/np/src/pkg/main.py"
	chmod 000 "$T/np/src"
	expect_error "an unreadable source directory" "source $T/np/src: Permission denied" \
		as_nobody "$DERRICK" build -f "$T/np/derrick.json" --version 1 -o oci:"$T/nobody/out":new
	chmod 755 "$T/np/src"
	same "unreadable sources: the output layout is unchanged" "$(tree_state "$T/nobody/out")" "$nb_before"
	expect_error "a fresh output is not created when the build fails" "No such file or directory" \
		as_nobody "$DERRICK" build -f "$T/np/missing.json" -o oci:"$T/nobody/fresh":x
	check "  ... and leaves no directory behind" test ! -e "$T/nobody/fresh"
else
	skip "unreadable sources" "needs root and setpriv to run as an unprivileged user"
fi

# --- a tree nested deeper than PATH_MAX: the message keeps the reason ------
mkdir -p "$P/deepsrc"
P=$P python3 -c 'import os
os.chdir(os.environ["P"] + "/deepsrc")
for i in range(25):
    os.mkdir("d" * 200); os.chdir("d" * 200)
open("leaf", "w").write("x")'
spec deep '{"stages":[{"name":"a","layers":[{"source":"deepsrc","dest":"/x"}]}]}'
expect_error "a tree deeper than PATH_MAX: the reason shows" ": File name too long" \
	"$DERRICK" build -f "$P/deep.json" -o oci:"$OUT":new
check "  ... the path keeps its start and its end around an ellipsis" \
	grep -qF "open directory $P/deepsrc/dddddddddd" "$T/.err"
check "  ... shortened in the middle" grep -qE "d…d+/d+: File name too long" "$T/.err"
check "  ... in one line well under 2 KB" test "$(wc -c <"$T/.err")" -lt 1200
unchanged "deep tree"

# --- a full disk in the middle of a layer ---------------------------------
if mkdir -p "$T/small" && mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	"$DERRICK" build -q -f "$P/derrick.json" --version 1 -o oci:"$T/small/out":keep
	small_before=$(tree_state "$T/small/out")
	mkdir -p "$P/big"
	head -c 3000000 /dev/urandom >"$P/big/noise.bin"
	spec big '{"stages":[{"name":"a","layers":[{"source":"big","dest":"/big"}]}]}'
	# the build cache on the full disk too: the layer itself cannot be written
	expect_error "a full disk mid-layer" "No space left on device" \
		"$DERRICK" build --cache-dir "$T/small/cache" -f "$P/big.json" -o oci:"$T/small/out":big
	same "full disk: the output layout is unchanged" "$(tree_state "$T/small/out")" "$small_before"
	check "full disk: no staging directory or temporary blob left" \
		test -z "$(find "$T/small" -name '.derrick-*' -o -name '.tmp-*')"
	# the cache elsewhere: the layer is built, copying it into the layout fails
	expect_error "a full disk while saving the image" "No space left on device" \
		"$DERRICK" build -f "$P/big.json" -o oci:"$T/small/out":big
	same "  ... the output layout is unchanged" "$(tree_state "$T/small/out")" "$small_before"
	check "  ... no temporary file left" test -z "$(find "$T/small" -name '.derrick-*' -o -name '.tmp-*')"
	expect_error "a full disk with --no-cache" "No space left on device" \
		"$DERRICK" build --no-cache -f "$P/big.json" -o oci:"$T/small/out":big
	same "  ... the output layout is unchanged" "$(tree_state "$T/small/out")" "$small_before"
	umount "$T/small"
else
	skip "a full disk mid-layer" "cannot mount a tmpfs here (needs root)"
fi

echo "1..$_n"
