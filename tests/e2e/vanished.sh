#!/usr/bin/env bash
# A source path that goes away while the build reads the source is a file
# that changed during the read (DK_E_CHANGED), not an I/O error: the layer
# is read once more, and when it happens again the build fails naming the
# path.  The build holds at a test hook (DERRICK_TEST_PAUSE_WALK_FIFO,
# include/derrick/walk.h: after a directory is listed, before its entries
# are looked at; DERRICK_TEST_PAUSE_FIFO, layer.h: after the key, before
# the tar pass), the script removes a path there: no timing race.  Layers
# are read back with Python's tarfile, never with derrick.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/pause.sh"

P=$T/p FIFO=$T/pause
mkdir -p "$P" && mkfifo "$FIFO"
for d in src dirs; do
	printf '{ "base": "scratch", "stages": [ { "name": "app", "layers": [ { "source": "%s", "dest": "/app" } ] } ] }\n' \
		"$d" >"$P/$d.json"
done
fill() {
	rm -rf "$P/src" "$P/dirs"
	mkdir -p "$P/src" "$P/dirs/sub"
	echo keep >"$P/src/keep"
	echo one >"$P/src/gone1"
	echo two >"$P/src/gone2"
	ln -s keep "$P/src/link"
	echo x >"$P/dirs/sub/x"
	echo y >"$P/dirs/y"
}

# paused HOOK SPEC OUT CMD1 CMD2: a build of SPEC into layout $T/OUT that holds at the test hook
# HOOK (the name of its variable); CMD1 runs at its first pause, CMD2 (when not empty) at the
# second, each while the build holds there.  Exit status in $rc, stderr in $T/OUT.err.
paused() {
	local hook=$1 spec=$2 out=$3
	(cd "$P" && env "$hook=$FIFO" timeout 60 "$DERRICK" build --json --no-cache -f "$spec" -o oci:"$T/$out":t \
		>/dev/null 2>"$T/$out.err"; echo $? >"$T/.rc") &
	pause_through $! "$4" "$5"
	rc=$(cat "$T/.rc")
}
export T P FIFO
# members OUT: the layer's names, by tarfile
members() {
	python3 - "$T/$1" <<'PY'
import json, sys, tarfile
out = sys.argv[1]
blob = lambda d: f"{out}/blobs/sha256/{d.split(':')[1]}"
man = json.load(open(blob(json.load(open(f"{out}/index.json"))["manifests"][0]["digest"])))
with tarfile.open(blob(man["layers"][0]["digest"])) as t:
    print(" ".join(sorted(t.getnames())))
PY
}
lines() { grep -c '' "$T/$1.err"; }

# --- between the listing and the lstat: read once more ---------------------------------
fill
paused DERRICK_TEST_PAUSE_WALK_FIFO src.json o1 'rm "$P/src/gone1"' ':'
same "a file removed after its directory was listed: the build succeeds" "$rc" 0
same "  ... with one warning" "$(lines o1)" 1
check "  ... that names the file as changed and says the layer was read again" \
	grep -q "warning: .*src/gone1 changed while derrick read it (it went away.*read the layer again" "$T/o1.err"
same "  ... and the layer holds what the source holds now (tarfile)" "$(members o1)" "app app/gone2 app/keep app/link"

fill
paused DERRICK_TEST_PAUSE_WALK_FIFO src.json o2 'rm "$P/src/link"' ':'
same "a symlink removed the same way: read once more, built" "$rc $(lines o2) $(members o2)" \
	"0 1 app app/gone1 app/gone2 app/keep"

fill
paused DERRICK_TEST_PAUSE_WALK_FIFO dirs.json o3 'rm -r "$P/dirs/sub"' ':'
same "a directory removed the same way: read once more, built" "$rc $(lines o3) $(members o3)" "0 1 app app/y"
check "  ... the warning names the directory" grep -q "dirs/sub changed while derrick read it" "$T/o3.err"

# --- gone on both readings: the build fails naming the path, and writes nothing ------------
fill
paused DERRICK_TEST_PAUSE_WALK_FIFO src.json o4 'rm "$P/src/gone1"' 'rm "$P/src/gone2"'
same "a file removed during each reading: exit 1" "$rc" 1
same "  ... one line" "$(lines o4)" 1
check "  ... an error saying it read twice, naming the second file" \
	grep -q "error: .*read twice, and a file changed during each reading.*src/gone2 changed while derrick read it" "$T/o4.err"
same "  ... and no output layout" "$(exists "$T/o4")" absent

# --- the neighbour: gone between the key and the tar pass (already DK_E_CHANGED) -----------
fill
paused DERRICK_TEST_PAUSE_FIFO src.json o5 'rm "$P/src/gone2"' ':'
same "a file removed between the key and the tar: read once more, built" "$rc $(lines o5) $(members o5)" \
	"0 1 app app/gone1 app/keep app/link"
check "  ... the warning names it" grep -q "src/gone2 changed while derrick read it (it was removed)" "$T/o5.err"

# --- without the hook the walk does not wait: an ordinary build ---------------------------
fill
(cd "$P" && "$DERRICK" build -q --no-cache -f src.json -o oci:"$T/o6":t 2>"$T/o6.err")
same "without the hook: built, all of the source" "$? $(members o6)" "0 app app/gone1 app/gone2 app/keep app/link"
echo "1..$_n"
