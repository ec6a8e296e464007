#!/usr/bin/env bash
# debs_lock.sh - `derrick lock debs` through the CLI, against the suite's
# served, signed local repository (issue #13, sections 1 and 3):
#   - on the Debian root as the base image, jq's lock has the entries that apt
#     chooses (tests/lib/deblock_oracle.py): names, versions, urls, sha256, sizes;
#   - --platform linux/amd64,linux/arm64 on scratch: both architectures, and the
#     build for linux/arm64 holds arm64 packages (the ELF machine of usr/bin/jq
#     in the layer is AArch64; the amd64 build's is x86-64);
#   - locking twice, also under another TZ, LC_ALL and umask, gives the same bytes;
#   - an unsigned source with "trusted": true is locked and builds;
#   - refusals, one line each, the lock left as it was: a bad signature
#     (badsig/), an unsigned source without "trusted", an expired Release, a
#     Packages index whose sha256 is not Release's, a package that does not exist.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/debs.sh"

debs_start
mkdir -p "$T/p" && cd "$T/p" || exit 1
umask 022
# lock_spec FILE BASE LOCK URL PKGS [SOURCE_EXTRA]: debs_spec with another source URL and keyring/trusted
lock_spec() {
	local url=$4 extra=${6:-\"keyring\": \"$KEYRING\"}
	debs_spec "$1" "$2" "$3" "$5"
	sed -i "s#\"url\": \"$SRC_URL\", \\(.*\\), \"keyring\": \"$KEYRING\" }#\"url\": \"$url\", \\1, $extra }#" "$1"
}
entries() { json_get "$1" '"\n".join("%s %s %s %s %s %s" % (e["name"], e["version"], e["architecture"], e["url"], e["sha256"], e["size"]) for e in d["entries"])'; }

# ---------------------------------------------------------------- against apt, on the Debian root
check "the base image: the Debian root" debs_base_image "oci:$T/p/base:1"
check "apt's choice for jq on the root's status" debs_oracle_lock apt.lock.json "$ROOT/var/lib/dpkg/status" jq
debs_spec root.json oci:base:1 root.lock.json '"jq"'
"$DERRICK" lock debs -f root.json >lock.out 2>lock.err
check "derrick lock debs on the Debian root" test -s root.lock.json
[[ -s root.lock.json ]] || diag <lock.err
same "  ... the entries apt chooses (name, version, architecture, url, sha256, size)" \
	"$(entries root.lock.json)" "$(entries apt.lock.json)"
same "  ... why: requested, or the chain" "$(json_get root.lock.json '" ".join(e["why"] for e in d["entries"])')" \
	"requested jq -> libjq1 jq -> libjq1 -> libonig5"

# ---------------------------------------------------------------- two architectures, on scratch
debs_spec multi.json scratch multi.lock.json '"jq"'
"$DERRICK" lock debs -f multi.json --platform linux/amd64,linux/arm64 >multi.out 2>multi.err
same "--platform linux/amd64,linux/arm64: both architectures" \
	"$(json_get multi.lock.json '" ".join(d["architectures"])' 2>&1)" "amd64 arm64"
[[ -s multi.lock.json ]] || diag <multi.err
same "  ... jq for each, and its closure on an empty base" \
	"$(json_get multi.lock.json '" ".join(sorted(set(e["name"] for e in d["entries"])))')" \
	"gcc-12-base jq libc6 libgcc-s1 libjq1 libonig5"
same "  ... every arm64 entry's .deb is arm64 (dpkg-deb --field)" \
	"$(for u in $(json_get multi.lock.json '" ".join(e["url"] for e in d["entries"] if e["architecture"] == "arm64")'); do
		dpkg-deb --field "$DEBREPO_DIR/good/${u#"$SRC_URL/"}" Architecture
	done | sort | uniq -c | awk '{ print $1, $2 }')" "6 arm64"
machine() { # IMAGE: the ELF machine (e_machine) of usr/bin/jq in its debs layer
	local l
	l=$(json_get "$1.out" '[l["digest"] for l in d["layers"] if l["stage"] == "tools"][0][7:]')
	tar -xzOf "$1/blobs/sha256/$l" usr/bin/jq | od -An -tu2 -j18 -N2 | tr -d ' '
}
for a in arm64:183 amd64:62; do
	"$DERRICK" build -f multi.json -o "oci:$T/p/${a%:*}:1" --platform "linux/${a%:*}" --json >"${a%:*}.out" 2>"${a%:*}.err"
	same "the build for linux/${a%:*}: usr/bin/jq is ${a%:*} code (ELF machine ${a#*:})" "$(machine "${a%:*}")" "${a#*:}"
	[[ -s ${a%:*}.out ]] || diag <"${a%:*}.err"
done
l=$(json_get arm64.out '[l["digest"] for l in d["layers"] if l["stage"] == "tools"][0][7:]')
same "  ... its status.d/ names arm64 packages only" \
	"$(tar -xzOf "arm64/blobs/sha256/$l" --wildcards 'var/lib/dpkg/status.d/*' --exclude '*.md5sums' |
		sed -n 's/^Architecture: //p' | sort -u | paste -sd' ')" "arm64"

"$DERRICK" build -f multi.json -o "oci:$T/p/both:1" --platform linux/amd64,linux/arm64 --json >both.out 2>both.err
same "one build for both platforms: an index whose layers are those of the two builds" \
	"$(json_get both.out '" ".join(m["platform"] + "=" + [l["digest"] for l in m["layers"] if l["stage"] == "tools"][0] for m in d["manifests"])' 2>&1)" \
	"$(for a in amd64 arm64; do printf 'linux/%s=%s ' $a "$(json_get $a.out '[l["digest"] for l in d["layers"] if l["stage"] == "tools"][0]')"; done | sed 's/ $//')"

# ---------------------------------------------------------------- a base per platform
# An index whose amd64 image has the Debian root's dpkg status and whose arm64
# image has an empty one: each platform's lock and layer start from its own.
mkdir -p pa/var/lib/dpkg pb/var/lib/dpkg
cp "$ROOT/var/lib/dpkg/status" pa/var/lib/dpkg/
: >pb/var/lib/dpkg/status
for x in pa:amd64 pb:arm64; do
	echo '{ "base": "scratch", "stages": [ { "name": "s", "layers": [ { "source": "'"${x%:*}"'", "dest": "/" } ] } ] }' >"${x%:*}.json"
	"$DERRICK" build -q -f "${x%:*}.json" -o "oci:$T/p/two:${x%:*}" --platform "linux/${x#*:}" 2>>two.err
done
$PY "$TOP_SRCDIR/tests/lib/oci_layout.py" index two both pa=linux/amd64 pb=linux/arm64 >/dev/null 2>>two.err
debs_spec two.json oci:two:both two.lock.json '"jq"'
"$DERRICK" lock debs -f two.json --platform linux/amd64,linux/arm64 >/dev/null 2>>two.err
same "a base index, a status per platform: amd64's entries are apt's on the root's status" \
	"$(entries two.lock.json 2>&1 | grep ' amd64 ')" "$(entries apt.lock.json)"
[[ -s two.lock.json ]] || diag <two.err
same "  ... arm64's the closure on its empty status" \
	"$(json_get two.lock.json '" ".join(e["name"] for e in d["entries"] if e["architecture"] == "arm64")' 2>&1)" \
	"gcc-12-base jq libc6 libgcc-s1 libjq1 libonig5"
"$DERRICK" build -f two.json -o "oci:$T/p/twoout:1" --platform linux/amd64,linux/arm64 --json >twoout.out 2>>two.err
for x in amd64:pa:"jq libjq1 libonig5" arm64:pb:"gcc-12-base jq libc6 libgcc-s1 libjq1 libonig5"; do
	a=${x%%:*} rest=${x#*:}
	l=$(json_get twoout.out "[[l['digest'] for l in m['layers'] if l['stage'] == 'tools'][0] for m in d['manifests'] if m['platform'] == 'linux/$a'][0][7:]" 2>/dev/null)
	tar -xzOf "twoout/blobs/sha256/$l" var/lib/dpkg/status >"two.$a.status" 2>>two.err
	# shellcheck disable=SC2086
	check "  ... the linux/$a layer's status: its base's stanzas byte for byte and its packages" \
		$PY "$KIT" status "${rest%%:*}/var/lib/dpkg/status" "two.$a.status" ${rest#*:}
done

# ---------------------------------------------------------------- a distroless-style base
# No status file, status.d/PKG per package (a debs layer on scratch writes
# them): what is there is installed; whiteouts of the layers above count.
check "apt's choice for libc6 on an empty status" debs_oracle_lock libc6.lock.json none libc6
debs_spec dlbase.json scratch libc6.lock.json '"libc6"'
"$DERRICK" build -f dlbase.json -o "oci:$T/p/dl:1" --json >dlbase.out 2>dl.err
printf '{ "base": "oci:dl:1", "stages": [ { "name": "x", "layers": [ { "delete": ["/var/lib/dpkg/status.d/libc6"] } ] } ] }\n' >wh-file.json
printf '{ "base": "oci:dl:1", "stages": [ { "name": "x", "layers": [ { "delete": ["/var/lib/dpkg/status.d"] } ] } ] }\n' >wh-dir.json
# the directory given anew in a layer that also deletes it: an opaque whiteout, only gcc-12-base left
mkdir -p sd
tar -xzOf "dl/blobs/sha256/$(json_get dlbase.out 'd["layers"][0]["digest"][7:]' 2>/dev/null)" \
	var/lib/dpkg/status.d/gcc-12-base >sd/gcc-12-base 2>>dl.err
printf '{ "base": "oci:dl:1", "stages": [ { "name": "x", "layers": [ { "source": "sd", "dest": "/var/lib/dpkg/status.d", "delete": ["/var/lib/dpkg/status.d"] } ] } ] }\n' >wh-opq.json
"$DERRICK" build -q -f wh-opq.json -o "oci:$T/p/dl:opq" 2>>dl.err
"$DERRICK" build -q -f wh-file.json -o "oci:$T/p/dl:file" 2>>dl.err
# the Debian root's status below a var/lib/dpkg/ given anew (opaque) with only status.d/gcc-12-base
mkdir -p newdpkg/status.d && cp sd/gcc-12-base newdpkg/status.d/
printf '{ "base": "oci:two:pa", "stages": [ { "name": "x", "layers": [ { "source": "newdpkg", "dest": "/var/lib/dpkg", "delete": ["/var/lib/dpkg"] } ] } ] }\n' >wh-root.json
"$DERRICK" build -q -f wh-root.json -o "oci:$T/p/dl:root" --platform linux/amd64 2>>dl.err
"$DERRICK" build -q -f wh-dir.json -o "oci:$T/p/dl:dir" 2>>dl.err
for x in "1:gcc-12-base libc6 libgcc-s1 (status.d/):jq libjq1 libonig5" \
	"file:gcc-12-base libgcc-s1 (status.d/libc6 deleted above):jq libc6 libjq1 libonig5" \
	"dir:nothing (status.d/ deleted above):gcc-12-base jq libc6 libgcc-s1 libjq1 libonig5" \
	"opq:status.d/gcc-12-base only (an opaque status.d/ above):jq libc6 libgcc-s1 libjq1 libonig5" \
	"root:a status file below an opaque var/lib/dpkg/ with status.d/gcc-12-base:jq libc6 libgcc-s1 libjq1 libonig5"; do
	IFS=: read -r tag has want <<<"$x"
	debs_spec "dl-$tag.json" "oci:dl:$tag" "dl-$tag.lock.json" '"jq"'
	"$DERRICK" lock debs -f "dl-$tag.json" >/dev/null 2>>dl.err
	same "a base with $has: the lock adds $want" \
		"$(json_get "dl-$tag.lock.json" '" ".join(e["name"] for e in d["entries"])' 2>&1)" "$want"
done
[[ -s dl-1.lock.json ]] || diag <dl.err

# ---------------------------------------------------------------- the same bytes
cp multi.lock.json first.lock.json
TZ=Pacific/Chatham LC_ALL=C.UTF-8 bash -c 'umask 077; "$0" lock debs -f multi.json --platform linux/arm64,linux/amd64' \
	"$DERRICK" >/dev/null 2>again.err
check "locking again (platforms in another order, TZ, LC_ALL, umask 077): the same bytes" cmp first.lock.json multi.lock.json

# ---------------------------------------------------------------- an unsigned source taken as trusted
lock_spec trusted.json scratch trusted.lock.json "$DEBREPO_URL/unsigned" '"jq"' '"trusted": true'
"$DERRICK" lock debs -f trusted.json >/dev/null 2>trusted.err
same "an unsigned source with \"trusted\": true is locked" "$(json_get trusted.lock.json 'd["sources"][0]["trusted"]' 2>&1)" True
[[ -s trusted.lock.json ]] || diag <trusted.err
"$DERRICK" build -f trusted.json -o "oci:$T/p/trusted:1" >/dev/null 2>trusted-build.err
check "  ... and builds" test -d trusted/blobs

# ---------------------------------------------------------------- refusals: one line, the lock untouched
# refuse NAME PATTERN URL PKGS [SOURCE_EXTRA]: the lock of a spec naming URL and PKGS is refused
refuse() {
	local n=$1 pat=$2
	lock_spec bad.json scratch kept.lock.json "$3" "$4" "${5:-}"
	cp first.lock.json kept.lock.json
	expect_error "$n" "$pat" "$DERRICK" lock debs -f bad.json
	check "  ... the lock file is left as it was" cmp first.lock.json kept.lock.json
}
refuse "a source signed by another key (badsig/): refused" "no valid signature by $KEYRING" "$DEBREPO_URL/badsig" '"jq"'
refuse "an unsigned source without \"trusted\": refused" "unsigned (neither InRelease nor Release.gpg)" \
	"$DEBREPO_URL/unsigned" '"jq"'
refuse "an expired Release: refused" "expired (Valid-Until 2000-01-02" "$DEBREPO_URL/expired" '"jq"'
refuse "a Packages index whose sha256 is not Release's: refused" "Packages.xz does not match" "$DEBREPO_URL/badsha" '"jq"'
refuse "a package that does not exist: refused, naming it" 'no package "no-such-package" for amd64' \
	"$SRC_URL" '"jq", "no-such-package"'
echo "1..$_n"
