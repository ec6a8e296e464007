#!/usr/bin/env bash
# Reading a big base layer for its map (what placing a layer and "delete" need of
# the layers below): a Debian root (tests/lib/debian-root.sh) as a one-layer base,
# and a build of one small layer on it with --no-cache, so that every run reads the
# base layer (decompress, SHA-256, tar) once.  Two binaries side by side in one
# hyperfine run: bench/base-map.sh OLD_DERRICK NEW_DERRICK (one binary also works).
#
# Env: BENCH_DIR (default /var/tmp/derrick-bench), BENCH_RUNS (default 15),
#      BENCH_WARMUP (default 2).  Results: $BENCH_DIR/base-map/hyperfine.json.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
dir=${BENCH_DIR:-/var/tmp/derrick-bench}/base-map
runs=${BENCH_RUNS:-15}
warmup=${BENCH_WARMUP:-2}
(($# >= 1)) || { echo "usage: $0 DERRICK [DERRICK...]" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "base-map: hyperfine is needed" >&2; exit 1; }

root=$("$repo/tests/lib/debian-root.sh" | tail -n 1)
mkdir -p "$dir/app"
cd "$dir"
if [[ ! -s root.tar ]]; then
	tar --sort=name --numeric-owner -C "$root" -cf root.tar.tmp . && mv root.tar.tmp root.tar
fi
echo hi >app/x
printf '{ "stages": [ { "name": "root", "layers": [ { "tar": "root.tar", "dest": "/" } ] } ] }\n' >root.json
printf '{ "base": "oci:%s/base:1", "stages": [ { "name": "app", "layers": [ { "source": "app", "dest": "/opt/app" } ] } ] }\n' \
	"$dir" >app.json
[[ -d base ]] || SOURCE_DATE_EPOCH=0 "$1" build -q --no-cache -f root.json -o oci:"$dir/base":1
echo "base-map: base layer $(du -b base/blobs/sha256/* | sort -n | tail -n 1 | cut -f1) bytes gzip, root.tar $(stat -c %s root.tar) bytes, $(tar -tf root.tar | wc -l) entries" >&2

cmds=()
for d in "$@"; do
	cmds+=(-n "$d" "$d build -q --no-cache -f app.json -o oci:$dir/out:1")
done
hyperfine --shell=bash -w "$warmup" -r "$runs" --prepare "rm -rf $dir/out" --export-json hyperfine.json "${cmds[@]}"
python3 - hyperfine.json <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']}: median {r['median']:.3f} s, user {r['user']:.3f} s, system {r['system']:.3f} s")
PY
