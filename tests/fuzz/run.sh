#!/usr/bin/env bash
# tests/fuzz/run.sh - run the fuzz targets built by `make fuzz`.
#
#   tests/fuzz/run.sh [-t SECONDS] [-o OUTDIR] [TARGET...]
#
# For each target (all when none is named): every committed reproducer in
# regressions/TARGET/ is run once, then the target fuzzes for SECONDS
# (default 5) starting from the seeds in corpus/TARGET/.  New inputs go to
# OUTDIR/TARGET (default: a temporary directory removed afterwards), never
# into the committed corpus; a crash's input lands in OUTDIR (with the
# target's log) or the current directory as fuzz_TARGET-crash-*.  Prints one TAP line per target and the libFuzzer
# statistics of the run ("stat: ..."); exits 1 when a target failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${FUZZ_BIN:-$(pwd)/build-fuzz}
secs=5 outdir=
while getopts t:o: opt; do
	case $opt in
	t) secs=$OPTARG ;;
	o) outdir=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in "$here"/fuzz_*.c; do
		t=${f##*/fuzz_}
		targets+=("${t%.c}")
	done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
echo "1..${#targets[@]}"
for t in "${targets[@]}"; do
	n=$((n + 1))
	exe=$bin/fuzz_$t
	if [[ ! -x $exe ]]; then
		echo "not ok $n - fuzz_$t: $exe not built (make fuzz)"
		failed=$((failed + 1))
		continue
	fi
	log=$tmp/$t.log
	ok=1
	regs=("$here"/regressions/"$t"/*)
	if [[ -e ${regs[0]} ]] && ! "$exe" -runs=1 "${regs[@]}" >"$log" 2>&1; then
		echo "# fuzz_$t: a committed reproducer fails again:"
		grep -E 'ERROR|SUMMARY|Running:' "$log" | tail -5 | sed 's/^/#   /'
		ok=0
	fi
	out=${outdir:+$outdir/$t}
	out=${out:-$tmp/corpus-$t}
	mkdir -p "$out"
	if ((ok)) && ! "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="${outdir:+$outdir/}fuzz_$t-" \
		"$out" "$here/corpus/$t" >"$log" 2>&1; then
		echo "# fuzz_$t crashed:"
		grep -E 'ERROR|SUMMARY|Test unit written|^#[0-9]+' "$log" | tail -8 | sed 's/^/#   /'
		ok=0
	fi
	[[ -z $outdir ]] || cp "$log" "$outdir/$t.log"
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	echo "# stat: fuzz_$t ${secs}s execs=${execs:-?} exec/s=${speed:-?} cov=$(grep -o 'cov: [0-9]*' <<<"$last" | cut -d' ' -f2) ft=$(grep -o 'ft: [0-9]*' <<<"$last" | cut -d' ' -f2)"
	if ((ok)); then
		echo "ok $n - fuzz_$t"
	else
		echo "not ok $n - fuzz_$t"
		failed=$((failed + 1))
	fi
done
((failed == 0))
