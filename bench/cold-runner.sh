#!/usr/bin/env bash
# The CI case (issue: "CI runners start cold"): the three-stage example built
# on a runner with an empty local cache and a fresh checkout, with a warm
# registry cache, against the same build with no cache at all, and against
# the floor a fresh checkout cannot avoid: reading the inputs,
#   tar --sort=name -cf - SOURCES | sha256sum
# Medians over BENCH_RUNS runs (default 5) after a warm-up, side by side.
#
# Env: BENCH_DIR (default /var/tmp/derrick-bench), BENCH_RUNS, DERRICK.
# Needs the data set of bench/prepare.sh, hyperfine and docker-registry.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export TOP_SRCDIR=$repo DERRICK=${DERRICK:-$repo/derrick}
BENCH_DIR=${BENCH_DIR:-/var/tmp/derrick-bench}
RUNS=${BENCH_RUNS:-5}
"$here/prepare.sh" >/dev/null
# a registry on 127.0.0.1, started and stopped like the test suite's
. "$repo/tests/lib/e2e.sh" >/dev/null
. "$repo/tests/lib/registry.sh"
registry_start bench plain >/dev/null || exit 1
R=$BENCH_ADDR
APP=$BENCH_DIR/app
W=$T/work
mkdir -p "$W"
cp "$DERRICK" "$W/derrick"
D=$W/derrick
SP=$(readlink -f "$APP/build/site-packages")

# The fresh checkout of each run: new inodes and mtimes, same contents.
fresh="rm -rf $W/co $W/cache && mkdir -p $W/co/build && cp -r $APP/src $APP/rootfs $APP/derrick.json $W/co/ && cp -r $SP $W/co/build/site-packages"
build="$D build -q -f $W/co/derrick.json --version 1.0 --tls-verify=false --cache-dir $W/cache -o docker://$R/app:bench"

# job A fills the registry cache (and the registry)
bash -c "$fresh" && $build --cache-repo "docker://$R/cache"
hyperfine --runs "$RUNS" --warmup 1 --export-json "$T/cold.json" \
	--prepare "$fresh" \
	-n "cold runner, warm registry cache" "$build --cache-repo docker://$R/cache" \
	-n "cold runner, no cache" "$build --no-cache" \
	-n "floor: tar | sha256sum of the sources" "tar --sort=name -C $W/co -cf - src rootfs build/site-packages | sha256sum" \
	>&2
python3 - "$T/cold.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] for k, v in r.items()}
warm, none, floor = (med["cold runner, warm registry cache"], med["cold runner, no cache"],
                     med["floor: tar | sha256sum of the sources"])
print("| case | median (s) |\n|---|---:|")
for k, v in med.items():
    print(f"| {k} | {v:.3f} |")
print(f"\nwarm registry cache / floor = {warm / floor:.2f} (target <= 1.5)")
print(f"no cache / warm registry cache = {none / warm:.1f}x")
PY
