#!/usr/bin/env bash
# derrick's benchmark: layer build speed against tar|gzip, tar|pigz and umoci,
# warm against cold rebuilds of the example, and peak memory. See bench/README.md.
#
# Env (all optional):
#   BENCH_DIR       data set and scratch space      (default /var/tmp/derrick-bench)
#   BENCH_RUNS      timed runs per case, median kept (default 5)
#   BENCH_WARMUP    untimed warm-up runs per case    (default 1)
#   BENCH_RSS_RUNS  runs of case F (max RSS kept)    (default 1)
#   DERRICK         the derrick binary               (default: ../derrick)
#   DERRICK_FLAGS   extra flags for every `derrick build` (e.g. "--gzip-level 6")
#   BENCH_RESULTS   where results go      (default $BENCH_DIR/results/<UTC time>)
#   BENCH_TIMER     hyperfine | python    (default: hyperfine when installed)
# Output: the table on stdout (also $BENCH_RESULTS/summary.txt and summary.md),
# raw data in $BENCH_RESULTS (hyperfine.json, sizes.json, rss-*.txt, machine.txt).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/derrick-bench}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_RSS_RUNS=${BENCH_RSS_RUNS:-1}
DERRICK=${DERRICK:-$repo/derrick}
DERRICK_FLAGS=${DERRICK_FLAGS:-}
PYTHON=${PYTHON:-python3}
TREE_DEST=/usr/local/lib/python3.11/site-packages

say() { echo "bench: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ -x "$DERRICK" ] || die "$DERRICK not found: run 'make -s' in $repo first (or set DERRICK)"
command -v "$PYTHON" >/dev/null || die "python3 is needed (PYTHON=...)"

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
export BENCH_DIR
results=${BENCH_RESULTS:-$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"
results=$(cd "$results" && pwd)
say "preparing the data set"
"$here/prepare.sh" >"$results/dataset.txt" || die "prepare.sh failed"

work=$BENCH_DIR/work
rm -rf "$work"
mkdir -p "$work"
# A private copy of the binary: a concurrent `make` cannot swap it mid-run.
cp "$DERRICK" "$work/derrick"
D=$work/derrick
SP=$BENCH_DIR/site-packages
APP=$BENCH_DIR/app
APP_FILE=$APP/src/production_control/app.py
[ -f "$APP_FILE" ] || die "$APP_FILE not found"
nproc=$(nproc)

# --- the machine ----------------------------------------------------------------
git_rev() {  # `git rev-parse --short HEAD`, read from .git without running git
    local g=$repo/.git head ref sha=""
    [ -f "$g/HEAD" ] || { echo unknown; return; }
    head=$(cat "$g/HEAD")
    case $head in
        "ref: "*) ref=${head#ref: }
                  if [ -f "$g/$ref" ]; then sha=$(cat "$g/$ref")
                  elif [ -f "$g/packed-refs" ]; then sha=$(awk -v r="$ref" '$2 == r { print $1 }' "$g/packed-refs"); fi ;;
        *) sha=$head ;;
    esac
    [ -n "$sha" ] && echo "${sha:0:7}" || echo unknown
}
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
dev=$(df --output=source "$BENCH_DIR" | tail -1)
disk=$(lsblk -no PKNAME "$dev" 2>/dev/null | head -1)
[ -n "$disk" ] || disk=$(basename "$dev")
{
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc=$nproc"
    echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "cpu_mhz=$(awk -F': ' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)"
    echo "cpu_flags_sha_ni=$(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no)"
    echo "hypervisor=$(grep -qw hypervisor /proc/cpuinfo && echo yes || echo no) ($(systemd-detect-virt 2>/dev/null || echo unknown))"
    echo "ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "disk=$disk ($(sed -n 1p "/sys/block/$disk/queue/rotational" 2>/dev/null | sed 's/1/rotational flag 1/; s/0/rotational flag 0 (SSD)/'), $(readlink -f "/sys/block/$disk/device/driver" 2>/dev/null | xargs -r basename || echo '?') driver), fs $(df --output=fstype "$BENCH_DIR" | tail -1)"
    # shellcheck disable=SC1091
    echo "os=$(. /etc/os-release && echo "$PRETTY_NAME") (debian_version $(cat /etc/debian_version 2>/dev/null))"
    echo "kernel=$(uname -r)"
    echo "zlib=$(pkgver zlib1g)"
    echo "libarchive=$(pkgver libarchive13)"
    echo "openssl=$(pkgver libssl3)"
    echo "derrick=$("$D" --version 2>&1 | head -1)"
    echo "derrick_rev=$(git_rev)"
    echo "derrick_sha256=$(sha256sum "$D" | cut -c1-16)"
    echo "derrick_mtime=$(date -u -r "$DERRICK" +%Y-%m-%dT%H:%M:%SZ)"
    echo "derrick_flags=$DERRICK_FLAGS"
    echo "tar=$(tar --version | head -1)"
    echo "gzip=$(gzip --version | head -1)"
    echo "pigz=$(pigz --version 2>&1 | head -1 || echo none)"
    echo "umoci=$(umoci --version 2>/dev/null | head -1 || echo none)"
    echo "hyperfine=$(hyperfine --version 2>/dev/null || echo none)"
    echo "runs=$BENCH_RUNS"
    echo "warmup=$BENCH_WARMUP"
    echo "rss_runs=$BENCH_RSS_RUNS"
    echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$results/machine.txt"
# CPU time of the whole machine (/proc/stat: user nice system irq softirq steal,
# in USER_HZ ticks) against the benchmark's own, to see other load.
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
snap_cpu() { times >"$results/.times"; }  # in this shell: a $(...) subshell counts only its own children
read_cpu() {  # user+sys seconds of this shell's finished children, from snap_cpu
    tail -1 "$results/.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } print s }'
}
snap_cpu; self0=$(read_cpu); busy0=$(busy); t0=$(date +%s)

# --- the cases --------------------------------------------------------------------
q() { printf '%q' "$1"; }
TAR="tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C $(q "$SP") ."
DB="SOURCE_DATE_EPOCH=0 $(q "$D") build -q $DERRICK_FLAGS"
cases=$results/cases.tsv
: >"$cases"
add() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$cases"; }
# E first: umoci insert --rootless (case D) chmods and re-times every file of
# the tree it inserts, which moves their ctime and so invalidates derrick's
# stat records; the warm build must run right after the cache is filled.
edit="printf '# bench edit %s\\n' \"\$(date +%s%N)\" >>$(q "$APP_FILE")"
add "E cold" "rm -rf $(q "$work/e-cold") && $edit" \
    "$DB --no-cache --version 1.0.0 -f $(q "$APP/derrick.json") -o oci:$(q "$work/e-cold"):bench"
add "E warm" "rm -rf $(q "$work/e-warm") && $edit" \
    "$DB --cache-dir $(q "$work/cache") --version 1.0.0 -f $(q "$APP/derrick.json") -o oci:$(q "$work/e-warm"):bench"

add "A derrick" "rm -rf $(q "$work/a")" \
    "$DB --no-cache -f $(q "$BENCH_DIR/layer-site-packages.json") -o oci:$(q "$work/a"):bench"
add "B tar|gzip" "true" "$TAR | gzip -6 -n | sha256sum"
if command -v pigz >/dev/null; then
    add "C tar|pigz" "true" "$TAR | pigz -6 -n -p $nproc | sha256sum"
else say "pigz not installed: case C skipped"; fi
if command -v umoci >/dev/null; then
    add "D umoci" "rm -rf $(q "$work/d")" \
        "umoci init --layout $(q "$work/d") && umoci new --image $(q "$work/d"):bench && umoci insert --rootless --image $(q "$work/d"):bench $(q "$SP") $TREE_DEST"
else say "umoci not installed: case D skipped"; fi
# Fill the build cache used by "E warm" (a first build of the example).
say "filling the build cache for E warm"
(eval "$DB --cache-dir $(q "$work/cache") --version 1.0.0 -f $(q "$APP/derrick.json") -o oci:$(q "$work/e-warm"):bench") ||
    die "first build of the example failed"

timer=${BENCH_TIMER:-$(command -v hyperfine >/dev/null && echo hyperfine || echo python)}
say "timing $(wc -l <"$cases") cases with $timer: $BENCH_WARMUP warm-up + $BENCH_RUNS runs each"
if [ "$timer" = hyperfine ]; then
    args=()
    while IFS=$'\t' read -r name prep cmd; do
        args+=(-n "$name" --prepare "$prep" "$cmd")
    done <"$cases"
    hyperfine --shell=bash --warmup "$BENCH_WARMUP" --runs "$BENCH_RUNS" \
        --export-json "$results/times.json" --export-markdown "$results/hyperfine.md" \
        "${args[@]}" >&2
else
    "$PYTHON" "$here/timeit.py" --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" \
        --export-json "$results/times.json" "$cases"
fi

# --- output sizes -------------------------------------------------------------------
say "measuring output sizes"
size_a=$("$PYTHON" "$here/layers.py" "$work/a" bench)
size_d=null
[ -d "$work/d" ] && size_d=$("$PYTHON" "$here/layers.py" "$work/d" bench)
size_tar=$(eval "$TAR" | wc -c)
size_b=$(eval "$TAR" | gzip -6 -n | wc -c)
size_c=null
command -v pigz >/dev/null && size_c=$(eval "$TAR" | pigz -6 -n -p "$nproc" | wc -c)

# --- F: peak RSS on 1 GiB of incompressible data (and on case A's tree) ----------------
rss_run() {  # NAME SPEC: one /usr/bin/time -v run into $results/rss-NAME-i.txt
    local name=$1 spec=$2 i
    for i in $(seq 1 "$3"); do
        rm -rf "${work:?}/$name"
        # shellcheck disable=SC2086 # DERRICK_FLAGS is a list of words
        env SOURCE_DATE_EPOCH=0 /usr/bin/time -v -o "$results/rss-$name-$i.txt" \
            "$D" build -q $DERRICK_FLAGS --no-cache -f "$spec" -o "oci:$work/$name:bench" ||
            die "derrick build of $spec failed"
    done
}
if [ -x /usr/bin/time ]; then
    say "F: peak RSS building $(du -sh "$BENCH_DIR/big" | cut -f1) of incompressible data ($BENCH_RSS_RUNS run(s))"
    cat "$BENCH_DIR"/big/* >/dev/null   # warm the page cache, as for the other cases
    rss_run f "$BENCH_DIR/layer-big.json" "$BENCH_RSS_RUNS"
    size_f=$("$PYTHON" "$here/layers.py" "$work/f" bench)
    say "peak RSS of case A's build (1 run, for reference)"
    rss_run a-rss "$BENCH_DIR/layer-site-packages.json" 1
else
    say "/usr/bin/time not installed (apt-get install time): case F skipped"
    size_f=null
fi
big_bytes=$(du -sb --apparent-size "$BENCH_DIR/big" | cut -f1)

cat >"$results/sizes.json" <<EOF
{"tar": $size_tar, "A": $size_a, "B": $size_b, "C": $size_c, "D": $size_d, "F": $size_f, "big_bytes": $big_bytes}
EOF

snap_cpu; self1=$(read_cpu)
{
    echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    awk -v b0="$busy0" -v b1="$(busy)" -v s0="$self0" -v s1="$self1" -v hz="$(getconf CLK_TCK)" \
        -v t="$(( $(date +%s) - t0 ))" 'BEGIN {
            all = (b1 - b0) / hz; own = s1 - s0
            printf "cpu_busy_total=%.0f s over %d s wall (%.0f%% of %d cpus)\n", all, t, 100 * all / (t * '"$nproc"'), '"$nproc"'
            printf "cpu_other=%.0f s (machine busy time not spent by the benchmark)\n", all - own
        }'
} >>"$results/machine.txt"
rm -f "$results/.times"
"$PYTHON" "$here/report.py" "$results"
say "results in $results"
