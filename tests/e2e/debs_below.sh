#!/usr/bin/env bash
# debs_below.sh - `derrick lock debs` and a debs layer read what is installed
# below them as the image will have it (README "Files below a layer"):
#  - a distroless-style base (no status, one stanza per package in
#    /var/lib/dpkg/status.d/), as an image and as an earlier directory stage:
#    what it lists is not locked again, and the layer writes status.d files;
#  - a wheels layer without "libc" above a debs layer takes glibc from the
#    status that layer writes (its .debs read at plan time), and gives the
#    layers that "libc": "glibc 2.36" gives;
#  - a second debs layer above a first resolves and merges on the first's
#    status: its lock leaves out what the first installs, and its status
#    holds both sets.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/deb_repo_serve.sh"

finish() { echo "1..$_n"; exit 0; }
if ! command -v gpgv >/dev/null || ! command -v dpkg-deb >/dev/null; then
	skip "debs below" "needs gpgv and dpkg-deb"
	finish
fi
rc=0
deb_repo_start || rc=$?
if [[ $rc -ne 0 ]]; then
	if [[ $rc -eq 77 ]]; then skip "debs below" "tests/lib/deb-repo.sh cannot build the repositories here"; else not_ok "deb repositories built and served"; fi
	finish
fi
W=$(bash "$TOP_SRCDIR/tests/lib/test-wheels.sh" 2>"$T/wheels.err" | tail -n 1)
cd "$T" || exit 1
export SOURCE_DATE_EPOCH=0 XDG_CACHE_HOME=$T/cache
SRC="{ \"url\": \"$DEBREPO_URL/good\", \"suite\": \"bookworm\", \"components\": [\"main\"], \"keyring\": \"$DEBREPO_DIR/keyring.gpg\" }"
debs() { printf '{ "debs": { "lock": "%s", "sources": [ %s ], "packages": [ %s ] } }' "$1" "$SRC" "$2"; }
names() { json_get "$1" "' '.join(e['name'] for e in d['entries'])"; }
layer_list() { "$DERRICK" ls "oci:$1" --layer "$2" | awk '{print $NF}'; }

# ---------------------------------------------------------------- distroless-style base
mkdir -p dl/var/lib/dpkg/status.d
for p in libc6 libgcc-s1 gcc-12-base; do
	dpkg-deb -f "$(ls "$DEBREPO_DIR"/pool/main/*/*/"${p}"_*_amd64.deb | head -n 1)" >"dl/var/lib/dpkg/status.d/$p"
done
echo '{ "base": "scratch", "stages": [ { "name": "d", "layers": [ { "source": "dl", "dest": "/" } ] } ] }' >dlbase.json
"$DERRICK" build -f dlbase.json --platform linux/amd64 -o oci:dlbase:1 -q 2>dlbase.err
printf '{ "base": "oci:dlbase:1", "stages": [ { "name": "sys", "layers": [ %s ] } ] }\n' \
	"$(debs a.lock.json '"jq"')" >a.json
"$DERRICK" lock debs -f a.json --platform linux/amd64 >a.out 2>a.err
same "on a status.d base image: its packages (libc6, libgcc-s1, gcc-12-base) are not locked again" \
	"$(names a.lock.json)" "jq libjq1 libonig5"
same "  ... lock prints what it wrote" "$(cat a.err)" "a.lock.json: 3 packages for amd64"
printf '{ "base": "scratch", "stages": [ { "name": "d", "layers": [ { "source": "dl", "dest": "/" } ] },
  { "name": "sys", "layers": [ %s ] } ] }\n' "$(debs b.lock.json '"jq"')" >b.json
"$DERRICK" lock debs -f b.json --platform linux/amd64 -q 2>b.err
same "  ... the same from an earlier directory stage" "$(names b.lock.json)" "jq libjq1 libonig5"
"$DERRICK" build -f a.json --platform linux/amd64 -o oci:a -q 2>a.build.err
same "  ... the layer writes status.d files, no status" \
	"$(layer_list a 1 | grep '^var/lib/dpkg/' | tr '\n' ' ')" \
	"var/lib/dpkg/status.d var/lib/dpkg/status.d/jq var/lib/dpkg/status.d/jq.md5sums var/lib/dpkg/status.d/libjq1 var/lib/dpkg/status.d/libjq1.md5sums var/lib/dpkg/status.d/libonig5 var/lib/dpkg/status.d/libonig5.md5sums "

# ---------------------------------------------------------------- layers above a debs layer
mkdir -p root/var/lib/dpkg
: >root/var/lib/dpkg/status
printf '{ "base": "scratch", "stages": [ { "name": "root", "layers": [ { "source": "root", "dest": "/" } ] },
  { "name": "sys", "layers": [ %s ] }, { "name": "more", "layers": [ %s ] } ] }\n' \
	"$(debs c.lock.json '"jq"')" "$(debs d.lock.json '"jq", "libpq5"')" >c.json
"$DERRICK" lock debs -f c.json --platform linux/amd64 -q 2>c.err
same "a debs layer on an empty status locks libc6 and the rest" "$(names c.lock.json)" \
	"gcc-12-base jq libc6 libgcc-s1 libjq1 libonig5"
same "  ... the one above it locks only what the first does not install" "$(names d.lock.json | tr ' ' '\n' | grep -c -e '^jq$' -e '^libc6$')" 0
check "  ... and libpq5's own dependencies" grep -q '"name": "libpq5"' d.lock.json
"$DERRICK" build -f c.json --platform linux/amd64 -o oci:c -q 2>c.build.err
check "  ... both build" test -d c
[[ -d c ]] || diag <c.build.err
"$DERRICK" ls oci:c --merged >c.ls 2>/dev/null
top=$(json_get <("$DERRICK" inspect oci:c --json) "d['layers'][-1]['digest']")
tar -xzOf "c/blobs/sha256/${top#sha256:}" var/lib/dpkg/status >c.status
same "  ... the top status holds both layers' packages" \
	"$(grep -c -e '^Package: jq$' -e '^Package: libc6$' -e '^Package: libpq5$' c.status)" 3

if [[ -n $W && -f $W/SHA256SUMS ]]; then
	cp -r "$W/wheels" "$W/pylock.toml" .
	chmod -R u+w wheels pylock.toml
	for libc in '' ', "libc": "glibc 2.36"'; do
		printf '{ "base": "scratch", "stages": [ { "name": "root", "layers": [ { "source": "root", "dest": "/" } ] },
  { "name": "sys", "layers": [ %s ] },
  { "name": "deps", "layers": [ { "wheels": { "lock": "pylock.toml", "python": "3.11"%s } } ] } ] }\n' \
			"$(debs c.lock.json '"jq"')" "$libc" >ws.json
		"$DERRICK" build -f ws.json --platform linux/amd64 -o "oci:w${libc:+x}" --json >"w${libc:+x}.json" 2>"w${libc:+x}.err"
	done
	check "a wheels layer without libc above a debs layer builds (glibc from the status the debs layer writes)" \
		test -s w.json
	[[ -s w.json && -s wx.json ]] || diag <wx.err
	same "  ... the same layers as with \"libc\": \"glibc 2.36\"" \
		"$(json_get w.json "' '.join(l['digest'] for l in d['layers'])")" \
		"$(json_get wx.json "' '.join(l['digest'] for l in d['layers'])")"
else
	skip "wheels above a debs layer" "no test wheels"
fi
finish
