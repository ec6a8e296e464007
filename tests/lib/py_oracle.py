#!/usr/bin/python3
"""Compare derrick's Python packaging logic (tests/lib/pyprobe) with Debian's
python3-packaging 23.0, the oracle.  Run with /usr/bin/python3 (the python3 on
PATH may lack packaging): py_oracle.py PYPROBE.  Prints TAP.

packaging computes sys_tags() for the machine it runs on; for a target it is
asked through its own generators with the host facts patched in:
_manylinux._get_glibc_version, _musllinux._get_musl_version and
sysconfig.get_platform, as a CPython of the target would report them.
"""
import json
import os
import random
import subprocess
import sys
import sysconfig
import tempfile

import packaging
from packaging import _manylinux, _musllinux, tags
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

PROBE = sys.argv[1]
n = 0
failed = 0


def ok(good, name, diag=()):
    global n, failed
    n += 1
    print(f"{'ok' if good else 'not ok'} {n} - {name}")
    if not good:
        failed += 1
        for line in list(diag)[:40]:
            print(f"#   {line}")


def probe(args, stdin=""):
    r = subprocess.run([PROBE] + args, input=stdin, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"pyprobe {args} failed: {r.stderr}")
    return r.stdout.splitlines()


def packaging_tags(py, machine, libc, libc_version):
    """What sys_tags() yields on a CPython `py` for linux/`machine` with that C library."""
    saved = (_manylinux._get_glibc_version, _musllinux._get_musl_version,
             sysconfig.get_platform, _manylinux._have_compatible_abi)
    try:
        if libc == "glibc":
            _manylinux._get_glibc_version = lambda: libc_version
            _musllinux._get_musl_version = lambda exe: None
        else:
            _manylinux._get_glibc_version = lambda: (-1, -1)
            _musllinux._get_musl_version = lambda exe: _musllinux._MuslVersion(*libc_version)
        sysconfig.get_platform = lambda: "linux-" + machine
        # the ELF checks read the running interpreter: a target CPython for
        # armv7l is armhf and one for i686 is 32-bit, so both pass them
        orig = saved[3]
        _manylinux._have_compatible_abi = (
            lambda exe, arch: True if arch in ("armv7l", "i686") else orig(exe, arch))
        plats = list(tags._linux_platforms(is_32bit=False))
        interp = "cp%d%d" % py
        out = list(tags.cpython_tags(python_version=py, platforms=plats))
        out += list(tags.compatible_tags(python_version=py, interpreter=interp, platforms=plats))
        return [str(t) for t in out]
    finally:
        (_manylinux._get_glibc_version, _musllinux._get_musl_version,
         sysconfig.get_platform, _manylinux._have_compatible_abi) = saved


ok(packaging.__version__ == "23.0", f"the oracle is python3-packaging 23.0 (found {packaging.__version__})")

# ---- the ordered tag lists ----
TARGETS = [
    ("3.12", "glibc 2.36", "linux/amd64", (3, 12), "x86_64", "glibc", (2, 36)),
    ("3.11", "musl 1.2", "linux/arm64", (3, 11), "aarch64", "musl", (1, 2)),
    ("3.7", "glibc 2.17", "linux/arm/v7", (3, 7), "armv7l", "glibc", (2, 17)),
    ("3.13", "glibc 2.28", "linux/386", (3, 13), "i686", "glibc", (2, 28)),
    ("3.10", "glibc 2.31", "linux/ppc64le", (3, 10), "ppc64le", "glibc", (2, 31)),
    ("3.9", "glibc 2.35", "linux/s390x", (3, 9), "s390x", "glibc", (2, 35)),
    ("3.12", "glibc 2.39", "linux/riscv64", (3, 12), "riscv64", "glibc", (2, 39)),
    ("3.12", "musl 1.1", "linux/amd64", (3, 12), "x86_64", "musl", (1, 1)),
    ("3.8", "glibc 3.1", "linux/amd64", (3, 8), "x86_64", "glibc", (3, 1)),
]
lists = {}
for py, libc, plat, pyt, machine, kind, lv in TARGETS:
    want = packaging_tags(pyt, machine, kind, lv)
    got = probe(["tags", py, libc, plat])
    lists[(py, libc, plat)] = want
    diff = [f"first difference at {i}: derrick {g!r}, packaging {w!r}"
            for i, (g, w) in enumerate(zip(got, want)) if g != w][:3]
    if len(got) != len(want):
        diff.append(f"derrick has {len(got)} tags, packaging {len(want)}")
    ok(got == want, f"tags for CPython {py}, {plat}, {libc}: the {len(want)} of packaging's sys_tags, in order", diff)

# ---- ranks of wheel file names ----
WHEELS = [
    "numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "numpy-1.26.4-cp312-cp312-musllinux_1_1_x86_64.whl",
    "numpy-1.26.4-cp311-cp311-musllinux_1_1_aarch64.whl",
    "PyYAML-6.0.1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    "cryptography-42.0.5-cp39-abi3-manylinux_2_28_x86_64.whl",
    "cryptography-42.0.5-cp37-abi3-musllinux_1_2_aarch64.whl",
    "six-1.16.0-py2.py3-none-any.whl",
    "pip-23.0.1-py3-none-any.whl",
    "charset_normalizer-3.3.2-py3-none-any.whl",
    "foo-1.0-1-cp312-none-linux_x86_64.whl",
    "foo-1.0-py312-none-manylinux1_x86_64.whl",
    "foo-1.0-CP312-CP312-MANYLINUX_2_5_X86_64.whl",
    "foo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl",
    "foo-1.0-cp312-cp312-manylinux_2_37_x86_64.whl",
    "foo-1.0-cp312-cp312-win_amd64.whl",
    "foo-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl",
    "foo-1.0-py30-none-any.whl",
    "foo-1.0-cp312-none-any.whl",
    "foo-1.0-cp311-none-any.whl",
    "foo-1.0-cp32-abi3-linux_aarch64.whl",
    "foo-1.0-cp36.cp37.cp38-abi3.none-manylinux2010_x86_64.linux_x86_64.whl",
]
for key in (("3.12", "glibc 2.36", "linux/amd64"), ("3.11", "musl 1.2", "linux/arm64")):
    index = {t: i for i, t in reversed(list(enumerate(lists[key])))}
    want = []
    for w in WHEELS:
        ranks = [index[str(t)] for t in parse_wheel_filename(w)[3] if str(t) in index]
        want.append(f"{min(ranks) if ranks else -1} {w}")
    got = probe(["rank"] + list(key), "\n".join(WHEELS) + "\n")
    ok(got == want, f"wheel ranks for {' '.join(key)} ({len(WHEELS)} names, compressed tag sets included)",
       [f"derrick {g!r}, packaging {w!r}" for g, w in zip(got, want) if g != w])

# ---- wheel file names ----
NAMES = WHEELS + [
    "foo-1.0-py3-none-any.zip", "foo-py3-none-any.whl", "foo-1.0-1-2-py3-none-any.whl",
    "foo__bar-1.0-py3-none-any.whl", "foo bar-1.0-py3-none-any.whl", "foo-1.0x-py3-none-any.whl",
    "foo-1.0-x1-py3-none-any.whl", "foo-1.0-123abc-py3-none-any.whl", "Foo.Bar_baz-1.0-py3-none-any.whl",
    "foo-v1.0.post1-py3-none-any.whl", "foo-1.0+local.7-py3-none-any.whl", "foo-1!2.0rc1-py3-none-any.whl",
]
want = []
for w in NAMES:
    try:
        name, ver, build, ts = parse_wheel_filename(w)
        b = f"{build[0]},{build[1]}" if build else "()"
        want.append(f"{name} {ver} {b} " + ", ".join(sorted(str(t) for t in ts)))
    except Exception:
        want.append("invalid")
got = []
for line in probe(["wheel"], "\n".join(NAMES) + "\n"):
    if line != "invalid":
        head, tagset = line.split(" ", 3)[:3], line.split(" ", 3)[3]
        line = " ".join(head) + " " + ", ".join(sorted(tagset.split(", ")))
    got.append(line)
ok(got == want, f"{len(NAMES)} wheel file names parse as parse_wheel_filename parses them",
   [f"{nm}: derrick {g!r}, packaging {w!r}" for nm, g, w in zip(NAMES, got, want) if g != w])

# ---- versions ----
VERSIONS = """1.0 1.0.0 v1.0 V1.0 1.0a1 1.0A1 1.0alpha1 1.0-alpha-1 1.0.alpha.1 1.0b 1.0beta2 1.0c3 1.0pre4
1.0preview5 1.0rc6 1.0RC 1.0-1 1.0-0 1.0post 1.0.post1 1.0-post-2 1.0_r3 1.0rev4 1.0.dev 1.0-dev1 1.0dev
1.0a1.post2.dev3 1!1.0 0!1.0 01!01.02 1.0+abc 1.0+ABC.5 1.0+abc-def_ghi.007 1.0+1.2 1.0+ 1.0+a. 1.0+.a
1.0- 1.0. .1.0 1..0 1.0a-1 1.0a- 1.0a.dev1 1.0-r1 1.0-rc1 1.0.r 1.0pre-view 1.0preview-1 1.0c-r 1.0a1-1
1.0-1-1 1.0-dev-1 1.0.post.dev 1.0post-dev 1.0alphabeta 1!2!3 foo 1.0foo 1.0.0.0.0.0 00.00.00 000
123456789012345678901234567890 1.0.dev0 1.0a 2013.10.29 1.0.post-1 1.0.post_1 1.0rc-1""".split()
VERSIONS += ["  1.0  ", "\t1.0a1\n", "1.0 a1", "1.0\x1c", "", " "]
rng = random.Random(440)
PIECES = ["1", "0", "00", "12", ".", ".", "-", "_", "a", "b", "c", "rc", "alpha", "pre", "preview", "post",
          "r", "rev", "dev", "+", "!", "v", "x", "loc", "*", " "]
for _ in range(3000):
    VERSIONS.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8))))


def maybe(p, f):
    return f() if rng.random() < p else ""


def sep():
    return rng.choice(["", "", ".", "-", "_"])


def num():
    return rng.choice(["0", "00", "1", "2", "10", "007", "99999999999999999999"])


def structured():
    return (maybe(0.1, lambda: rng.choice(["v", "V"])) + maybe(0.1, lambda: num() + "!")
            + ".".join(num() for _ in range(rng.randint(1, 4)))
            + maybe(0.4, lambda: sep() + rng.choice(["a", "b", "c", "rc", "alpha", "Beta", "pre", "preview", "RC"])
                    + sep() + maybe(0.7, num))
            + maybe(0.3, lambda: rng.choice(["-" + num(), sep() + rng.choice(["post", "rev", "r", "Post"])
                                             + sep() + maybe(0.7, num)]))
            + maybe(0.3, lambda: sep() + rng.choice(["dev", "DEV"]) + sep() + maybe(0.7, num))
            + maybe(0.2, lambda: "+" + sep().join(rng.choice(["abc", "1", "007", "X"]) for _ in range(2))))


for _ in range(2000):
    VERSIONS.append(structured())


def norm(v):
    try:
        return str(Version(v))
    except InvalidVersion:
        return "invalid"


want = [norm(v) for v in VERSIONS]
got = probe(["version"], "\n".join(v.replace("\n", " ") for v in VERSIONS) + "\n")
want = [norm(v.replace("\n", " ")) for v in VERSIONS]
bad = [f"{v!r}: derrick {g!r}, packaging {w!r}" for v, g, w in zip(VERSIONS, got, want) if g != w]
nvalid = sum(w != "invalid" for w in want)
ok(not bad and len(got) == len(want),
   f"{len(VERSIONS)} version strings ({nvalid} valid) normalise as packaging.version.Version does", bad)

# ---- ordering (through ==, <, > specifiers is indirect: compare sorts) ----
SORTED = ["1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0a1.post1.dev1", "1.0a1.post1", "1.0b1", "1.0rc1", "1.0",
          "1.0+abc", "1.0+abc.1", "1.0+1", "1.0+1.abc", "1.0+2", "1.0.post1.dev1", "1.0.post1", "1.0.1", "1.1",
          "2!0.1"]
lines = [f"<{SORTED[i + 1]}\t{SORTED[i]}" for i in range(len(SORTED) - 1)]
sample = rng.sample([w for w in want if w != "invalid"], 150)
for a in sample[:75]:
    for b in sample[75:85]:
        for op in ("<", "<=", "==", "!=", ">=", ">", "===", "~="):
            lines.append(f"{op}{b}\t{a}")
        lines.append(f"=={b}.*\t{a}")
        lines.append(f"!={b}.*\t{a}")


def contains(spec, v):
    try:
        return "true" if SpecifierSet(spec).contains(v) else "false"
    except Exception:
        return "error"


# ---- specifier sets ----
SPECS = [
    (">=3.8,<4", "3.12.1"), (">=3.8,<4", "4.0"), (">=3.8,<4", "3.7.9"), ("~=3.10", "3.12"),
    ("~=3.10.0", "3.12"), ("~=3.10.0", "3.10.7"), ("==3.*", "3.12"), ("==3.*", "4.0"), ("==3.12.*", "3.12"),
    ("!=3.12.*", "3.12.1"), ("!=3.12.0", "3.12"), ("===3.12", "3.12"), ("===3.12.0", "3.12"),
    (">3.12", "3.12.post1"), (">3.12", "3.12+local"), (">3.12", "3.13"), ("<3.13", "3.13.0rc1"),
    ("<3.13", "3.12.0rc1"), ("<3.13rc2", "3.13.0rc1"), (">=3.12", "3.13.0a1"), (">=3.12a1", "3.13.0a1"),
    ("", "3.12"), ("", "3.13a1"), ("==1.0+abc", "1.0+abc"), ("==1.0+abc", "1.0"), ("==1.0", "1.0+abc"),
    ("~=2.2.post3", "2.3"), ("~=1.4.5a4", "1.4.5"), ("~=1.4.5a4", "1.5"), ("~=1.4.5.RC1", "1.4.6"),
    ("== 3.12 ", "3.12"), (">= 3.8, < 4", "3.9"), (">=3.8,,<4", "3.9"), ("==3.*.1", "3.1"), (">=3.*", "3"),
    ("~=3", "3.1"), ("<=1.0+abc", "1.0"), ("==1.0.*+abc", "1.0"), ("=>3", "3"), ("3.12", "3.12"),
    ("===foo", "1.0"), (">=3.8;", "3.9"), (">=3.8)", "3.9"), ("==v1.0.*", "1.0.5"), ("==1!1.*", "1!1.2"),
    ("==1.0.0.0.*", "1"), ("==1.*", "1.0a1"), ("==1.0a1.*", "1.0a1"), (">=1.0.dev0", "1.0.dev0"),
    ("<1.0.post1", "1.0.post0"), (">1.0.post1", "1.0.post2"), ("!=1.0", "1.0.0"), ("<=2", "2.0.post1"),
]
lines += [f"{s}\t{v}" for s, v in SPECS]
want = [contains(*ln.split("\t")) for ln in lines]
got = probe(["spec"], "\n".join(lines) + "\n")
bad = [f"{ln!r}: derrick {g}, packaging {w}" for ln, g, w in zip(lines, got, want) if g != w]
counts = {k: want.count(k) for k in ("true", "false", "error")}
ok(not bad and len(got) == len(want),
   f"{len(lines)} specifier checks ({counts['true']} true, {counts['false']} false, {counts['error']} errors; the ordering of {len(SORTED)} versions, {len(SPECS)} hand-picked sets, "
   f"{len(lines) - len(SPECS) - len(SORTED) + 1} random) answer as SpecifierSet.contains does", bad)

# ---- markers ----
ENV = {
    "python_version": "3.12", "python_full_version": "3.12.1", "os_name": "posix", "sys_platform": "linux",
    "platform_system": "Linux", "platform_machine": "x86_64", "platform_python_implementation": "CPython",
    "implementation_name": "cpython", "implementation_version": "3.12.1", "extra": "",
}
MARKERS = [
    'python_version >= "3.8"', 'python_version < "3.12"', "python_version == '3.12'", 'python_version != "3.12"',
    'python_version > "3.11"', 'python_version <= "3.11"', 'python_version ~= "3.10"', 'python_version === "3.12"',
    'python_version == "3.*"', 'python_version == "3.1*"', 'python_full_version >= "3.12.1"',
    'python_full_version < "3.12.1"', 'python_full_version == "3.12.*"', 'python_version in "3.11 3.12"',
    'python_version not in "3.11 3.12"', 'python_version in "2.7, 3.4"', '"3.12" == python_version',
    'sys_platform == "linux"', 'sys_platform != "win32"', 'sys.platform == "linux"', "os_name == 'posix'",
    'os.name == "nt"', 'platform_system == "Linux"', 'platform_system == "Windows"',
    'platform_machine == "x86_64"', 'platform_machine == "aarch64"', 'platform.machine in "x86_64 AMD64"',
    '"arm" in platform_machine', '"x86" not in platform_machine', 'platform_python_implementation == "CPython"',
    'platform.python_implementation != "PyPy"', 'python_implementation == "CPython"',
    'implementation_name == "cpython"', 'implementation_name == "pypy"', 'implementation_version >= "3.12"',
    'extra == "test"', 'extra != "test"', 'extra == "Test_Extra.name"', '"test" == extra',
    'python_version >= "3.8" and sys_platform == "linux"', 'python_version < "3.8" or sys_platform == "linux"',
    'os_name == "nt" or os_name == "posix" and python_version < "3"',
    '(os_name == "nt" or os_name == "posix") and python_version < "3"',
    '((python_version >= "3.8"))', 'python_version>="3.8"and os_name=="posix"',
    '\tpython_version  >=  "3.8"  ', 'os_name == "posix" and (platform_machine == "x86_64" or extra == "gpu")',
    'platform_machine < "y"', 'platform_machine >= "x86"', 'sys_platform > "darwin"', 'os_name <= "nt"',
    'python_version == "3.12.0"', 'python_version > "3.12.0"', 'python_version == "3.12+local"',
    'python_full_version != "3.12.1+local"', 'platform_machine == "x86_64 "', "os_name == 'po\\x73ix'",
    'os_name == "po\\u0073ix"', 'os_name == "\\posix"', 'os_name == "posix\\n"', "os_name == 'po\\'six'",
    'python_version < "3.12a1"', 'python_version >= "3.13.dev0"', 'python_version == "v3.12"',
    'python_version ~= "3"', 'platform_machine ~= "x86_64"', 'platform_machine === "x86_64"',
    'platform_machine >= "3"', 'python_version == python_full_version', 'os_name == os_name',
    '"posix" == "os_name"', '"a" == "b"', 'extra == "a" or extra == "b"', 'sys_platform == "linux2"',
]
MALFORMED = [
    'python_version', 'python_version >=', '>= "3.8"', 'python_version >= 3.8', 'python_version => "3.8"',
    'os_name = "posix"', 'os_name == "posix" and', 'os_name == "posix" or or os_name == "nt"',
    '(os_name == "posix"',
    'python_versions >= "3"', 'Python_Version >= "3"', 'os_name not  "posix"', 'os_name notin "posix"',
    '"posix" in', "os_name == 'posix", 'os_name == "posix', 'os_name == "a\\"', 'os_name == "\\x4"',
    'os_name == "\\u12"', 'extras == "a"', '', ' ', '()', 'os_name == ("posix")', 'and os_name == "posix"',
    'os_name\n== "posix"', "dependency_groups == 'x'",
]
envfile = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
json.dump(ENV, envfile)
envfile.close()
got = probe(["marker", envfile.name], "\n".join(m.replace("\n", "\\n") for m in MARKERS) + "\n")


def packaging_marker(m):
    try:
        mk = Marker(m)
    except Exception:
        return "invalid"
    try:
        return "true" if mk.evaluate(ENV) else "false"
    except Exception:
        return "error"


want = [packaging_marker(m) for m in MARKERS]
got = [g.split(":")[0] for g in got]
bad = [f"{m!r}: derrick {g}, packaging {w}" for m, g, w in zip(MARKERS, got, want) if g != w]
counts = {k: want.count(k) for k in ("true", "false", "error")}
ok(not bad and len(got) == len(MARKERS),
   f"{len(MARKERS)} markers evaluate as packaging.markers.Marker.evaluate does "
   f"({counts['true']} true, {counts['false']} false, {counts['error']} errors)", bad)

# random token soup: same verdicts, except where derrick is stricter on purpose
PARTS = ['python_version', 'python_full_version', 'os_name', 'os.name', 'extra', 'platform_machine',
         'implementation_version', '"3.12"', "'3.8'", '"3.*"', '"x86_64"', '"posix"', '"Foo.Bar"', '"3.12.1"',
         '"3.12+x"', '"3.12rc1"', '"\\x33"', '"a b"', '==', '!=', '<', '<=', '>', '>=', '~=', '===', 'in',
         'not in', 'not', 'and', 'or', '(', ')', ' ', ' ', ' ', '\t', '"', "'", ',', ';', 'xyz']
soup = []
for _ in range(3000):
    if rng.random() < 0.5:
        # mostly well-formed: VAR OP VAL joined by and/or
        terms = []
        for _ in range(rng.randint(1, 3)):
            terms.append(" ".join([rng.choice(PARTS[:17]), rng.choice(PARTS[18:28]), rng.choice(PARTS[:17])]))
        m = rng.choice([" and ", " or ", "and", ") or ("]).join(terms)
        if rng.random() < 0.3:
            m = "(" + m + ")"
    else:
        m = "".join(rng.choice(PARTS) for _ in range(rng.randint(1, 7)))
    soup.append(m)
got = probe(["marker", envfile.name], "\n".join(soup) + "\n")
bad, stricter, verdicts = [], 0, {}
for m, g in zip(soup, got):
    w = packaging_marker(m)
    gv = g.split(":")[0]
    verdicts[w] = verdicts.get(w, 0) + 1
    if gv == "invalid" and w != "invalid" and "or the end" in g:
        stricter += 1
    elif gv != w:
        bad.append(f"{m!r}: derrick {g}, packaging {w}")
ok(not bad and len(got) == len(soup),
   f"{len(soup)} generated markers ({verdicts}) get packaging's verdict "
   f"({stricter} with trailing text that 23.0 ignores are refused)", bad)

# the malformed ones: packaging refuses them, and so does derrick (newlines cannot go through
# pyprobe's lines, so those two are checked by the unit tests)
lines = [m for m in MALFORMED if "\n" not in m]
got = probe(["marker", envfile.name], "\n".join(lines) + "\n")
bad = [f"{m!r}: derrick {g!r}" for m, g in zip(lines, got) if not g.startswith("invalid")]
bad += [f"{m!r}: packaging accepts it" for m in MALFORMED if packaging_marker(m) != "invalid"]
ok(not bad and len(got) == len(lines), f"{len(MALFORMED)} malformed markers are refused by both", bad)

# where derrick is stricter than 23.0, on purpose (pymarkers.h)
STRICTER = ['os_name == "posix" junk', 'python_version > "3" )', 'os_name == "posix")',
            'os_name == "posix" && python_version > "3"', 'os_name == "\\N{LATIN SMALL LETTER A}"']
got = probe(["marker", envfile.name], "\n".join(STRICTER) + "\n")
ok(all(g.startswith("invalid") for g in got) and all(packaging_marker(m) != "invalid" for m in STRICTER),
   "trailing text and \\N{} escapes: packaging 23.0 takes them, derrick refuses them (documented)", got)

# what the target cannot know is an error naming the variable; packaging reads the host's
UNKNOWN = ['platform_release >= "5.10"', 'platform_version == "x"', 'os_name == "posix" or "6.1" in platform_release']
got = probe(["marker", envfile.name], "\n".join(UNKNOWN) + "\n")
ok(all(g.startswith("error:") and ("platform_release" in g or "platform_version" in g) for g in got),
   "platform_release and platform_version are errors naming the variable", got)
os.unlink(envfile.name)

print(f"1..{n}")
sys.exit(1 if failed else 0)
