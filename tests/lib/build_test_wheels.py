#!/usr/bin/python3
"""build_test_wheels.py OUT DEB_CACHE - the wheels derrick's tests install, built offline.

Run by tests/lib/test-wheels.sh (which caches OUT); Debian's /usr/bin/python3
with its setuptools and wheel packages, no network but the apt mirror.

OUT/wheels/      the wheels of the main lock:
  dk_entry_points-1.0.0-py3-none-any.whl   console_scripts and gui_scripts (one with a dotted attribute)
  dk_data_files-2.1-py3-none-any.whl       .data/scripts ("#!python"), .data/data, .data/headers
  dk_cext-0.3.0-cp311-cp311-manylinux_2_17_x86_64.whl
        a C extension built here; setuptools names it linux_x86_64, and it is
        retagged (file name and WHEEL's Tag) as auditwheel would name it: a
        plain relabel, nothing bundled (it needs nothing beyond libc)
  dk_ns_one-1.0-py3-none-any.whl, dk_ns_two-1.0-py3-none-any.whl
        two halves of the PEP 420 namespace package dkns/
  PyYAML-6.0-cp311-cp311-manylinux_2_36_x86_64.whl, ..._aarch64.whl
        Debian's python3-yaml for amd64 and arm64, repacked: the same pure
        Python yaml/ and _yaml/, and each architecture's real _yaml .so
        (which links Debian's libyaml-0.so.2: a real manylinux wheel bundles
        it; yaml falls back to pure Python without it)
OUT/extra/       dk_cext-0.3.0-cp311-cp311-linux_x86_64.whl, as setuptools wrote it
OUT/clash/       dk_clash_a-1.0, dk_clash_b-1.0: both install dkclash.py
OUT/pylock.toml, OUT/requirements.txt             the main wheels (dk-cext with the
                 marker platform_machine == "x86_64"); hashes of the files built here
OUT/pylock.clash.toml, OUT/requirements.clash.txt the two clashing wheels
OUT/SHA256SUMS   every file above
"""
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wheelkit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECTS = os.path.join(HERE, "..", "..", "testdata", "python", "projects")
MARKERS = {"dk-cext": 'platform_machine == "x86_64"'}


def build_project(name, build_root, out):
    """setup.py bdist_wheel of testdata project `name` in a copy under build_root; the wheel's path."""
    src = os.path.join(build_root, name)
    shutil.copytree(os.path.join(PROJECTS, name), src)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(wheelkit.EPOCH), PYTHONDONTWRITEBYTECODE="1",
               # no debug info and no build path in the objects: the .so is the same on every run
               CFLAGS="-g0 -ffile-prefix-map=%s=." % src, LC_ALL="C")
    before = set(os.listdir(out))
    subprocess.run(["/usr/bin/python3", "setup.py", "-q", "bdist_wheel", "-d", out], cwd=src, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new = sorted(set(os.listdir(out)) - before)
    assert len(new) == 1, (name, new)
    return os.path.join(out, new[0])


def main():
    out, deb_cache = sys.argv[1], sys.argv[2]
    build_root = os.path.join(out, ".build")
    wheels, extra, clash = (os.path.join(out, d) for d in ("wheels", "extra", "clash"))
    for d in (build_root, wheels, extra, clash):
        os.makedirs(d)
    for p in ("entry-points", "data-files", "ns-one", "ns-two"):
        build_project(p, build_root, wheels)
    for p in ("clash-a", "clash-b"):
        build_project(p, build_root, clash)
    raw = build_project("cext", build_root, extra)
    wheelkit.retag(raw, wheels, "manylinux_2_17_x86_64")

    debs = wheelkit.apt_download(["python3-yaml:amd64", "python3-yaml:arm64"], os.path.join(deb_cache, "debs"),
                                 os.path.join(deb_cache, "apt-state"))
    for spec in sorted(debs):
        _, skipped = wheelkit.repack_deb(debs[spec], wheels, build_root)
        assert not skipped, skipped
    shutil.rmtree(build_root)

    main_wheels = sorted(glob.glob(os.path.join(wheels, "*.whl")))
    clash_wheels = sorted(glob.glob(os.path.join(clash, "*.whl")))
    gen = "tests/lib/build_test_wheels.py"
    wheelkit.write_pylock(os.path.join(out, "pylock.toml"), main_wheels, MARKERS, gen)
    wheelkit.write_requirements(os.path.join(out, "requirements.txt"), main_wheels, MARKERS, gen)
    wheelkit.write_pylock(os.path.join(out, "pylock.clash.toml"), clash_wheels, None, gen)
    wheelkit.write_requirements(os.path.join(out, "requirements.clash.txt"), clash_wheels, None, gen)
    sums = []
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames.sort()
        for fn in sorted(filenames):
            p = os.path.join(dirpath, fn)
            sums.append("%s  %s" % (wheelkit.sha256_file(p), os.path.relpath(p, out)))
    with open(os.path.join(out, "SHA256SUMS"), "w") as f:
        f.write("\n".join(sums) + "\n")


if __name__ == "__main__":
    main()
