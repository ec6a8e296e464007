#!/usr/bin/env python3
"""Fallback timer for bench/run.sh when hyperfine is not installed.

usage: timeit.py --runs N --warmup W --export-json FILE CASES.tsv

CASES.tsv has one case per line: NAME<TAB>PREPARE<TAB>COMMAND. For each case,
W warm-up runs, then N timed runs; PREPARE runs (untimed) before every run,
warm-ups included, like hyperfine --prepare. Commands run under bash -c.
Wall time is measured around COMMAND only; user/system CPU time comes from
getrusage(RUSAGE_CHILDREN) deltas around it. Writes a JSON file shaped like
hyperfine's --export-json (results[].command/mean/stddev/median/user/system/
min/max/times), so bench/report.py reads either.
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def sh(cmd):
    subprocess.run(["bash", "-c", cmd], check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--export-json", required=True)
    ap.add_argument("cases")
    a = ap.parse_args()

    results = []
    with open(a.cases) as f:
        cases = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for name, prepare, command in cases:
        print(f"Benchmark: {name}", file=sys.stderr)
        for _ in range(a.warmup):
            sh(prepare)
            sh(command)
        times, users, systems = [], [], []
        for i in range(a.runs):
            sh(prepare)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            sh(command)
            t1 = time.perf_counter()
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append(t1 - t0)
            users.append(r1.ru_utime - r0.ru_utime)
            systems.append(r1.ru_stime - r0.ru_stime)
            print(f"  run {i + 1}/{a.runs}: {t1 - t0:.3f} s", file=sys.stderr)
        results.append({
            "command": name,
            "mean": statistics.mean(times),
            "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
            "median": statistics.median(times),
            "user": statistics.mean(users),
            "system": statistics.mean(systems),
            "min": min(times),
            "max": max(times),
            "times": times,
        })
        print(f"  median {results[-1]['median']:.3f} s", file=sys.stderr)
    with open(a.export_json, "w") as f:
        json.dump({"results": results}, f, indent=2)


if __name__ == "__main__":
    main()
