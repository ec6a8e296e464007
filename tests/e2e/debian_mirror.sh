#!/usr/bin/env bash
# tests/lib/debian-root.sh takes its mirror from the machine's apt sources
# only (one-line and deb822 files), and skips with a message when they name
# none; no mirror host is written in the script.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
dr=$TOP_SRCDIR/tests/lib/debian-root.sh

# mirror_of: run `debian-root.sh --mirror` on the apt tree $T/etc: $out its stdout, $rc its status
mirror_of() {
	rc=0
	out=$(env -u DERRICK_DEBIAN_MIRROR DERRICK_APT_ETC="$T/etc" bash "$dr" --mirror 2>"$T/mirror.err") || rc=$?
}
fresh() { rm -rf "$T/etc"; mkdir -p "$T/etc/sources.list.d"; }

fresh
cat >"$T/etc/sources.list" <<'S'
# deb http://commented.example/debian bookworm main
deb-src http://src-only.example/debian bookworm main
deb [ arch=amd64 signed-by=/usr/share/keyrings/k.gpg ] http://mirror.one.example/debian bookworm main
S
mirror_of
same "one-line sources: the URI after options with blanks" "$out" "http://mirror.one.example/debian"

fresh
cat >"$T/etc/sources.list.d/debian.sources" <<'S'
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Enabled: no

# a comment between stanzas
types: deb-src
uris: http://src-only.example/debian
suites: bookworm

Types: deb deb-src
URIs: http://proxy.example:3142/other http://mirror.two.example/debian/
Suites: bookworm
Components: main

Types: deb
URIs: http://mirror.two.example/debian-security
Suites: bookworm-security
S
mirror_of
same "deb822 sources: enabled deb stanzas only, a /debian path preferred" "$out" "http://mirror.two.example/debian/"

fresh
printf 'Types: deb\nURIs: http://sec.example/debian-security\nSuites: bookworm-security\n' >"$T/etc/sources.list.d/s.sources"
printf 'deb cdrom:[Debian 12]/ bookworm main\n' >"$T/etc/sources.list"
mirror_of
same "only security and cdrom sources: skipped (77)" "$rc" 77
check "  ... saying why and what to set" grep -q "SKIP: no Debian mirror: .*set DERRICK_DEBIAN_MIRROR" "$T/mirror.err"
same "  ... and printing no mirror" "$out" ""

fresh
mirror_of
same "no apt sources at all: skipped (77)" "$rc" 77
check "  ... naming where it looked" grep -qF "$T/etc/sources.list" "$T/mirror.err"

fresh
out=$(DERRICK_DEBIAN_MIRROR=http://override.example/debian DERRICK_APT_ETC="$T/etc" bash "$dr" --mirror 2>/dev/null)
same "DERRICK_DEBIAN_MIRROR is used when set" "$out" "http://override.example/debian"

check "the script names no host of its own" bash -c '! grep -nE "https?://[A-Za-z0-9]" "$1"' _ "$dr"
echo "1..$_n"
