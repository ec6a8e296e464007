#!/usr/bin/env python3
"""Turn a bench/run.sh results directory into the summary table.

usage: report.py RESULTS_DIR

Reads cases.tsv, times.json (hyperfine --export-json, or timeit.py's),
sizes.json, machine.txt and rss-*.txt; prints the table and writes it to
RESULTS_DIR/summary.txt, a Markdown version to summary.md and the numbers to
summary.json.
"""
import glob
import json
import os
import re
import sys

TARGETS = {
    "B/A": 1.8,         # derrick at least 1.8x faster than tar | gzip -6
    "C/A": 1.0,         # at least as fast as tar | pigz -6 -p nproc ...
    "size_slack": 1.005,  # ... at an equal (within 0.5 %) or smaller size
    "warm/cold": 0.05,  # a warm rebuild costs under 5 % of a cold one
    "rss_mib": 64,      # peak RSS building a 1 GiB layer
}

LABELS = {
    "A": "A  derrick build --no-cache, site-packages layer",
    "B": "B  tar --sort=name ... | gzip -6 -n | sha256sum",
    "C": "C  tar --sort=name ... | pigz -6 -n -p NPROC | sha256sum",
    "D": "D  umoci init + new + insert --rootless",
    "E cold": "E  cold: derrick build --no-cache, example (3 layers)",
    "E warm": "E  warm: derrick build, filled cache, 1 file changed",
}


def load_kv(path):
    kv = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                kv[k] = v
    return kv


def time_v(path):
    """Max RSS (KiB) and wall seconds from a GNU time -v report."""
    rss = wall = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Maximum resident set size"):
                rss = int(line.rsplit(":", 1)[1])
            elif line.startswith("Elapsed (wall clock) time"):
                t = line.rsplit(" ", 1)[1].split(":")
                wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(t)))
    return rss, wall


def mb(n):
    return f"{n / 1e6:.2f} MB" if n is not None else "-"


def main():
    d = sys.argv[1]
    m = load_kv(os.path.join(d, "machine.txt"))
    with open(os.path.join(d, "cases.tsv")) as f:
        names = [line.split("\t", 1)[0] for line in f if line.strip()]
    with open(os.path.join(d, "times.json")) as f:
        res = json.load(f)["results"]
    with open(os.path.join(d, "sizes.json")) as f:
        sizes = json.load(f)
    # Cases are matched by order (hyperfine keeps the command order).
    times = {}
    for name, r in zip(names, res):
        key = name.split(" ", 1)[0] if not name.startswith("E ") else name
        times[key] = r

    def layer_size(v):
        return v["total"] if isinstance(v, dict) else v

    size = {k: layer_size(sizes.get(k)) for k in ("A", "B", "C", "D", "F")}

    rss_f = [time_v(p) for p in sorted(glob.glob(os.path.join(d, "rss-f-*.txt")))]
    rss_a = [time_v(p) for p in sorted(glob.glob(os.path.join(d, "rss-a-rss-*.txt")))]

    out = []
    p = out.append
    p(f"derrick benchmark: {m.get('derrick')} (rev {m.get('derrick_rev')}), "
      f"DERRICK_FLAGS='{m.get('derrick_flags', '')}', {m.get('date')}")
    p(f"machine: {m.get('nproc')} x {m.get('cpu')}, RAM {m.get('ram')}, {m.get('os')}, "
      f"zlib {m.get('zlib')}, libarchive {m.get('libarchive')}")
    p(f"timing: {m.get('runs')} runs after {m.get('warmup')} warm-up, median; "
      f"uncompressed tar of the tree: {mb(sizes.get('tar'))}; "
      f"load average at start {m.get('loadavg_start')}, at end {m.get('loadavg_end')}")
    p(f"CPU: {m.get('cpu_busy_total')}; other processes: {m.get('cpu_other')}")
    p("")
    hdr = f"{'case':<58} {'median s':>9} {'min s':>8} {'max s':>8} {'cpu s':>7}  {'output':>10}"
    p(hdr)
    p("-" * len(hdr))
    rows = []
    for key in ("A", "B", "C", "D", "E cold", "E warm"):
        r = times.get(key)
        if r is None:
            continue
        cpu = (r.get("user") or 0) + (r.get("system") or 0)
        out_size = size.get(key)
        label = LABELS[key].replace("NPROC", m.get("nproc", "?"))
        p(f"{label:<58} {r['median']:>9.3f} {r['min']:>8.3f} {r['max']:>8.3f} {cpu:>7.2f}  "
          f"{mb(out_size) if out_size else '':>10}")
        rows.append({"case": key, "label": label, "median": r["median"], "min": r["min"],
                     "max": r["max"], "cpu": cpu, "size": out_size})
    if rss_f:
        rss_kib = max(r[0] for r in rss_f)
        wall = min(r[1] for r in rss_f)
        big = sizes.get("big_bytes") or 0
        label = f"F  derrick build --no-cache, {big / 2**30:.2f} GiB random data"
        p(f"{label:<58} {wall:>9.3f} {'':>8} {'':>8} {'':>7}  {mb(size.get('F')):>10}")
    p("")

    summary = {"machine": m, "sizes": sizes, "cases": rows, "ratios": {}}
    verdicts = []

    def verdict(name, value, shown, target_txt, ok, why=""):
        summary["ratios"][name] = {"value": value, "target": target_txt, "met": ok}
        verdicts.append((name, shown, target_txt, "met" if ok else "MISSED", why))

    if "A" in times and "B" in times:
        v = times["B"]["median"] / times["A"]["median"]
        verdict("B/A", v, f"{v:.2f}", f">= {TARGETS['B/A']}", v >= TARGETS["B/A"],
                "time of tar|gzip over derrick's")
    if "A" in times and "C" in times:
        v = times["C"]["median"] / times["A"]["median"]
        sr = size["A"] / size["C"] if size.get("A") and size.get("C") else None
        ok = v >= TARGETS["C/A"] and sr is not None and sr <= TARGETS["size_slack"]
        verdict("C/A", v, f"{v:.2f}", f">= {TARGETS['C/A']} at size A/C <= {TARGETS['size_slack']}",
                ok, f"size A/C = {sr:.4f}" if sr else "")
    if "A" in times and "D" in times:
        v = times["D"]["median"] / times["A"]["median"]
        verdict("D/A", v, f"{v:.2f}", "(no target)", True,
                f"umoci's layer is {size['D'] / size['A']:.3f}x derrick's size" if size.get("D") and size.get("A") else "")
        summary["ratios"]["D/A"]["met"] = None
    if "E cold" in times and "E warm" in times:
        v = times["E warm"]["median"] / times["E cold"]["median"]
        verdict("warm/cold E", v, f"{100 * v:.1f} %", f"< {100 * TARGETS['warm/cold']:.0f} %",
                v < TARGETS["warm/cold"],
                f"{times['E warm']['median'] * 1000:.0f} ms vs {times['E cold']['median']:.2f} s")
    if rss_f:
        v = max(r[0] for r in rss_f) / 1024
        wall = min(r[1] for r in rss_f)
        big = sizes.get("big_bytes") or 0
        verdict("F peak RSS", v, f"{v:.1f} MiB", f"< {TARGETS['rss_mib']} MiB", v < TARGETS["rss_mib"],
                f"{wall:.1f} s, {big / wall / 1e6:.0f} MB/s" if wall else "")
        summary["rss_f_kib"] = [r[0] for r in rss_f]
        summary["rss_f_wall"] = [r[1] for r in rss_f]
    if rss_a:
        summary["rss_a_kib"] = rss_a[0][0]

    p(f"{'ratio':<14} {'value':>10}  {'target':<32} {'verdict':<7}  note")
    for name, shown, target_txt, ok, why in verdicts:
        if target_txt == "(no target)":
            ok = "-"
        p(f"{name:<14} {shown:>10}  {target_txt:<32} {ok:<7}  {why}")
    if rss_a:
        p(f"(peak RSS of case A's build: {rss_a[0][0] / 1024:.1f} MiB)")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(d, "summary.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)

    def esc(t):
        return str(t).replace("|", "\\|")

    md = ["| case | median (s) | min (s) | max (s) | CPU user+sys (s) | output |",
          "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        md.append(f"| {esc(r['label'])} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | "
                  f"{r['cpu']:.2f} | {mb(r['size']) if r['size'] else ''} |")
    if rss_f:
        md.append(f"| F  derrick build --no-cache, {big / 2**30:.2f} GiB random data (1 run) | "
                  f"{min(r[1] for r in rss_f):.3f} | | | | {mb(size.get('F'))} |")
    md += ["", "| ratio | value | target | verdict | note |", "|---|---:|---|---|---|"]
    for name, shown, target_txt, ok, why in verdicts:
        md.append(f"| {name} | {shown} | {target_txt} | {'-' if target_txt == '(no target)' else ok} | {esc(why)} |")
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
