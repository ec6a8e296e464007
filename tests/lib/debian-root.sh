#!/usr/bin/env bash
# Print (last line of stdout) the path of a cached minimal Debian root with python3.
#
#   tests/lib/debian-root.sh            -> /var/cache/derrick-tests/debian-root-<hash>
#   tests/lib/debian-root.sh --mirror   -> the mirror it would build from
#
# The root is built once with debootstrap and reused; the cache key covers the
# suite, variant and package list, so changing any of them builds a fresh root.
# Exit 77 (the automake/TAP "skip" code) when no root can be provided.
#
# Env: DERRICK_TEST_CACHE   cache parent   (default /var/cache/derrick-tests)
#      DERRICK_DEBIAN_SUITE suite          (default bookworm)
#      DERRICK_DEBIAN_PACKAGES extra packages, comma separated (default python3-minimal;
#                           use "python3" for the full stdlib: http.server, ssl, email...)
#      DERRICK_DEBIAN_MIRROR  override the mirror read from the apt sources
#      DERRICK_APT_ETC      where the apt sources are (default /etc/apt)
set -euo pipefail

mode=${1:-}
apt_etc=${DERRICK_APT_ETC:-/etc/apt}

suite=${DERRICK_DEBIAN_SUITE:-bookworm}
variant=minbase
packages=${DERRICK_DEBIAN_PACKAGES:-python3-minimal}
cache=${DERRICK_TEST_CACHE:-/var/cache/derrick-tests}

skip() { echo "debian-root: SKIP: $*" >&2; exit 77; }

key=$(printf '%s\n' "v2" "$suite" "$variant" "$packages" | sha256sum | cut -c1-16)
root="$cache/debian-root-$key"

# The mirror apt already uses (a local mirror or proxy in CI), never a host
# named here: the first non-security http(s) URI of a "deb" source, preferring
# one whose path ends in /debian.  No such source: skip, saying so.
apt_uris() {
    local f
    # one-line style: deb [opts] URI suite comp...  (options may hold blanks: [ arch=amd64 ])
    for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
        [ -f "$f" ] && awk '$1 == "deb" { inopt = 0
            for (i = 2; i <= NF; i++) {
                if ($i ~ /^\[/) inopt = 1
                if (!inopt) { print $i; break }
                if ($i ~ /\]$/) inopt = 0
            } }' "$f"
    done
    # deb822 style: stanzas of "Key: value" (keys in any case), blank-line separated;
    # only those whose Types include deb and that are not "Enabled: no"
    for f in "$apt_etc"/sources.list.d/*.sources; do
        [ -f "$f" ] && awk '
            function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no") printf "%s", uris
                               types = ""; uris = ""; enabled = "" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            { key = tolower($1) }
            key == "types:" { for (i = 2; i <= NF; i++) types = types " " $i; sub(/^ /, "", types) }
            key == "uris:" { for (i = 2; i <= NF; i++) uris = uris $i "\n" }
            key == "enabled:" { enabled = tolower($2) }
            END { flush() }' "$f"
    done
    return 0
}
find_mirror() {
    local uris
    uris=$(apt_uris 2>/dev/null | grep -E '^https?://' | grep -v -- '-security' || true)
    { printf '%s\n' "$uris" | grep -E '/debian/?$' || printf '%s\n' "$uris"; } | sed -n 1p
}
mirror() {
    mirror=${DERRICK_DEBIAN_MIRROR:-$(find_mirror || true)}
    [ -n "$mirror" ] || skip "no Debian mirror: the apt sources ($apt_etc/sources.list, sources.list.d/*.list and *.sources) name no http(s) deb source; set DERRICK_DEBIAN_MIRROR"
}
if [ "$mode" = --mirror ]; then
    mirror
    echo "$mirror"
    exit 0
fi

# Fast path: the rename below is atomic, so an existing dir is a complete root.
if [ -x "$root/usr/bin/python3" ]; then
    echo "$root"
    exit 0
fi

command -v debootstrap >/dev/null 2>&1 || skip "debootstrap not installed (apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || skip "building $root needs root (debootstrap); run once as root to warm the cache"
mirror

mkdir -p "$cache"
# Leftovers of runs killed with SIGKILL (other exits are cleaned by the trap).
find "$cache" -maxdepth 1 -name ".debian-root-*.tmp.*" -mmin +180 \
    -exec rm -rf --one-file-system {} + 2>/dev/null || true
# Build next to the final path (same filesystem) so the rename is atomic: an
# interrupted run never leaves a half root under the final name.
tmp=$(mktemp -d "$cache/.debian-root-$key.tmp.XXXXXX")
log=$(mktemp "$cache/.debian-root-$key.tmp.log.XXXXXX")
# debootstrap mounts proc and sys in the target (and binds /dev nodes under
# LXC); a killed run can leave them mounted. Unmount, and never let rm cross
# into another filesystem, so cleanup cannot reach the host's files.
cleanup() {
    awk -v t="$tmp/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$tmp" "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP   # make the EXIT trap run on signals too
chmod 755 "$tmp"                # mktemp gives 0700; this becomes the image's "/"

echo "debian-root: debootstrap --variant=$variant --include=$packages $suite $mirror (log: $log)" >&2
start=$(date +%s)
if ! debootstrap --variant="$variant" --include="$packages" "$suite" "$tmp" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    skip "debootstrap failed (mirror $mirror)"
fi
# Drop what a test image never needs (~50 of 150 MB; the same paths
# debian:*-slim excludes): apt lists, .deb cache, docs, man pages, translations.
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* "$tmp"/debootstrap \
       "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/usr/share/locale/*
[ -x "$tmp/usr/bin/python3" ] || skip "debootstrap finished but $tmp has no /usr/bin/python3"

# mv -T fails instead of nesting if a concurrent run already published the root.
if ! mv -T "$tmp" "$root" 2>/dev/null; then
    [ -x "$root/usr/bin/python3" ] || skip "could not publish $root"
fi
echo "debian-root: built $root in $(( $(date +%s) - start ))s" >&2
echo "$root"
