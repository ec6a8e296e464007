#!/usr/bin/env bash
# Print (last line of stdout) the directory of the suite's cached test wheels and
# their locks (tests/lib/build_test_wheels.py says what is in it):
#
#   tests/lib/test-wheels.sh   -> /var/cache/derrick-tests/wheels-<hash>
#
# Built once, offline (setuptools for testdata/python/projects; apt's mirror
# for Debian's python3-yaml of amd64 and arm64), then reused: the key hashes
# the builder scripts and the projects, so changing any of them builds afresh.
# The .debs and a private apt lists directory (for the foreign architecture,
# without touching dpkg's configuration) stay in CACHE/debs-wheels.
# Exit 77 (skip) when the wheels cannot be built here.
#
# Env: DERRICK_TEST_CACHE  cache parent (default /var/cache/derrick-tests)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${DERRICK_TEST_CACHE:-/var/cache/derrick-tests}

skip() { echo "test-wheels: SKIP: $*" >&2; exit 77; }

key=$(cd "$top" && {
	sha256sum tests/lib/test-wheels.sh tests/lib/build_test_wheels.py tests/lib/wheelkit.py
	find testdata/python/projects -type f -print0 | sort -z | xargs -0 sha256sum
	find testdata/python/projects -type f -perm -u+x | sort
} | sha256sum | cut -c1-16)
out="$cache/wheels-$key"

# Fast path: the rename below is atomic, so an existing dir is complete.
if [ -f "$out/SHA256SUMS" ]; then
	echo "$out"
	exit 0
fi

/usr/bin/python3 -c 'import setuptools, wheel' 2>/dev/null ||
	skip "Debian's python3-setuptools and python3-wheel are needed (scripts/install-deps.sh)"
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || skip "apt-get and dpkg-deb are needed"
bash "$here/debian-root.sh" --mirror >/dev/null 2>&1 || skip "no Debian mirror in the apt sources (python3-yaml comes from it)"
mkdir -p "$cache" || skip "cannot create $cache"
tmp=$(mktemp -d "$cache/.wheels-$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
if ! SOURCE_DATE_EPOCH=1700000000 /usr/bin/python3 "$here/build_test_wheels.py" "$tmp/out" "$cache/debs-wheels" >&2; then
	echo "test-wheels: building the test wheels failed" >&2
	exit 1
fi
mv -T "$tmp/out" "$out" 2>/dev/null || [ -f "$out/SHA256SUMS" ]  # a concurrent build won: use it
echo "test-wheels: built $out in $(($(date +%s) - start)) s" >&2
echo "$out"
