#!/usr/bin/env bash
# The whole CI job, shared by the GitLab and GitHub files beside it (and run
# by the test suite against a local registry, so it stays right):
#   log in with the CI token on stdin, build the deps stage and push :deps,
#   build the image and push :VERSION and :latest, write the digest file.
# Both builds use a build cache kept in the registry, so a runner that starts
# with an empty disk recompresses only what changed since the last job.
#
# Environment:
#   REGISTRY           host[:port] of the registry             (required)
#   IMAGE              repository, e.g. group/production-control (required)
#   REGISTRY_USER      user for `derrick login`                 (required)
#   REGISTRY_PASSWORD  its password or CI token (passed on stdin, never argv)
#   APP_DIR            the directory holding derrick.json       (default: examples/python-app)
#   DIGEST_FILE        where to write IMAGE:VERSION@sha256:...   (default: image-digest.txt)
#   DERRICK_FLAGS      extra registry flags, e.g. --cert-dir DIR (default: none)
set -euo pipefail
: "${REGISTRY:?set REGISTRY}" "${IMAGE:?set IMAGE}" "${REGISTRY_USER:?set REGISTRY_USER}"
: "${REGISTRY_PASSWORD:?set REGISTRY_PASSWORD}"
app=${APP_DIR:-examples/python-app}
digest_file=$(realpath -m "${DIGEST_FILE:-image-digest.txt}")
read -r -a flags <<<"${DERRICK_FLAGS:-}"
ref="docker://$REGISTRY/$IMAGE"

printf '%s\n' "$REGISTRY_PASSWORD" |
	derrick login "${flags[@]}" -u "$REGISTRY_USER" --password-stdin "$REGISTRY"

cd "$app"
# the tag v1.2.3 gives 1.2.3 (as --version-from-git does); a dirty tree says so
version=$(git describe --tags --always --dirty)
version=${version#v}

# the dependencies stage alone, for servers and for the next build's cache
derrick build "${flags[@]}" --version-from-git --cache-repo "$ref/cache" \
	--target dependencies -o "$ref:deps"
# the image, under its version and as latest, with its digest for later jobs
derrick build "${flags[@]}" --version-from-git --cache-repo "$ref/cache" \
	-o "$ref:$version" -o "$ref:latest" --digest-file "$digest_file"
echo "pushed $ref:$version, $ref:latest and $ref:deps ($(head -n 1 "$digest_file"))"
