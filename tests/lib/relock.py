#!/usr/bin/python3
"""relock.py LOCK_IN LOCK_OUT SRC DST [--version NEW] [--pad BYTES] [--rezip]: another wheel and its lock.

Writes DST, the wheel SRC made over (tests/lib/wheelkit.py: RECORD regenerated),
with --version NEW its version bumped (file names, .dist-info, METADATA), with
--pad BYTES an incompressible member of that size added (so that the split counts
it as large); or with --rezip the same members, bytes and RECORD zipped again in
the reverse order with other times (tests/lib/wheels.py's write_zip); and LOCK_OUT, the pylock.toml LOCK_IN with SRC's entry pointing at
DST (its path, sha256 and version; its size left out).  For wheels_build.sh.
"""
import argparse
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wheelkit  # noqa: E402
import wheels  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    for a in ("lock_in", "lock_out", "src", "dst"):
        ap.add_argument(a)
    ap.add_argument("--version")
    ap.add_argument("--pad", type=int, default=0)
    ap.add_argument("--rezip", action="store_true")
    o = ap.parse_args()
    dist, old = os.path.basename(o.src).split("-")[:2]
    new = o.version or old
    os.makedirs(os.path.dirname(o.dst) or ".", exist_ok=True)
    if o.rezip:
        members = wheels.read_members(o.src)
        wheels.write_zip(o.dst, members, date_time=(2011, 11, 11, 11, 11, 12), order=members[::-1])
    else:
        rewrite(o, dist, old, new)
    relock(o, dist, old, new)


def rewrite(o, dist, old, new):
    entries = []
    for name, data, mode in wheelkit.read_wheel(o.src):
        if name.endswith(".dist-info/RECORD"):
            continue
        name = name.replace("%s-%s." % (dist, old), "%s-%s." % (dist, new))
        if name.endswith(".dist-info/METADATA"):
            data = data.replace(b"Version: " + old.encode(), b"Version: " + new.encode())
        entries.append((name, data, mode))
    if o.pad:
        chunks, h = [], b"pad"
        for _ in range(o.pad // 64 + 1):
            h = hashlib.sha512(h).digest()
            chunks.append(h)
        entries.append(("%s_pad.bin" % dist, b"".join(chunks)[:o.pad], 0o644))
    wheelkit.write_zip(o.dst, wheelkit.with_record(entries, "%s-%s.dist-info" % (dist, new)))


def relock(o, dist, old, new):
    t = open(o.lock_in).read()
    src_rel, dst_rel = os.path.relpath(o.src), os.path.relpath(o.dst)
    t = t.replace(wheelkit.sha256_file(o.src), wheelkit.sha256_file(o.dst))
    t = t.replace('"%s"' % os.path.basename(o.src), '"%s"' % os.path.basename(o.dst))
    t = t.replace('path = "%s"' % src_rel, 'path = "%s"' % dst_rel)
    t = re.sub(r'(path = "%s"\n)size = \d+\n' % re.escape(dst_rel), r"\1", t)
    if new != old:
        pkg = re.sub(r"[-_.]+", "-", dist).lower()
        t = re.sub(r'(name = "%s"\nversion = )"%s"' % (re.escape(pkg), re.escape(old)), r'\1"%s"' % new, t)
    open(o.lock_out, "w").write(t)


if __name__ == "__main__":
    main()
