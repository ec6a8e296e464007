#!/usr/bin/env bash
# Print (last line of stdout) the directory of the suite's local Debian
# repositories, built once from real packages and then reused:
#
#   tests/lib/deb-repo.sh   -> /var/cache/derrick-tests/deb-repo-<hash>
#
# What is in it (serve the directory over HTTP; each mirror is a subdirectory):
#   pool/main/...        the .debs, fetched with `apt-get download` from the
#                        machine's apt mirror: the closure apt picks, on an
#                        empty dpkg status and without Recommends, for
#                        $amd64_packages (amd64 and all), and for
#                        $arm64_packages (arm64)
#   keyring.gpg          the public key that signs good/, badsha/ and expired/
#                        (a binary keyring, `gpg --export`, as gpgv takes it)
#   other-keyring.gpg    the public key that signs badsig/
#   good/                a mirror root: pool -> ../pool, dists/bookworm/
#                        {InRelease, Release, Release.gpg,
#                        main/binary-{amd64,arm64}/Packages{,.gz,.xz}},
#                        Date 2000-01-01, Valid-Until past 2100
#   unsigned/            the same without InRelease and Release.gpg
#   badsig/              signed by the other key
#   badsha/              signed by the good key, but Release gives
#                        main/binary-amd64/Packages.xz another SHA256
#   expired/             signed by the good key, Valid-Until 2000-01-02
#   SHA256SUMS           every file above (but the symlinks)
#
# The keys are throw-away: made in a temporary GNUPGHOME that is removed
# (with its gpg-agent) before the script ends.  The key of the cache hashes
# this script, so changing the package lists builds afresh.  The .debs and
# a private apt lists directory (foreign architectures without touching
# dpkg's configuration) stay in CACHE/debs-repo.
# Exit 77 (skip) when the repository cannot be built here.
#
# Env: DERRICK_TEST_CACHE  cache parent (default /var/cache/derrick-tests)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${DERRICK_TEST_CACHE:-/var/cache/derrick-tests}
suite=bookworm
amd64_packages="jq curl libpq5 python3-yaml bsd-mailx"
arm64_packages="jq:arm64"

skip() { echo "deb-repo: SKIP: $*" >&2; exit 77; }

key=$(sha256sum "$here/deb-repo.sh" | cut -c1-16)
out="$cache/deb-repo-$key"

# Fast path: the rename below is atomic, so an existing dir is complete.
if [ -f "$out/SHA256SUMS" ]; then
	echo "$out"
	exit 0
fi

for t in apt-get apt-ftparchive gpg gpgconf gzip xz; do
	command -v "$t" >/dev/null || skip "$t is needed (scripts/install-deps.sh)"
done
bash "$here/debian-root.sh" --mirror >/dev/null 2>&1 || skip "no Debian mirror in the apt sources"
mkdir -p "$cache/debs-repo/debs" "$cache/debs-repo/apt-state/lists/partial" \
	"$cache/debs-repo/apt-state/cache/archives/partial" || skip "cannot create $cache/debs-repo"
tmp=$(mktemp -d "$cache/.deb-repo-$key.XXXXXX")
export GNUPGHOME="$tmp/gnupg"
mkdir -m 700 "$GNUPGHOME"
cleanup() {
	if [ -d "$GNUPGHOME" ]; then gpgconf --kill all 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
start=$(date +%s)

# apt through a private lists directory and an empty dpkg status: the
# closure is what a system without any package would need.
state=$cache/debs-repo/apt-state
: >"$tmp/status"
apt_opts=(-q -q -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o Debug::NoLocking=1
	-o APT::Sandbox::User=root -o "Dir::State::status=$tmp/status"
	-o APT::Architectures::=amd64 -o APT::Architectures::=arm64)
if [ "$(find "$state/lists" -maxdepth 1 -name '*Packages*' | wc -l)" -lt 2 ]; then
	apt-get "${apt_opts[@]}" update >/dev/null || skip "apt-get update failed"
fi
closure() {
	apt-get "${apt_opts[@]}" install --simulate --no-install-recommends "$@" | awk '$1 == "Inst" { print $2 }'
}
# shellcheck disable=SC2086
{ closure $amd64_packages; closure $arm64_packages; } | sort -u >"$tmp/wanted"
[ -s "$tmp/wanted" ] || skip "apt found no packages to download"
(cd "$cache/debs-repo/debs" && xargs -a "$tmp/wanted" apt-get "${apt_opts[@]}" download >/dev/null) ||
	skip "apt-get download failed"

o=$tmp/out
mkdir -p "$o/pool/main"
# apt-get download names files NAME_VERSION_ARCH.deb (":" of an epoch as %3a)
while read -r spec; do
	name=${spec%%:*} arch=${spec#*:}
	[ "$arch" = "$spec" ] && arch=amd64
	f=$(cd "$cache/debs-repo/debs" && ls -1 -- "${name}"_*_"$arch".deb "${name}"_*_all.deb 2>/dev/null | sort | tail -n 1 || true)
	[ -n "$f" ] || { echo "deb-repo: no .deb for $spec" >&2; exit 1; }
	d=$o/pool/main/${name:0:1}/$name
	mkdir -p "$d"
	cp -- "$cache/debs-repo/debs/$f" "$d/"
done <"$tmp/wanted"

gpg --batch -q --passphrase '' --quick-gen-key 'derrick test archive <good@invalid>' ed25519 sign never
gpg --batch -q --passphrase '' --quick-gen-key 'derrick other key <other@invalid>' ed25519 sign never
gpg --batch -q --export 'good@invalid' >"$o/keyring.gpg"
gpg --batch -q --export 'other@invalid' >"$o/other-keyring.gpg"

# mirror DIR KEY VALID_UNTIL: a mirror root over the shared pool, its
# Release signed by KEY (none: unsigned).  apt-ftparchive's ValidTime counts
# from now, not from the Date given: the Valid-Until line is added here.
mirror() {
	local m=$o/$1 signer=$2 until=$3 a
	local d=$m/dists/$suite
	mkdir -p "$m"
	ln -s ../pool "$m/pool"
	for a in amd64 arm64; do
		mkdir -p "$d/main/binary-$a"
		(cd "$m" && apt-ftparchive --arch "$a" packages pool/main) >"$d/main/binary-$a/Packages"
		gzip -9n <"$d/main/binary-$a/Packages" >"$d/main/binary-$a/Packages.gz"
		xz -9 <"$d/main/binary-$a/Packages" >"$d/main/binary-$a/Packages.xz"
	done
	(cd "$d" && apt-ftparchive -o APT::FTPArchive::Release::Origin=derrick-tests \
		-o APT::FTPArchive::Release::Suite=$suite -o APT::FTPArchive::Release::Codename=$suite \
		-o APT::FTPArchive::Release::Architectures="amd64 arm64" \
		-o APT::FTPArchive::Release::Components=main \
		-o "APT::FTPArchive::Release::Date=Sat, 01 Jan 2000 00:00:00 UTC" \
		release .) | awk -v u="$until" '{ print } /^Date:/ { print "Valid-Until: " u }' >"$tmp/Release"
	mv "$tmp/Release" "$d/Release"
	if [ "$signer" != none ]; then
		gpg --batch -q --yes --local-user "$signer" --clearsign -o "$d/InRelease" "$d/Release"
		gpg --batch -q --yes --local-user "$signer" --armor --detach-sign -o "$d/Release.gpg" "$d/Release"
	fi
}
future="Fri, 01 Jan 2100 00:00:00 UTC"
mirror good 'good@invalid' "$future"
mirror unsigned none "$future"
mirror badsig 'other@invalid' "$future"
mirror expired 'good@invalid' "Sun, 02 Jan 2000 00:00:00 UTC"
# badsha: one hash of the SHA256 list changed (the last hex digit flipped), then signed
mirror badsha none "$future"
awk -v f=main/binary-amd64/Packages.xz '
	/^SHA256:/ { insha = 1; print; next }
	/^[^ ]/ { insha = 0 }
	insha && $3 == f { h = $1; c = substr(h, 64, 1); sub(/.$/, c == "0" ? "1" : "0", h); $1 = h; print " " $0; next }
	{ print }' "$o/badsha/dists/$suite/Release" >"$tmp/Release"
mv "$tmp/Release" "$o/badsha/dists/$suite/Release"
gpg --batch -q --yes --local-user 'good@invalid' --clearsign -o "$o/badsha/dists/$suite/InRelease" "$o/badsha/dists/$suite/Release"

(cd "$o" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$tmp/SHA256SUMS"
mv "$tmp/SHA256SUMS" "$o/SHA256SUMS"
mv -T "$o" "$out" 2>/dev/null || [ -f "$out/SHA256SUMS" ]  # a concurrent build won: use it
echo "deb-repo: built $out ($(wc -l <"$tmp/wanted") packages) in $(($(date +%s) - start)) s" >&2
echo "$out"
