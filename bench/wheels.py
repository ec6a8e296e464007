#!/usr/bin/python3
"""bench/wheels.py - the wheels benchmark data set (issue #11), cached.

    /usr/bin/python3 bench/wheels.py          # or with BENCH_DIR=... (default /var/tmp/derrick-bench)

Debian 12's python3-* packages below, downloaded with apt-get (into
BENCH_DIR/debs, shared with prepare.sh) and repacked as wheels by
tests/lib/wheelkit.py: each package's /usr/lib/python3/dist-packages (a
"-lib" package joins the package it completes) becomes one wheel with a
RECORD, WHEEL and METADATA (Debian's own), tagged
cp311-cp311-manylinux_2_36_x86_64 when it holds an extension module and
py3-none-any otherwise.  Symlinks that leave the package (Debian points some
data at /etc or /usr/share) are left out and listed.  Zip entries are
written in a fixed order with SOURCE_DATE_EPOCH times, so the wheels, and
the locks' hashes, are the same on every run.

BENCH_DIR/wheels/
  data/*.whl            the wheels
  bumped/*.whl          the three "bumped" ones: BUMP_SMALL, BUMP_MID and
                        BUMP_LARGE (env; default six, cryptography, scipy)
                        with ".post1" appended to the version and one line
                        added to the package's first module (its
                        __init__.py when it has one)
  pylock.toml           all of data/, paths relative to the lock
  pylock.bumped.toml    the same with the three bumped wheels instead
  requirements.txt, requirements.bumped.txt   the same in hash-checking form
                        (for find_links: data/ and bumped/)
  SIZES                 name, wheel size, pure or platform, per wheel, and the totals
  stamp                 the recipe and the package versions it was built from

Rebuilt only when the stamp changes.  Not run by the test suite (about 1 min
and 100+ MB); nothing here times anything: the measurements belong to a
later bench/run.sh case (layers from wheels against pip install --target +
a directory layer; bytes re-uploaded after each bump, split against one
layer).
"""
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import wheelkit  # noqa: E402

RECIPE = "1"
# One wheel per line; "a+b" joins package b's files (a -lib package) to a's.
PACKAGES = """
python3-numpy
python3-scipy
python3-pandas+python3-pandas-lib
python3-matplotlib
python3-sklearn+python3-sklearn-lib
python3-skimage+python3-skimage-lib
python3-statsmodels
python3-astropy
python3-botocore
python3-sympy
python3-mpmath
python3-lxml
python3-cryptography
python3-networkx
python3-pil
python3-fonttools
python3-contourpy
python3-kiwisolver
python3-cycler
python3-dateutil
python3-tz
python3-six
python3-attr
python3-packaging
python3-pyparsing
python3-typing-extensions
python3-yaml
python3-brotli
python3-lz4
python3-jinja2
python3-markupsafe
python3-idna
python3-certifi
python3-urllib3
python3-requests
python3-decorator
python3-appdirs
""".split()


def say(msg):
    print("wheels: " + msg, file=sys.stderr, flush=True)


def candidates(pkgs):
    out = subprocess.run(["apt-cache", "policy"] + pkgs, check=True, capture_output=True, text=True).stdout
    vers, cur = {}, None
    for line in out.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            cur = line[:-1]
        elif line.strip().startswith("Candidate:") and cur:
            vers[cur] = line.split(":", 1)[1].strip()
    missing = [p for p in pkgs if vers.get(p, "(none)") == "(none)"]
    if missing:
        raise SystemExit("wheels: no candidate version for %s (apt-get update?)" % " ".join(missing))
    return vers


def debs_for(pkgs, vers, debs):
    """{package: .deb path}, downloading the missing ones with apt-get."""
    def find(p):
        v = vers[p].replace(":", "%3a")
        hits = sorted(glob.glob(os.path.join(debs, "%s_%s_*.deb" % (p, v))))
        return hits[0] if hits else None
    need = ["%s=%s" % (p, vers[p]) for p in pkgs if not find(p)]
    if need:
        say("downloading %d packages into %s" % (len(need), debs))
        os.makedirs(debs, exist_ok=True)
        sandbox = ["-o", "APT::Sandbox::User=root"] if os.getuid() == 0 else []
        subprocess.run(["apt-get", "-q", "-q"] + sandbox + ["download"] + need, cwd=debs, check=True,
                       stdout=subprocess.DEVNULL)
    return {p: find(p) for p in pkgs}


def build_one(line, debs, out_dir, work, version=None, change=None):
    """The wheel of one PACKAGES line (its .debs unpacked into one root); (path, skipped)."""
    parts = line.split("+")
    root = os.path.join(work, line)
    if not os.path.isdir(root):
        for p in parts:
            wheelkit.deb_extract(debs[p], root + ".tmp")
        os.replace(root + ".tmp", root)
    name, v, meta, eps, files, skipped = wheelkit.deb_python_files(root)
    if version:
        meta = re.sub(r"^Version: .+$", "Version: " + version, meta, count=1, flags=re.M)
        v = version
    if change:
        files = dict(files)
        path = change(files)
        data, mode = files[path]
        files[path] = (data + b"\n# bumped for the re-upload benchmark\n", mode)
    tag = wheelkit.platform_tag(files)
    return wheelkit.make_wheel(out_dir, name, v, tag, files, metadata=meta, entry_points=eps), skipped


def first_module(files):
    """The file a bump edits: the shortest-named __init__.py, else the first .py."""
    inits = sorted((p for p in files if p.endswith("/__init__.py")), key=lambda p: (p.count("/"), p))
    return inits[0] if inits else sorted(p for p in files if p.endswith(".py"))[0]


def main():
    bench = os.environ.get("BENCH_DIR", "/var/tmp/derrick-bench")
    top = os.path.join(bench, "wheels")
    bump_names = [os.environ.get(k, d) for k, d in (("BUMP_SMALL", "python3-six"),
                                                    ("BUMP_MID", "python3-cryptography"),
                                                    ("BUMP_LARGE", "python3-scipy"))]
    all_pkgs = sorted({p for line in PACKAGES for p in line.split("+")})
    vers = candidates(all_pkgs)
    with open(os.path.join(HERE, "..", "tests", "lib", "wheelkit.py"), "rb") as f:
        kit = wheelkit.hashlib.sha256(f.read()).hexdigest()[:16]
    want = "recipe=%s wheelkit=%s epoch=%d bumps=%s\n%s\n" % (
        RECIPE, kit, wheelkit.EPOCH, ",".join(bump_names), "\n".join("%s=%s" % (p, vers[p]) for p in all_pkgs))
    stamp = os.path.join(top, "stamp")
    if os.path.isfile(stamp) and open(stamp).read() == want:
        say("up to date: " + top)
        print(top)
        return
    debs = debs_for(all_pkgs, vers, os.path.join(bench, "debs"))
    tmp = top + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    data, bumped, work = (os.path.join(tmp, d) for d in ("data", "bumped", ".work"))
    for d in (data, bumped, work):
        os.makedirs(d)
    sizes, built, all_skipped = [], {}, []
    for line in PACKAGES:
        path, skipped = build_one(line, debs, data, work)
        built[line] = path
        all_skipped += ["%s: %s" % (line, s) for s in skipped]
        sizes.append((os.path.getsize(path), os.path.basename(path)))
    for line in bump_names:
        if line not in built:
            raise SystemExit("wheels: BUMP package %s is not in the list" % line)
        name, version, _ = wheelkit.parse_wheel_name(os.path.basename(built[line]))
        build_one(line, debs, bumped, work, version=version + ".post1", change=first_module)
    shutil.rmtree(work)
    originals = sorted(glob.glob(os.path.join(data, "*.whl")))
    bumped_files = sorted(glob.glob(os.path.join(bumped, "*.whl")))
    replaced = {os.path.abspath(built[line]) for line in bump_names}
    second = sorted([w for w in originals if os.path.abspath(w) not in replaced] + bumped_files)
    gen = "bench/wheels.py"
    wheelkit.write_pylock(os.path.join(tmp, "pylock.toml"), originals, None, gen)
    wheelkit.write_pylock(os.path.join(tmp, "pylock.bumped.toml"), second, None, gen)
    wheelkit.write_requirements(os.path.join(tmp, "requirements.txt"), originals, None, gen)
    wheelkit.write_requirements(os.path.join(tmp, "requirements.bumped.txt"), second, None, gen)
    total = sum(s for s, _ in sizes)
    pure = sum(s for s, n in sizes if n.endswith("-any.whl"))
    lines = ["%10d  %-8s  %s" % (s, "pure" if n.endswith("-any.whl") else "platform", n) for s, n in sorted(sizes)]
    lines += ["%10d  total, %d wheels (%d bytes pure, %d platform)" % (total, len(sizes), pure, total - pure)]
    lines += ["bumped: " + " ".join(os.path.basename(b) for b in bumped_files)]
    lines += ["left out (symlinks out of the package): %s" % s for s in all_skipped]
    with open(os.path.join(tmp, "SIZES"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(tmp, "stamp"), "w") as f:
        f.write(want)
    shutil.rmtree(top, ignore_errors=True)
    os.replace(tmp, top)
    say("built %s: %d wheels, %.1f MB" % (top, len(sizes), total / 1e6))
    print(top)


if __name__ == "__main__":
    main()
