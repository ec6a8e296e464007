#!/usr/bin/env bash
# The image's timestamps (config created, history, every entry's mtime):
# the spec's git repository's last commit time by default, SOURCE_DATE_EPOCH
# over it, --created (RFC 3339 or @SECONDS) over both; 0 outside git.  The
# build cache keeps one time's layers apart from another's.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
unset SOURCE_DATE_EPOCH
G() { git -C "$T/repo" -c user.name=t -c user.email=t@example.invalid "$@"; }

mkdir -p "$T/repo/app"
echo "print('hi')" >"$T/repo/app/main.py"
echo '{ "stages": [ { "name": "s", "layers": [ { "source": "app", "dest": "/app" } ] } ] }' >"$T/repo/derrick.json"
G init -q
G add -A
GIT_COMMITTER_DATE="@1714564800 +0200" GIT_AUTHOR_DATE="@1600000000 +0000" G commit -qm one
B() { "$DERRICK" build -f "$T/repo/derrick.json" --cache-dir "$T/cache" --json "$@"; }
created() { "$DERRICK" inspect --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])'; }
# "created mtime,mtime,..." of config and history, and every entry of every layer
times() {
	/usr/bin/python3 - "$1" <<'PY'
import gzip, io, json, sys, tarfile
layout = sys.argv[1]
blob = lambda d: open(f"{layout}/blobs/sha256/{d[7:]}", "rb").read()
m = json.loads(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"]))
c = json.loads(blob(m["config"]["digest"]))
hist = sorted({h["created"] for h in c["history"]})
mt = sorted({int(e.mtime) for l in m["layers"] for e in tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(l["digest"]))))})
print(c["created"], ",".join(hist), ",".join(map(str, mt)))
PY
}

B -o oci:"$T/git" >"$T/1.json"
same "in a git repository: created, history and every mtime are the last commit's time (committer, not author)" \
	"$(times "$T/git")" "2024-05-01T12:00:00Z 2024-05-01T12:00:00Z 1714564800"
SOURCE_DATE_EPOCH=1700000000 B -o oci:"$T/sde" >/dev/null
same "SOURCE_DATE_EPOCH overrides git" "$(times "$T/sde")" "2023-11-14T22:13:20Z 2023-11-14T22:13:20Z 1700000000"
SOURCE_DATE_EPOCH=1700000000 B --created 2023-01-02T03:04:05Z -o oci:"$T/flag" >/dev/null
same "--created RFC 3339 overrides SOURCE_DATE_EPOCH" "$(times "$T/flag")" "2023-01-02T03:04:05Z 2023-01-02T03:04:05Z 1672628645"
SOURCE_DATE_EPOCH=1700000000 B --created @1672628645 -o oci:"$T/at" >/dev/null
same "--created @SECONDS: the same image" "$(created oci:"$T/at")" "2023-01-02T03:04:05Z"
same "  ... byte for byte" "$(cat "$T/at/index.json")" "$(cat "$T/flag/index.json")"
B --created 2023-01-02T05:04:05+02:00 -o oci:"$T/offset" >/dev/null
same "--created with an offset is the same instant" "$(cat "$T/offset/index.json")" "$(cat "$T/flag/index.json")"

for bad in yesterday 2024-05-01 2024-02-30T00:00:00Z 2024-05-01T12:00:00 2024-05-01T12:00:00.5Z 2024-05-01T24:00:00Z @ @-1 @12x ""; do
	expect_error "--created \"$bad\" is refused, naming it and the forms" \
		"--created \"$bad\": expected RFC 3339 (2024-05-01T12:00:00Z, or with an offset: +02:00) or @SECONDS" \
		B --created "$bad" -o oci:"$T/never"
done
expect_error "--created before 1970 is refused" "--created \"1969-12-31T23:59:59Z\": a date before 1970" \
	B --created 1969-12-31T23:59:59Z -o oci:"$T/never"
expect_error "--created after 9999 is refused" "--created \"@253402300800\": a date after the year 9999" \
	B --created @253402300800 -o oci:"$T/never"
same "  ... and nothing was written" "$(exists "$T/never")" absent
check "--created 9999-12-31T23:59:59Z, the last second, is accepted" B --created 9999-12-31T23:59:59Z -o oci:"$T/last"

# --- the cache: a layer made at one time never serves another ----------------
caches() { json_get "$1" '" ".join(l["cache"] for l in d["layers"])'; }
B -o oci:"$T/git2" >"$T/2.json"
same "the same commit again: a cache hit" "$(caches "$T/2.json")" "local"
echo "notes" >"$T/repo/NOTES"
G add NOTES
GIT_COMMITTER_DATE="@1714568400 +0000" G commit -qm two
B -o oci:"$T/git3" >"$T/3.json"
same "a new commit (the layer's files unchanged): the layer is built anew, with the new time" \
	"$(caches "$T/3.json") $(times "$T/git3")" "built 2024-05-01T13:00:00Z 2024-05-01T13:00:00Z 1714568400"
B --created @1714564800 -o oci:"$T/again" >"$T/4.json"
same "--created back at the first commit's time: a hit, and the first image" \
	"$(caches "$T/4.json") $(json_get "$T/4.json" 'd["manifest_digest"]')" "local $(json_get "$T/1.json" 'd["manifest_digest"]')"

# --- no git: 0 --------------------------------------------------------------------
mkdir -p "$T/plain" && cp -a "$T/repo/app" "$T/repo/derrick.json" "$T/plain/"
"$DERRICK" build -q -f "$T/plain/derrick.json" -o oci:"$T/plain-out" 2>"$T/plain.err"
same "outside git: 1970, and git's complaint is not shown" "$(created oci:"$T/plain-out") $(wc -c <"$T/plain.err")" "1970-01-01T00:00:00Z 0"
git -C "$T/plain" init -q
"$DERRICK" build -q -f "$T/plain/derrick.json" -o oci:"$T/plain-out2" 2>"$T/plain2.err"
same "a repository without a commit: 1970, silently" "$(created oci:"$T/plain-out2") $(wc -c <"$T/plain2.err")" "1970-01-01T00:00:00Z 0"
PATH=/nonexistent "$DERRICK" build -q -f "$T/repo/derrick.json" --no-cache -o oci:"$T/nogit" 2>"$T/nogit.err"
same "no git on PATH: 1970, silently" "$(created oci:"$T/nogit") $(wc -c <"$T/nogit.err")" "1970-01-01T00:00:00Z 0"
echo "1..$_n"
