"""wheelkit.py - reproducible wheels, RECORDs and lock files for derrick's
tests and benchmark (run under Debian's /usr/bin/python3).

A wheel written here is a function of its contents: entries in a fixed
order (the package files sorted, then the .dist-info files with RECORD
last), every timestamp SOURCE_DATE_EPOCH (default 1700000000), modes 0644
or 0755, deflate at level 9.  So rebuilding gives the same bytes, and a
lock's hashes stay valid.
"""
import base64
import hashlib
import os
import re
import subprocess
import time
import zipfile

EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))


def normalize(name):
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_part(name):
    """The name as it appears in wheel file names and .dist-info (PEP 427/491)."""
    return re.sub(r"[-_.]+", "_", name)


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _zip_time():
    t = time.gmtime(max(EPOCH, 315532800))  # zip cannot say anything before 1980
    return t[:6]


def write_zip(path, entries):
    """entries: [(name, bytes, mode)] in the order to write; a new file at path."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, _zip_time())
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            z.writestr(info, data, compresslevel=9)
    os.replace(tmp, path)


def with_record(entries, dist_info):
    """entries plus a RECORD (listing each with hash and size, itself without) at the end."""
    lines = ["%s,%s,%d" % (_csv(n), record_hash(d), len(d)) for n, d, _ in entries]
    lines.append("%s/RECORD,," % dist_info)
    return entries + [(dist_info + "/RECORD", ("\n".join(lines) + "\n").encode(), 0o644)]


def _csv(name):
    return '"%s"' % name.replace('"', '""') if any(c in name for c in ',"\n') else name


def wheel_name(name, version, tag):
    return "%s-%s-%s.whl" % (dist_part(name), version, tag)


def make_wheel(out_dir, name, version, tag, files, metadata_extra="", entry_points=None, pure=None,
               metadata=None):
    """Write a wheel of `files` ({archive path: bytes or (bytes, mode)}) into out_dir; its path.

    tag is "py3-none-any" or "cp311-cp311-manylinux_2_36_x86_64" (several
    tags joined by '.' in a part are fine).  Root-Is-Purelib follows the
    platform tag unless `pure` says otherwise."""
    dist_info = "%s-%s.dist-info" % (dist_part(name), version)
    if pure is None:
        pure = tag.endswith("-any")
    entries = []
    for path in sorted(files):
        v = files[path]
        data, mode = (v, 0o644) if isinstance(v, bytes) else v
        entries.append((path, data, mode))
    meta = metadata or "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (name, version, metadata_extra)
    wheel = "Wheel-Version: 1.0\nGenerator: derrick-wheelkit\nRoot-Is-Purelib: %s\n" % ("true" if pure else "false")
    for t in expand_tags(tag):
        wheel += "Tag: %s\n" % t
    entries.append((dist_info + "/METADATA", meta.encode(), 0o644))
    entries.append((dist_info + "/WHEEL", wheel.encode(), 0o644))
    if entry_points:
        entries.append((dist_info + "/entry_points.txt", entry_points.encode(), 0o644))
    path = os.path.join(out_dir, wheel_name(name, version, tag))
    write_zip(path, with_record(entries, dist_info))
    return path


def expand_tags(tag):
    py, abi, plat = tag.split("-")
    return ["%s-%s-%s" % (a, b, c) for a in py.split(".") for b in abi.split(".") for c in plat.split(".")]


def read_wheel(path):
    """A wheel's entries as [(name, bytes, mode)], in archive order."""
    out = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            mode = (info.external_attr >> 16) & 0o777
            out.append((info.filename, z.read(info), 0o755 if mode & 0o111 else 0o644))
    return out


def retag(src, out_dir, new_plat):
    """Copy wheel src with its platform tag replaced (the file name and WHEEL's Tag
    lines), as auditwheel names a repaired wheel; nothing is bundled: the
    tag is a label here.  The RECORD is written anew.  Returns the new path."""
    base = os.path.basename(src)[:-4]
    parts = base.split("-")
    old_plat = parts[-1]
    parts[-1] = new_plat
    entries = read_wheel(src)
    dist_info = next(n.split("/")[0] for n, _, _ in entries if n.endswith(".dist-info/WHEEL"))
    kept = []
    for name, data, mode in entries:
        if name == dist_info + "/RECORD":
            continue
        if name == dist_info + "/WHEEL":
            # the header block ends at the first blank line (bdist_wheel writes one at the end)
            lines = [l for l in data.decode().splitlines() if l and not l.startswith("Tag:")]
            tags = expand_tags("-".join(parts[-3:]))
            data = ("\n".join(lines + ["Tag: " + t for t in tags]) + "\n\n").encode()
        kept.append((name, data, mode))
    assert old_plat != new_plat
    path = os.path.join(out_dir, "-".join(parts) + ".whl")
    write_zip(path, with_record(kept, dist_info))
    return path


def canonical_copy(src, out_dir):
    """Rewrite a wheel setuptools built with wheelkit's zip rules (same name); its path."""
    entries = read_wheel(src)
    dist_info = next(n.split("/")[0] for n, _, _ in entries if n.endswith(".dist-info/WHEEL"))
    entries = [e for e in entries if e[0] != dist_info + "/RECORD"]
    path = os.path.join(out_dir, os.path.basename(src))
    write_zip(path, with_record(entries, dist_info))
    return path


def parse_wheel_name(fn):
    """(project name, version, tag) of a wheel file name (no build tag here)."""
    parts = fn[:-4].split("-")
    return parts[0], parts[1], "-".join(parts[-3:])


def write_pylock(path, wheels, markers=None, created_by="derrick wheelkit"):
    """A PEP 751 pylock.toml listing `wheels` (paths) relative to the lock's directory.

    Wheels of the same project become one [[packages]] entry with several
    [[packages.wheels]]; markers maps a normalised name to its marker."""
    markers = markers or {}
    base = os.path.dirname(os.path.abspath(path))
    by_pkg = {}
    for w in sorted(wheels):
        name, version, _ = parse_wheel_name(os.path.basename(w))
        by_pkg.setdefault((normalize(name), version), []).append(w)
    out = ['lock-version = "1.0"', 'created-by = "%s"' % created_by, 'requires-python = ">=3.11"', ""]
    for (name, version), ws in sorted(by_pkg.items()):
        out += ["[[packages]]", 'name = "%s"' % name, 'version = "%s"' % version]
        if name in markers:
            out.append("marker = '%s'" % markers[name])
        out.append("")
        for w in ws:
            out += ["[[packages.wheels]]", 'name = "%s"' % os.path.basename(w),
                    'path = "%s"' % os.path.relpath(os.path.abspath(w), base),
                    "size = %d" % os.path.getsize(w),
                    'hashes = { sha256 = "%s" }' % sha256_file(w), ""]
    with open(path, "w") as f:
        f.write("\n".join(out))


def write_requirements(path, wheels, markers=None, header="derrick wheelkit"):
    """A requirements file in hash-checking form (as pip-compile --generate-hashes
    writes it): name==version, an optional marker, the hashes of all its wheels."""
    markers = markers or {}
    by_pkg = {}
    for w in sorted(wheels):
        name, version, _ = parse_wheel_name(os.path.basename(w))
        by_pkg.setdefault((normalize(name), version), []).append(sha256_file(w))
    out = ["#", "# This file is autogenerated by %s" % header, "#"]
    for (name, version), hashes in sorted(by_pkg.items()):
        line = "%s==%s" % (name, version)
        if name in markers:
            line += " ; %s" % markers[name]
        out.append(line + " \\")
        hs = sorted(hashes)
        for i, h in enumerate(hs):
            out.append("    --hash=sha256:%s%s" % (h, " \\" if i + 1 < len(hs) else ""))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def apt_download(packages, dest, state):
    """Download Debian packages ("python3-yaml:arm64") into dest with apt, through a
    private lists directory `state` (so foreign architectures need no change to
    dpkg's configuration); apt checks them against the signed indexes.  Returns
    {package spec: .deb path}.  Already downloaded files are reused."""
    os.makedirs(dest, exist_ok=True)
    archs = sorted({p.split(":")[1] for p in packages if ":" in p} | {_native_arch()})
    opts = ["-o", "Dir::State::Lists=" + os.path.join(state, "lists"),
            "-o", "Dir::Cache=" + os.path.join(state, "cache"), "-o", "Debug::NoLocking=1",
            "-o", "APT::Sandbox::User=root"]
    for a in archs:
        opts += ["-o", "APT::Architectures::=" + a]
    os.makedirs(os.path.join(state, "lists", "partial"), exist_ok=True)
    os.makedirs(os.path.join(state, "cache", "archives", "partial"), exist_ok=True)
    found = {p: _find_deb(dest, p) for p in packages}
    missing = [p for p, d in found.items() if not d]
    if missing:
        if not os.listdir(os.path.join(state, "lists")) or len(os.listdir(os.path.join(state, "lists"))) < 3:
            subprocess.run(["apt-get", "-q", "-q"] + opts + ["update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "-q", "-q"] + opts + ["download"] + missing, check=True, cwd=dest,
                       stdout=subprocess.DEVNULL)
        found = {p: _find_deb(dest, p) for p in packages}
        for p, d in found.items():
            if not d:
                raise SystemExit("apt-get download %s: no .deb appeared in %s" % (p, dest))
    return found


def _native_arch():
    return subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True, text=True).stdout.strip()


def _find_deb(dest, spec):
    name, _, arch = spec.partition(":")
    arch = arch or _native_arch()
    for fn in sorted(os.listdir(dest)):
        if fn.startswith(name + "_") and (fn.endswith("_%s.deb" % arch) or fn.endswith("_all.deb")):
            return os.path.join(dest, fn)
    return None


def deb_extract(deb, dest):
    """Unpack a .deb's files into dest (dpkg-deb -x)."""
    os.makedirs(dest, exist_ok=True)
    subprocess.run(["dpkg-deb", "-x", deb, dest], check=True)


def _meta_field(meta, key):
    m = re.search(r"^%s: (.+)$" % key, meta, re.M)
    return m.group(1).strip() if m else None


def deb_python_files(root):
    """What a Debian python3-* package unpacked at root installs into
    /usr/lib/python3/dist-packages, as a wheel's contents: (name, version,
    metadata text, entry_points text or None, {archive path: (bytes, mode)},
    [skipped symlinks]).  The project is the one its .dist-info or .egg-info
    names (the first, when there are several); every other file of
    dist-packages belongs to it.  Symlinks become the file they name when
    that lies in the package, and are skipped otherwise (Debian links some
    data, such as CA bundles, to /etc or /usr/share)."""
    sp = os.path.join(root, "usr/lib/python3/dist-packages")
    info = [d for d in sorted(os.listdir(sp)) if re.search(r"\.(egg|dist)-info$", d)]
    if not info:
        raise SystemExit("%s: no .dist-info or .egg-info in dist-packages" % root)
    meta_dir = os.path.join(sp, info[0])
    if os.path.isdir(meta_dir):
        meta_file = os.path.join(meta_dir, "METADATA" if info[0].endswith(".dist-info") else "PKG-INFO")
    else:
        meta_file = meta_dir
    with open(meta_file, encoding="utf-8", errors="replace") as f:
        meta = f.read()
    ep_file = os.path.join(meta_dir, "entry_points.txt")
    entry_points = open(ep_file).read() if os.path.isfile(ep_file) else None
    files, skipped = {}, []
    for dirpath, dirnames, filenames in os.walk(sp):
        dirnames[:] = sorted(d for d in dirnames if not (dirpath == sp and d in info) and d != "__pycache__")
        for fn in sorted(filenames):
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, sp)
            if dirpath == sp and fn in info:
                continue
            real = os.path.realpath(full)
            if os.path.islink(full) and not (real.startswith(os.path.realpath(root) + os.sep) and os.path.isfile(real)):
                skipped.append(rel)
                continue
            with open(real, "rb") as f:
                data = f.read()
            files[rel] = (data, 0o755 if os.stat(real).st_mode & 0o111 else 0o644)
    return _meta_field(meta, "Name"), _meta_field(meta, "Version"), meta, entry_points, files, skipped


def platform_tag(files, glibc="2_36"):
    """cp311-cp311-manylinux_GLIBC_ARCH when files hold a CPython 3.11 extension
    (the architecture from its name), py3-none-any when they hold none."""
    for path in sorted(files):
        m = re.search(r"\.cpython-311-([a-z0-9_]+)-linux-gnu\.so$", path)
        if m:
            return "cp311-cp311-manylinux_%s_%s" % (glibc, m.group(1))
    for path in files:
        if path.endswith(".so") or ".so." in path:
            return "cp311-cp311-manylinux_%s_%s" % (glibc, _native_machine())
    return "py3-none-any"


def _native_machine():
    return os.uname().machine


def repack_deb(deb, out_dir, work, version=None, change=None):
    """A wheel of a Debian python3-* package's dist-packages (deb_python_files),
    tagged by platform_tag; version replaces the project's version and
    change (archive path, bytes) replaces or adds one file (a "bump").
    Returns (wheel path, [skipped symlinks])."""
    root = os.path.join(work, os.path.basename(deb)[:-4])
    if not os.path.isdir(root):
        deb_extract(deb, root + ".tmp")
        os.replace(root + ".tmp", root)
    name, v, meta, eps, files, skipped = deb_python_files(root)
    if version:
        meta = re.sub(r"^Version: .+$", "Version: " + version, meta, count=1, flags=re.M)
        v = version
    if change:
        files = dict(files)
        old = files.get(change[0], (b"", 0o644))
        files[change[0]] = (change[1], old[1])
    return make_wheel(out_dir, name, v, platform_tag(files), files, metadata=meta, entry_points=eps), skipped
