#!/usr/bin/env bash
# examples/ci is documentation, so it must be right: run the very script the
# GitLab and GitHub files call, against a registry with token auth over TLS
# (as ghcr.io or GitLab's registry are), twice, as two cold CI jobs would.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "CI pipeline" "missing: $m"; echo "1..$_n"; exit 0; fi
sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then skip "CI pipeline" "no site-packages"; echo "1..$_n"; exit 0; fi
command -v git >/dev/null || { skip "CI pipeline" "git missing"; echo "1..$_n"; exit 0; }

registry_start reg token || exit 1
mkdir -p "$T/bin" && ln -s "$DERRICK" "$T/bin/derrick"
export PATH=$T/bin:$PATH

# the project, as a CI checkout: a git repository with a release tag
checkout() {
	mkdir -p "$1/examples" && cp -r "$TOP_SRCDIR/examples/ci" "$1/examples/"
	cp -r "$EXAMPLE" "$1/examples/python-app"
	(cd "$1" && git init -q && git add -A && git -c user.name=ci -c user.email=ci@example.com commit -qm release &&
		git tag v3.1.4)
}
run_job() {
	(cd "$1" && XDG_CACHE_HOME=$1/.cache REGISTRY=$REG_ADDR IMAGE=group/production-control \
		REGISTRY_USER=$REG_USER REGISTRY_PASSWORD=$REG_PASS DIGEST_FILE=image-digest.txt \
		DERRICK_FLAGS="--cert-dir $REG_CERT_DIR --authfile $1/.auth.json -q" \
		examples/ci/build-and-push.sh)
}
sk() { skopeo inspect --cert-dir "$REG_CERT_DIR" --creds "$REG_USER:$REG_PASS" "docker://$REG_ADDR/group/production-control:$1"; }

checkout "$T/job1"
run_job "$T/job1" >"$T/job1.out" 2>&1
rc=$?
same "job 1: the CI script succeeds" "$rc" "0"
[[ $rc -eq 0 ]] || diag <"$T/job1.out"
check "  ... the password went through stdin: the auth file holds it, mode 0600" \
	test "$(stat -c %a "$T/job1/.auth.json")" = 600
sk 3.1.4 >"$T/v.json" && sk latest >"$T/l.json" && sk deps >"$T/d.json"
same ":3.1.4 and :latest are the same image" "$(json_get "$T/v.json" 'd["Digest"]')" "$(json_get "$T/l.json" 'd["Digest"]')"
same "the version label comes from the git tag" "$(json_get "$T/v.json" 'd["Labels"]["org.opencontainers.image.version"]')" "3.1.4"
same ":deps holds the first two layers of :3.1.4" "$(json_get "$T/d.json" '" ".join(d["Layers"])')" \
	"$(json_get "$T/v.json" '" ".join(d["Layers"][:2])')"
same "the digest file names the release" "$(head -n 1 "$T/job1/image-digest.txt")" \
	"docker://$REG_ADDR/group/production-control:3.1.4@$(json_get "$T/v.json" 'd["Digest"]')"
check "the secret is not in the job's output" test -z "$(grep -F "$REG_PASS" "$T/job1.out")"

# job 2: another cold runner (empty cache), a fresh clone of the same commit,
# whose dependency step made the same site-packages again (new files, new mtimes)
git clone -q "$T/job1" "$T/job2"
cp -r "$T/job1/examples/python-app/build" "$T/job2/examples/python-app/build"
registry_mark reg
run_job "$T/job2" >"$T/job2.out" 2>&1
same "job 2: succeeds" "$?" "0"
same "  ... uploads no blob at all (the registry cache and the registry had everything)" \
	"$(registry_count reg 'POST|PATCH|PUT' '/blobs/uploads/')" "0"
same "  ... downloads no layer" "$(registry_count reg GET '/blobs/sha256:' 200)" "0"
same "  ... and pushes the same image" "$(sk 3.1.4 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" \
	"$(json_get "$T/v.json" 'd["Digest"]')"
echo "1..$_n"
