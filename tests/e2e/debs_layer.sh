#!/usr/bin/env bash
# debs_layer.sh - "debs" layers end to end with real packages (issue #13,
# section 2), the locks written by apt (tests/lib/deblock_oracle.py), the
# .debs served over http by the suite's local repository:
#   - a base without dpkg (scratch): one status.d/PKG file per package, no status;
#   - merged-/usr: on a base whose /bin, /lib, /lib64, /sbin are symlinks to
#     usr/..., tar's /bin/tar and libkeyutils1's /lib/... land under usr/, the
#     base's symlinks stay, info/PKG.list keeps the package's own paths; the
#     status file holds the base's stanzas byte for byte and the new ones;
#   - the build cache: a second build downloads nothing and is a hit, also
#     without the .debs in the blob cache; a base whose status changed
#     rebuilds the layer, whose status holds the change; the same digests
#     under another TZ, LC_ALL and umask, and from a cold cache;
#   - refusals, one line each, no output layout left: a wrong sha256 (no blob
#     kept under it), no lock, a lock of another spec, a platform the lock
#     lacks, a .deb with an unsafe path, maintainer scripts with "refuse";
#     the warning by default;
#   - spec errors naming the key path.
# The image running under podman: debs_run.sh.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/debs.sh"

debs_start
mkdir -p "$T/p" && cd "$T/p" || exit 1
umask 022
blobs=$XDG_CACHE_HOME/derrick/blobs/sha256
# build NAME SPEC [ARGS...]: derrick build -f SPEC -o oci:NAME:1 --json >NAME.out 2>NAME.err
build() { local n=$1 s=$2; shift 2; "$DERRICK" build -f "$s" -o "oci:$n:1" --json "$@" >"$n.out" 2>"$n.err"; }
# layer_of NAME: the path of the debs layer's blob (stage "tools") of image NAME
layer_of() { echo "$1/blobs/sha256/$(json_get "$1.out" '[l["digest"] for l in d["layers"] if l["stage"] == "tools"][0][7:]')"; }
cache_of() { json_get "$1.out" '[l["cache"] for l in d["layers"] if l["stage"] == "tools"][0]'; }
debs_in_log() { grep -c '\.deb ' "$DEBREPO_LOG"; }

# ---------------------------------------------------------------- scratch: status.d/
check "apt's choice for jq on an empty status, as a lock" debs_oracle_lock scratch.lock.json none jq
debs_spec scratch.json scratch scratch.lock.json '"jq"'
build scratch scratch.json
check "a debs layer on scratch builds" test -s scratch.out
[[ -s scratch.out ]] || diag <scratch.err
tar -tzf "$(layer_of scratch)" >scratch.list 2>/dev/null
names=$(json_get scratch.lock.json '" ".join(e["name"] for e in d["entries"])')
same "no base dpkg: status.d/PKG and PKG.md5sums per package, no status file" \
	"$(grep '^var/lib/dpkg/' scratch.list | grep -v '/$' | LC_ALL=C sort | tr '\n' ' ')" \
	"$(for p in $names; do echo "var/lib/dpkg/status.d/$p var/lib/dpkg/status.d/$p.md5sums"; done | tr ' ' '\n' | LC_ALL=C sort | tr '\n' ' ')"
got=$(for p in $names; do tar -xzOf "$(layer_of scratch)" "var/lib/dpkg/status.d/$p"; echo .; done)
same "  ... status.d/PKG is the package's control file, as distroless has it" "$got" \
	"$(for p in $names; do dpkg-deb --ctrl-tarfile "$(deb_of scratch.lock.json "$p")" | tar -xO ./control; echo .; done)"
# the packages with a preinst or postinst, as dpkg-deb sees them
scripted=$(for p in $names; do
	dpkg-deb --ctrl-tarfile "$(deb_of scratch.lock.json "$p")" | tar -t | grep -qxE '\./(preinst|postinst)' && echo "$p"
done | paste -sd' ')
same "maintainer scripts: by default, one warning per package with preinst/postinst (libc6), naming its version" \
	"$(sed -n 's/^derrick: warning: scratch.lock.json: \([^ ]*\) \([^ ]*\): maintainer scripts not run, so these may be missing: .*/\1 \2/p' scratch.err | paste -sd' ')" \
	"$(for p in $scripted; do echo "$p $(json_get scratch.lock.json "[e['version'] for e in d['entries'] if e['name'] == '$p'][0]")"; done | paste -sd' ')"
[[ $scripted == *libc6* ]] || not_ok "libc6 has a postinst (dpkg-deb)"

# ---------------------------------------------------------------- merged-/usr
# A tiny base: the merged-/usr symlinks and the Debian root's dpkg status without tar.
mkdir -p merged/var/lib/dpkg merged/usr
for l in bin sbin lib lib64; do ln -s "usr/$l" "merged/$l"; done
$PY - "$ROOT/var/lib/dpkg/status" merged/var/lib/dpkg/status tar <<'EOF'
import sys
st = [s for s in open(sys.argv[1]).read().split("\n\n") if s.strip()]
keep = [s for s in st if not any(s.startswith("Package: %s\n" % p) for p in sys.argv[3:])]
open(sys.argv[2], "w").write("".join(s.strip("\n") + "\n\n" for s in keep))    # as dpkg writes it
EOF
check "the merged-/usr base image" debs_base_image "oci:$T/p/mbase:1" "$T/p/merged"
check "apt's choice for tar (/bin/tar) and libkeyutils1 (/lib/...) on it" \
	debs_oracle_lock merged.lock.json merged/var/lib/dpkg/status tar libkeyutils1
same "  ... just those two" "$(json_get merged.lock.json '" ".join(e["name"] for e in d["entries"])')" "libkeyutils1 tar"
debs_spec merged.json oci:mbase:1 merged.lock.json '"tar", "libkeyutils1"'
build m1 merged.json
check "a debs layer on the merged-/usr base builds" test -s m1.out
[[ -s m1.out ]] || diag <m1.err
"$DERRICK" ls oci:m1:1 --layer 1 >m1.ls 2>&1
same "the packages' bin/ and lib/ files are under usr/ in the layer" \
	"$(awk '{ print $NF }' m1.ls | grep -E '^usr/(bin/tar|lib/x86_64-linux-gnu/libkeyutils\.so\.1\.10)$' | tr '\n' ' ')" \
	"usr/bin/tar usr/lib/x86_64-linux-gnu/libkeyutils.so.1.10 "
same "  ... and nothing at bin, lib, lib64 or sbin (the base's symlinks stay)" \
	"$(awk '{ print $5 }' m1.ls | grep -cE '^(bin|lib|lib64|sbin)(/|$)')" 0
same "  ... the link libkeyutils.so.1 is there too" \
	"$(grep -F 'usr/lib/x86_64-linux-gnu/libkeyutils.so.1 ' m1.ls | awk '{ print $1, $NF }')" "l libkeyutils.so.1.10"
for p in tar libkeyutils1; do
	info=$p
	[[ $p == libkeyutils1 ]] && info=libkeyutils1:amd64
	same "info/$info.list keeps the package's own paths (/bin, /lib), as dpkg records them" \
		"$(tar -xzOf "$(layer_of m1)" "var/lib/dpkg/info/$info.list" 2>&1)" \
		"$(dpkg-deb --fsys-tarfile "$(deb_of merged.lock.json $p)" | tar -t | sed 's#^\./#/#; s#/$##; s#^$#/.#')"
done
tar -xzOf "$(layer_of m1)" var/lib/dpkg/status >m1.status
check "status: the base's stanzas byte for byte, tar and libkeyutils1 installed, sorted" \
	$PY "$KIT" status merged/var/lib/dpkg/status m1.status tar libkeyutils1

# ---------------------------------------------------------------- the build cache
: >"$DEBREPO_LOG"
build m2 merged.json
same "the same lock on the same base again: a cache hit" "$(cache_of m2)" local
same "  ... no .deb downloaded" "$(debs_in_log)" 0
same "  ... the same layer" "$(layer_of m2 | xargs basename)" "$(layer_of m1 | xargs basename)"
for s in $(json_get merged.lock.json '" ".join(e["sha256"] for e in d["entries"])'); do rm -f "$blobs/$s"; done
build m3 merged.json
same "without the .debs in the blob cache: still a hit, nothing downloaded" "$(cache_of m3) $(debs_in_log)" "local 0"
TZ=Pacific/Chatham LC_ALL=C.UTF-8 bash -c 'umask 077; "$0" build -f merged.json -o oci:m4:1 --json --no-cache >m4.out 2>m4.err' "$DERRICK"
same "TZ, LC_ALL, umask 077 and no cache: the same layer, rebuilt" "$(cache_of m4) $(layer_of m4 | xargs basename)" \
	"built $(layer_of m1 | xargs basename)"
XDG_CACHE_HOME=$T/cold build m5 merged.json
same "a cold cache: the same manifest" "$(json_get m5.out 'd["manifest_digest"]')" "$(json_get m1.out 'd["manifest_digest"]')"
# the base rebuilt with one more stanza in its status
printf 'Package: zz-derrick-marker\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: t <t@example.org>\nArchitecture: all\nVersion: 1.0\nDescription: a stanza the test adds\n\n' \
	>>merged/var/lib/dpkg/status
rm -rf mbase
check "the merged-/usr base rebuilt with one more stanza" debs_base_image "oci:$T/p/mbase:1" "$T/p/merged"
: >"$DEBREPO_LOG"
build m6 merged.json
same "a changed base status: the layer is rebuilt" "$(cache_of m6)" built
check "  ... its status holds the new stanza" sh -c "tar -xzOf '$(layer_of m6)' var/lib/dpkg/status | grep -qx 'Package: zz-derrick-marker'"
tar -xzOf "$(layer_of m6)" var/lib/dpkg/status >m6.status
check "  ... and the base's others, byte for byte" $PY "$KIT" status merged/var/lib/dpkg/status m6.status tar libkeyutils1

# the same status without the merged-/usr symlinks: another key, the files where the package has them
mkdir -p plain/var/lib/dpkg
cp merged/var/lib/dpkg/status plain/var/lib/dpkg/
check "a base with the same status and no merged-/usr symlinks" debs_base_image "oci:$T/p/mbase:1" "$T/p/plain"
build m7 merged.json
same "  ... the layer is rebuilt (the symlink map is in the key)" "$(cache_of m7)" built
same "  ... and has bin/tar, lib/.../libkeyutils.so.1.10" \
	"$(tar -tzf "$(layer_of m7)" | grep -E '^(usr/)?(bin/tar|lib/x86_64-linux-gnu/libkeyutils\.so\.1\.10)$' | tr '\n' ' ')" \
	"bin/tar lib/x86_64-linux-gnu/libkeyutils.so.1.10 "

# ---------------------------------------------------------------- refusals
# refuse NAME PATTERN SPEC [ARGS...]: one line with PATTERN, no output layout left
refuse() {
	local n=$1 pat=$2 s=$3
	shift 3
	rm -rf out
	expect_error "$n" "$pat" "$DERRICK" build -f "$s" -o oci:out:1 "$@"
	same "  ... no output layout left" "$(exists out)" absent
}
# err_names NAME TEXT: the last refusal's line holds TEXT
err_names() {
	if grep -qF -- "$2" "$T/.err"; then ok "$1"; else not_ok "$1"; diag <"$T/.err"; fi
}
# a lock entry whose sha256 does not match the file
bad=$(json_get scratch.lock.json '[e["sha256"] for e in d["entries"] if e["name"] == "libonig5"][0]')
good=$bad
bad=${bad:0:63}$([[ ${bad:63} == 0 ]] && echo 1 || echo 0)
sed "s/$good/$bad/" scratch.lock.json >badsha.lock.json
debs_spec badsha.json scratch badsha.lock.json '"jq"'
rm -f "$blobs/$good"
refuse "a .deb whose sha256 is not the lock's: refused" "sha256" badsha.json --no-cache
err_names "  ... naming the package" libonig5
same "  ... the blob cache keeps the file under neither digest" "$(exists "$blobs/$bad")$(exists "$blobs/$good")" absentabsent
# no lock
debs_spec nolock.json scratch nolock.lock.json '"jq"'
refuse "no lock file: says to run derrick lock debs" "run \`derrick lock debs -f" nolock.json
# a lock of another spec: other packages
debs_spec other.json scratch scratch.lock.json '"jq", "curl"'
refuse "a lock of another spec (other packages): refused, naming the difference" "the lock was made from another spec" other.json
err_names "  ... naming curl" curl
# a platform the lock lacks
refuse "--platform linux/arm64 with an amd64 lock: refused" "has no packages for arm64" scratch.json --platform linux/arm64
# a .deb with an unsafe path, served, with its real sha256 and size
mkdir -p evil
DEB=$(deb_of scratch.lock.json jq) $PY "$KIT" craft evil >/dev/null
start_port_server evil evil /usr/bin/python3 "$TOP_SRCDIR/tests/lib/deb_repo_server.py" --dir "$T/p/evil" \
	--port-file "$T/p/evil/port" || exit 1
$PY - evil/dotdot.deb "http://127.0.0.1:$SERVER_PORT/dotdot.deb" scratch.lock.json evil.lock.json <<'EOF'
import hashlib, json, os, sys
deb, url, src, dst = sys.argv[1:]
lock = json.load(open(src))
lock["packages"] = ["evil"]
lock["entries"] = [{"name": "evil", "version": "1.0", "architecture": "all", "url": url,
                    "sha256": hashlib.sha256(open(deb, "rb").read()).hexdigest(), "size": os.path.getsize(deb),
                    "why": "requested"}]
open(dst, "w").write(json.dumps(lock, indent=2) + "\n")
EOF
debs_spec evil.json scratch evil.lock.json '"evil"'
refuse "a .deb with a ../ path: refused, naming the path" "../evil" evil.json
err_names "  ... naming the package" "evil 1.0"
# maintainer scripts refused
debs_spec refuse.json scratch scratch.lock.json '"jq"' '"maintainer_scripts": "refuse"'
refuse "\"maintainer_scripts\": \"refuse\": refused, naming the packages with preinst/postinst" \
	'maintainer_scripts is "refuse"' refuse.json
same "  ... exactly those dpkg-deb shows with preinst or postinst" "$(sed 's/.*postinst scripts: //; s/, / /g' "$T/.err")" "$scripted"

# a dpkg status that an earlier stage writes, on a base without one: the layer reads it there
# (README "Files below a layer") and merges into it, as on a base image that has it
cat >stage.json <<EOF
{ "base": "scratch",
  "stages": [ { "name": "system", "layers": [ { "source": "plain", "dest": "/" } ] },
              { "name": "tools", "layers": [ { "debs": { "lock": "scratch.lock.json",
      "sources": [ { "url": "$SRC_URL", "suite": "bookworm", "components": ["main"], "keyring": "$KEYRING" } ],
      "packages": ["jq"] } } ] } ] }
EOF
build stage stage.json -q
check "a dpkg status only an earlier stage has: the layer merges into it" test -s stage.out
[[ -s stage.out ]] || diag <stage.err
tar -xzOf "$(layer_of stage)" var/lib/dpkg/status >stage.status 2>/dev/null
same "  ... the stage's stanzas and the new ones (a package both have: the new one), no status.d" \
	"$(grep -c '^Package: ' stage.status) $(tar -tzf "$(layer_of stage)" | grep -c status.d)" \
	"$( (sed -n 's/^Package: //p' plain/var/lib/dpkg/status; json_get scratch.lock.json '"\n".join(e["name"] for e in d["entries"])') |
		LC_ALL=C sort -u | wc -l) 0"

# ---------------------------------------------------------------- spec errors name the key path
# spec_error NAME PATTERN DEBS_JSON
spec_error() {
	printf '{ "base": "scratch", "stages": [ { "name": "tools", "layers": [ { "debs": %s } ] } ] }\n' "$3" >bad.json
	refuse "$1" "$2" bad.json
}
S='{ "url": "'"$SRC_URL"'", "suite": "bookworm", "components": ["main"], "keyring": "'"$KEYRING"'" }'
spec_error "an unknown key in sources[0]: named" "stages[0].layers[0].debs.sources[0].suit: unknown key (expected one of: url, suite" \
	'{ "lock": "scratch.lock.json", "sources": [ { "url": "'"$SRC_URL"'", "suit": "bookworm" } ], "packages": ["jq"] }'
spec_error "lock missing: named" "stages[0].layers[0].debs: needs \"lock\"" \
	'{ "sources": ['"$S"'], "packages": ["jq"] }'
spec_error "sources missing: named" "stages[0].layers[0].debs.sources: must be a non-empty array" \
	'{ "lock": "scratch.lock.json", "packages": ["jq"] }'
spec_error "a source without keyring, not trusted: named" "stages[0].layers[0].debs.sources[0]: needs a \"keyring\"" \
	'{ "lock": "scratch.lock.json", "sources": [ { "url": "'"$SRC_URL"'", "suite": "bookworm", "components": ["main"] } ], "packages": ["jq"] }'
spec_error "maintainer_scripts \"maybe\": named" "stages[0].layers[0].debs.maintainer_scripts: \"maybe\": expected \"warn\" or \"refuse\"" \
	'{ "lock": "scratch.lock.json", "sources": ['"$S"'], "packages": ["jq"], "maintainer_scripts": "maybe" }'
spec_error "packages empty: named" "stages[0].layers[0].debs.packages: must name at least one package" \
	'{ "lock": "scratch.lock.json", "sources": ['"$S"'], "packages": [] }'
echo "1..$_n"
