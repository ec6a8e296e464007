#!/usr/bin/env bash
# Build the benchmark data set under ${BENCH_DIR:-/var/tmp/derrick-bench}.
# Cached and idempotent: each part is rebuilt only when its stamp is missing or
# out of date. Run it as often as you like; bench/run.sh runs it first.
#
#   site-packages/      the usr/lib/python3/dist-packages of python3-numpy,
#                       python3-scipy, python3-pandas, python3-matplotlib and
#                       their recursive python3-* Depends (Debian .debs)
#   debs/               the downloaded .debs (cache)
#   app/                the example app (examples/python-app): src/, rootfs/,
#                       derrick.json, build/site-packages -> ../../site-packages
#   big/                BENCH_BIG_MIB (default 1024) MiB of incompressible
#                       pseudo-random bytes in 8 files (deterministic: an
#                       AES-CTR keystream, or /dev/urandom without openssl)
#   layer-site-packages.json, layer-big.json
#                       one-layer specs over site-packages/ and big/
#
# Env: BENCH_DIR, BENCH_BIG_MIB, BENCH_NO_INSTALL=1 (never apt-get install the
# comparison tools, even as root).
# Exit: 0 ok, 3 packages/tools unavailable, 1 other errors.
set -euo pipefail

BENCH_DIR=${BENCH_DIR:-/var/tmp/derrick-bench}
BENCH_BIG_MIB=${BENCH_BIG_MIB:-1024}
ROOTS="python3-numpy python3-scipy python3-pandas python3-matplotlib"
RECIPE=1          # bump when the way site-packages/ is assembled changes
BIG_RECIPE=1      # same for big/

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
example=$repo/examples/python-app

say() { echo "prepare: $*" >&2; }
die() { say "ERROR: $*"; exit "${2:-1}"; }

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
exec 9>"$BENCH_DIR/.prepare.lock"
flock 9

# --- comparison tools --------------------------------------------------------
# hyperfine (timing), pigz (case C), umoci (case D), GNU time (case F).
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v pigz >/dev/null || missing+=(pigz)
command -v umoci >/dev/null || missing+=(umoci)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && [ -z "${BENCH_NO_INSTALL:-}" ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
            say "WARNING: apt-get install ${missing[*]} failed; those cases will be skipped"
    else
        say "WARNING: not installed: ${missing[*]} (apt-get install ${missing[*]});" \
            "run.sh skips what needs them (hyperfine: falls back to bench/timeit.py)"
    fi
fi

# --- site-packages from Debian packages --------------------------------------
{ command -v apt-cache >/dev/null && command -v dpkg-deb >/dev/null; } ||
    die "apt-cache/dpkg-deb not found: this needs a Debian-based system" 3

# The roots and their recursive Depends (and PreDepends), python3-* only.
# Virtual packages (<name>) are dropped by the pattern.
# shellcheck disable=SC2086
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
           --no-breaks --no-replaces --no-enhances $ROOTS 2>/dev/null |
       grep -E '^python3-[a-z0-9.+-]+$' | LC_ALL=C sort -u || true)
[ -n "$pkgs" ] || die "apt-cache knows none of $ROOTS: run 'apt-get update' first" 3
# shellcheck disable=SC2086
policy=$(apt-cache policy $pkgs 2>/dev/null |
         awk '/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) }
              $1 == "Candidate:" { print pkg "=" $2 }')
want="recipe=$RECIPE"
for pkg in $pkgs; do
    ver=$(printf '%s\n' "$policy" | awk -F= -v p="$pkg" '$1 == p { print $2 }')
    { [ -n "$ver" ] && [ "$ver" != "(none)" ]; } ||
        die "package $pkg has no candidate version (apt-get update?)" 3
    want="$want
$pkg=$ver"
done

sp=$BENCH_DIR/site-packages
sp_stamp=$BENCH_DIR/site-packages.stamp
if [ -d "$sp" ] && [ -f "$sp_stamp" ] && [ "$(cat "$sp_stamp")" = "$want" ]; then
    say "site-packages up to date ($(printf '%s\n' "$want" | tail -n +2 | wc -l) packages)"
else
    debs=$BENCH_DIR/debs
    mkdir -p "$debs"
    deb_of() { local f; for f in "$debs/${1}_${2//:/%3a}_"*.deb; do [ -f "$f" ] && echo "$f" && return; done; }
    need=()
    for line in $(printf '%s\n' "$want" | tail -n +2); do
        [ -n "$(deb_of "${line%%=*}" "${line#*=}")" ] || need+=("$line")
    done
    if [ ${#need[@]} -gt 0 ]; then
        say "downloading ${#need[@]} packages into $debs"
        sandbox=()
        [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
        (cd "$debs" && apt-get "${sandbox[@]}" -q download "${need[@]}" >&2) ||
            die "apt-get download failed (network? stale lists: apt-get update)" 3
    fi
    tmp=$(mktemp -d "$BENCH_DIR/.site-packages.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    for line in $(printf '%s\n' "$want" | tail -n +2); do
        f=$(deb_of "${line%%=*}" "${line#*=}")
        [ -n "$f" ] || die "no ${line%%=*}_${line#*=}_*.deb in $debs after download"
        dpkg-deb -x "$f" "$tmp/root" || die "$f: not a valid .deb (delete it and rerun)"
    done
    src=$tmp/root/usr/lib/python3/dist-packages
    [ -d "$src" ] || die "no usr/lib/python3/dist-packages in the packages"
    mkdir "$tmp/site-packages"
    cp -a "$src/." "$tmp/site-packages/"
    chmod 755 "$tmp/site-packages"
    rm -rf "$sp" "$sp_stamp"
    mv "$tmp/site-packages" "$sp"
    printf '%s\n' "$want" >"$sp_stamp"
    rm -rf "$tmp"
    trap - EXIT
    say "built $sp"
fi

# --- the example app (refreshed every time: run.sh edits app/src) ------------
[ -d "$example/src" ] || die "$example/src not found"
app=$BENCH_DIR/app
rm -rf "$app.tmp"
mkdir -p "$app.tmp/build"
cp -a "$example/src" "$example/rootfs" "$example/derrick.json" "$app.tmp/"
[ -f "$example/pyproject.toml" ] && cp -a "$example/pyproject.toml" "$app.tmp/"
ln -s ../../site-packages "$app.tmp/build/site-packages"
rm -rf "$app"
mv "$app.tmp" "$app"

# --- one-layer specs ----------------------------------------------------------
cat >"$BENCH_DIR/layer-site-packages.json" <<'EOF'
{
  "base": "scratch",
  "stages": [
    { "name": "dependencies",
      "layers": [ { "source": "site-packages", "dest": "/usr/local/lib/python3.11/site-packages" } ] }
  ]
}
EOF
cat >"$BENCH_DIR/layer-big.json" <<'EOF'
{
  "base": "scratch",
  "stages": [
    { "name": "big", "layers": [ { "source": "big", "dest": "/data" } ] }
  ]
}
EOF

# --- 1 GiB of incompressible data ---------------------------------------------
big=$BENCH_DIR/big
big_stamp=$BENCH_DIR/big.stamp
nfiles=8
big_want="recipe=$BIG_RECIPE mib=$BENCH_BIG_MIB files=$nfiles openssl=$(command -v openssl >/dev/null && echo 1 || echo 0)"
if [ -d "$big" ] && [ -f "$big_stamp" ] && [ "$(cat "$big_stamp")" = "$big_want" ]; then
    say "big/ up to date"
else
    say "writing $BENCH_BIG_MIB MiB of pseudo-random data into $big"
    rm -rf "$big" "$big_stamp" "$big.tmp"
    mkdir -p "$big.tmp"
    per=$(( BENCH_BIG_MIB * 1048576 / nfiles ))
    for i in $(seq 1 $nfiles); do
        f=$big.tmp/part-$i.bin
        if command -v openssl >/dev/null; then
            # AES-128-CTR keystream of zeros: deterministic, incompressible, fast.
            head -c "$per" /dev/zero |
                openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
                    -iv "$(printf '%032x' "$i")" >"$f"
        else
            head -c "$per" /dev/urandom >"$f"
        fi
    done
    mv "$big.tmp" "$big"
    printf '%s\n' "$big_want" >"$big_stamp"
fi

# --- sizes ----------------------------------------------------------------------
count() { find "$1" "${@:2}" | wc -l; }
printf '%-28s %10s %10s %8s %8s %8s\n' "tree" "du" "apparent" "files" "dirs" "symlinks"
for t in "$sp" "$app/src" "$app/rootfs" "$big"; do
    printf '%-28s %10s %10s %8s %8s %8s\n' "${t#"$BENCH_DIR"/}" \
        "$(du -sh "$t" | cut -f1)" "$(du -sh --apparent-size "$t" | cut -f1)" \
        "$(count "$t" -type f)" "$(count "$t" -type d)" "$(count "$t" -type l)"
done
echo "packages: $(printf '%s\n' "$want" | tail -n +2 | wc -l) (list: $sp_stamp)"
echo "BENCH_DIR=$BENCH_DIR"
