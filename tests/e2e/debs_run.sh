#!/usr/bin/env bash
# debs_run.sh - a `debs` layer runs (issue #13, section 3): the suite's
# Debian root as the base image, jq and its libraries from a lock that apt
# chose (tests/lib/deblock_oracle.py: `apt-get install --simulate
# --no-install-recommends jq` on the root's dpkg status, against the served
# local repository), and in the container that podman runs:
#   - jq works;
#   - `dpkg -l` lists jq, libjq1 and libonig5 with the lock's versions, "ii";
#   - `dpkg --verify` passes for them and `dpkg --audit` is clean;
#   - `stat` of every file of the new packages agrees with the .deb's
#     data.tar (dpkg-deb --fsys-tarfile): type, mode bits, numeric owner.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/debs.sh"

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	skip "debs image runs" "podman and runc are not installed"
	echo "1..$_n"; exit 0
fi
debs_start
L=/tmp/derrick-debs-run-$$
mkdir -p "$L"
at_exit 'chmod -R u+w "$L" 2>/dev/null; rm -rf "$L"'
mkdir -p "$T/p" && cd "$T/p" || exit 1

check "the base image: the Debian root" debs_base_image "oci:$T/p/img/base:1"
check "apt's choice for jq on the root's status, as a lock" debs_oracle_lock debs.lock.json "$ROOT/var/lib/dpkg/status" jq
same "  ... jq, libjq1, libonig5" "$(json_get debs.lock.json '" ".join(e["name"] for e in d["entries"])')" "jq libjq1 libonig5"
debs_spec d.json oci:img/base:1 debs.lock.json '"jq"'
"$DERRICK" build -f d.json -o "oci:$L/out:1" --json >build.json 2>build.err
check "build: a debs layer on the Debian root" test -s build.json
[[ -s build.json ]] || diag <build.err

pod() {
	podman --storage-driver vfs --root "$L/storage" --runroot "$L/run" --cgroup-manager cgroupfs \
		--events-backend file "$@"
}
# one container for every check (a podman run costs seconds): sections "== NAME"
pod run --rm --network none --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--entrypoint /bin/sh "oci:$L/out:1" -c '
	echo "== jq"; echo "{\"a\": [1, 2]}" | jq -c .a
	echo "== list"; dpkg -l jq libjq1 libonig5 | awk "\$1 ~ /^[a-z][a-z]\$/ { print \$1, \$2, \$3 }"
	echo "== verify"; dpkg --verify jq libjq1 libonig5 2>&1; echo "rc=$?"
	echo "== audit"; dpkg --audit 2>&1; echo "rc=$?"
	for p in jq libjq1:amd64 libonig5:amd64; do
		echo "== stat ${p%:*}"
		grep -vx "/." "/var/lib/dpkg/info/$p.list" | while read -r f; do stat -c "%n|%f|%u|%g" "$f"; done
	done' >run.out 2>run.err
section() { awk -v s="== $1" '$0 == s { on = 1; next } /^== / { on = 0 } on' run.out; }
same "podman runs it: jq works" "$(section jq)" "[1,2]"
[[ -s run.out ]] || diag <run.err
want=$(json_get debs.lock.json '"\n".join("ii %s%s %s" % (e["name"], "" if e["name"] == "jq" else ":amd64", e["version"]) for e in d["entries"])')
same "dpkg -l lists jq, libjq1, libonig5 installed (ii), with the lock's versions" "$(section list)" "$want"
same "dpkg --verify passes for them" "$(section verify)" "rc=0"
same "dpkg --audit is clean" "$(section audit)" "rc=0"
for p in jq libjq1 libonig5; do
	section "stat $p" >"stat.$p"
	check "$p: stat of every file in the container agrees with its data.tar (type, mode, numeric owner)" \
		$PY "$KIT" stat "$(deb_of debs.lock.json "$p")" "stat.$p"
done
pod rmi -a -f >/dev/null 2>&1
echo "1..$_n"
