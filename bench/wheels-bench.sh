#!/bin/sh
# bench/wheels-bench.sh [DERRICK] -- issue #11 on the wheels data set (bench/wheels.py):
#  1. the bytes a push re-uploads after bumping one small, mid-sized and large package,
#     "split": "auto" against "split": "none" (derrick diff's download bytes);
#  2. the time of the wheels layers (cold and warm) against pip install --target + a directory layer,
#     interleaved runs (the machine is shared: side by side is the only fair comparison).
# Env: BENCH_DIR (default /var/tmp/derrick-bench), RUNS (default 5), PY (the baseline's python,
# default python3 when it has pip), PIPFLAGS (more pip install flags, e.g. --no-compile: pip writes
# .pyc files by default, derrick does not). Results: $BENCH_DIR/wheels-bench/{bytes.tsv,times.tsv}, and on stdout.
set -eu
DERRICK=$(realpath "${1:-./derrick}")
BENCH_DIR=${BENCH_DIR:-/var/tmp/derrick-bench}
W=$BENCH_DIR/wheels
RUNS=${RUNS:-5}
PY=${PY:-python3}
$PY -m pip --version >/dev/null 2>&1 || PY=/usr/bin/python3
[ -f "$W/pylock.bumped.toml" ] || /usr/bin/python3 "$(dirname "$0")/wheels.py"
O=$BENCH_DIR/wheels-bench
rm -rf "$O" && mkdir -p "$O" && cd "$O"
ln -s "$W/data" data && ln -s "$W/bumped" bumped && cp "$W/pylock.toml" pylock.toml
export SOURCE_DATE_EPOCH=0

# One lock per bump: pylock.toml with that package's block taken from pylock.bumped.toml
# (the bumped wheel's name, path, size and sha256), every other block as it is.
/usr/bin/python3 - "$W" <<'EOF'
import re, sys
W = sys.argv[1]
def blocks(path):
    parts = open(path).read().split("\n[[packages]]\n")
    return parts[0], {re.search(r'^name = "([^"]+)"', b, re.M).group(1): b for b in parts[1:]}
head, old = blocks(W + "/pylock.toml")
_, new = blocks(W + "/pylock.bumped.toml")
for pkg in ("six", "cryptography", "scipy"):
    assert old[pkg] != new[pkg], pkg
    body = [new[n] if n == pkg else old[n] for n in old]
    open("pylock.%s.toml" % pkg, "w").write("\n[[packages]]\n".join([head] + body))
EOF

spec() { # LOCK SPLIT
	printf '{ "base": "scratch", "stages": [ { "name": "deps", "layers": [ { "wheels": {
  "lock": "%s", "python": "3.11", "libc": "glibc 2.36", "split": "%s" } } ] } ] }\n' "$1" "$2"
}
build() { # SPEC OUT [ARGS...]
	f=$1 o=$2 && shift 2
	"$DERRICK" build -q --platform linux/amd64 -f "$f" -o "oci:$o" "$@"
}

# 1. Bytes re-uploaded.
total=$(awk '/ total, /{print $1}' "$W/SIZES")
printf 'split\tbump\tlayers_old\tlayers_new\tnew_layers\tdownload_bytes\tshare_of_wheels\tshare_of_image\n' >bytes.tsv
for split in auto none; do
	spec pylock.toml $split >"d-$split.json"
	build "d-$split.json" "img-$split-base" --cache-dir cache
	for pkg in six cryptography scipy; do
		spec "pylock.$pkg.toml" $split >"d-$split-$pkg.json"
		build "d-$split-$pkg.json" "img-$split-$pkg" --cache-dir cache
		"$DERRICK" diff --platform linux/amd64 --json "oci:img-$split-base" "oci:img-$split-$pkg" >"diff-$split-$pkg.json"
		/usr/bin/python3 - "diff-$split-$pkg.json" "$split" "$pkg" "$total" "img-$split-base" "img-$split-$pkg" >>bytes.tsv <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
split, pkg, total = sys.argv[2], sys.argv[3], int(sys.argv[4])
def manifest(layout):
    idx = json.load(open(layout + "/index.json"))
    dg = idx["manifests"][0]["digest"].split(":")[1]
    return json.load(open(layout + "/blobs/sha256/" + dg))
mo, mn = manifest(sys.argv[5]), manifest(sys.argv[6])
old = {l["digest"] for l in mo["layers"]}
fresh = [l for l in mn["layers"] if l["digest"] not in old]
image = sum(l["size"] for l in mn["layers"])
dl = d["download_bytes"]
assert dl == sum(l["size"] for l in fresh), (dl, fresh)
print("%s\t%s\t%d\t%d\t%d\t%d\t%.1f%%\t%.1f%%" % (split, pkg, len(mo["layers"]), len(mn["layers"]),
      len(fresh), dl, 100.0 * dl / total, 100.0 * dl / image))
EOF
	done
done
cat bytes.tsv

# 2. Time, interleaved: each round runs every case once, in turn.
printf '{ "base": "scratch", "stages": [ { "name": "deps", "layers": [
  { "source": "site", "dest": "/usr/local/lib/python3.11/site-packages" } ] } ] }\n' >d-dir.json
build d-auto.json warm-img --cache-dir tcache # fills the cache the warm case hits
cold() { rm -rf t-img && build d-auto.json t-img --no-cache; }
warm() { rm -rf t-img && build d-auto.json t-img --cache-dir tcache; }
# shellcheck disable=SC2086 # PIPFLAGS is a list of flags
pipdir() {
	rm -rf site t-img && $PY -m pip install -q ${PIPFLAGS:-} --no-index --no-deps --target site data/*.whl &&
		build d-dir.json t-img --no-cache
}
printf 'case\trun\tseconds\n' >times.tsv
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	for c in cold warm pipdir; do
		t0=$(date +%s%N) && { $c >/dev/null || { echo "$c failed" >&2; exit 1; }; } && t1=$(date +%s%N)
		printf '%s\t%d\t%s\n' $c $i "$(echo "scale=3; ($t1 - $t0) / 1000000000" | bc)" >>times.tsv
	done
done
/usr/bin/python3 - <<'EOF'
import csv, statistics
t = {}
for r in csv.DictReader(open("times.tsv"), delimiter="\t"):
    t.setdefault(r["case"], []).append(float(r["seconds"]))
base = statistics.median(t["pipdir"])
for c, v in t.items():
    m = statistics.median(v)
    print("%-7s median %7.2f s  min %7.2f  max %7.2f  (%d runs)  x%.2f of pip+dir" % (c, m, min(v), max(v), len(v), m / base))
EOF
