#!/usr/bin/python3
"""Wheels for the wheel tests (tests/e2e/wheels.sh), made offline.

  wheels.py build OUTDIR     build testdata/wheels/* with setuptools + wheel
                             (Debian's /usr/bin/python3), cached by content
  wheels.py craft GOOD OUTDIR
                             from the good pure wheel GOOD, write the bad (and a
                             few good) wheels the refusal tests need, with
                             zipfile; names in OUTDIR say what each one is
  wheels.py oracle WHEEL DESTDIR PREFIX SITE INTERPRETER PYTHON
                             install WHEEL with installer's own install() and
                             scheme dictionary destination, laid out exactly as
                             derrick lays it out (the CLI cannot take an
                             interpreter), no bytecode
"""
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wheelkit  # noqa: E402  (py-ground's helpers: one RECORD hash for both builders)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECTS = os.path.join(TOP, "testdata", "wheels")
CACHE = os.environ.get("DERRICK_TEST_CACHE", "/var/cache/derrick-tests")


def tree_key():
    h = hashlib.sha256(b"wheels v1\n" + sys.version.encode() + b"\n")
    for root, dirs, files in sorted(os.walk(PROJECTS)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            h.update(os.path.relpath(p, PROJECTS).encode() + b"\0")
            h.update(oct(os.stat(p).st_mode & 0o111).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()[:16]


def build(out):
    key = tree_key()
    cached = os.path.join(CACHE, "wheels-" + key)
    if not os.path.isdir(cached):
        try:
            os.makedirs(CACHE, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=".wheels-", dir=CACHE)
        except OSError:
            tmp = tempfile.mkdtemp(prefix="derrick-wheels-")
            cached = None
        work = tempfile.mkdtemp(prefix="derrick-wheel-build-")
        try:
            for proj in sorted(os.listdir(PROJECTS)):
                src = os.path.join(PROJECTS, proj)
                if not os.path.isfile(os.path.join(src, "setup.py")):
                    continue
                dst = os.path.join(work, proj)
                shutil.copytree(src, dst)
                subprocess.run(["/usr/bin/python3", "setup.py", "-q", "bdist_wheel", "-d", tmp],
                               cwd=dst, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        finally:
            shutil.rmtree(work)
        if cached:
            try:
                os.rename(tmp, cached)
            except OSError:     # another run got there first
                shutil.rmtree(tmp)
        else:
            cached = tmp
    os.makedirs(out, exist_ok=True)
    for f in sorted(os.listdir(cached)):
        shutil.copy(os.path.join(cached, f), out)
        print(os.path.join(out, f))


def b64(data):
    return wheelkit.record_hash(data)[len("sha256="):]


def read_members(path):
    """[(ZipInfo, bytes)] in zip order."""
    with zipfile.ZipFile(path) as z:
        return [(i, z.read(i)) for i in z.infolist()]


def record_for(members, dist_info, skip=()):
    rows = []
    for info, data in members:
        if info.filename.endswith("/") or info.filename in skip:
            continue
        if info.filename == dist_info + "/RECORD":
            continue
        rows.append("%s,sha256=%s,%d" % (info.filename, b64(data), len(data)))
    rows.append(dist_info + "/RECORD,,")
    return ("\n".join(rows) + "\n").encode()


def write_zip(path, members, date_time=None, order=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in (order or members):
            zi = zipfile.ZipInfo(info.filename, date_time or info.date_time)
            zi.external_attr = info.external_attr
            zi.create_system = info.create_system
            zi.compress_type = info.compress_type
            zi.flag_bits |= info.flag_bits & 1
            z.writestr(zi, data)


def replace(members, name, data=None, info=None):
    out = []
    for i, d in members:
        if i.filename == name:
            out.append((info or i, d if data is None else data))
        else:
            out.append((i, d))
    return out


def info(name, mode=0o644, like=None):
    zi = zipfile.ZipInfo(name, like.date_time if like else (2020, 1, 1, 0, 0, 0))
    zi.external_attr = (mode & 0xFFFF) << 16
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def craft(good, out):
    os.makedirs(out, exist_ok=True)
    base = os.path.basename(good)
    dist, version = base.split("-")[:2]
    di = "%s-%s.dist-info" % (dist, version)
    members = read_members(good)
    first = next(i for i, _ in members if not i.filename.endswith("/") and "/" in i.filename
                 and not i.filename.startswith(dist + "-"))
    rec = di + "/RECORD"

    def emit(kind, ms, name=base, fix_record=True, **kw):
        d = os.path.join(out, kind)
        os.makedirs(d, exist_ok=True)
        if fix_record:
            ms = replace(ms, rec, record_for(ms, di))
        write_zip(os.path.join(d, name), ms, **kw)

    # a member's bytes changed, RECORD not
    emit("record-changed", replace(members, first.filename, b"# changed\n"), fix_record=False)
    # a member RECORD does not list
    emit("record-missing-row", replace(members, rec, record_for(members, di, skip=(first.filename,))),
         fix_record=False)
    # a RECORD row without a member
    emit("record-extra-row", replace(members, rec, record_for(members, di) + b"ghost.py,sha256=" +
                                     b64(b"").encode() + b",0\n"), fix_record=False)
    # a weak hash
    emit("record-md5", replace(members, rec, record_for(members, di).replace(
        ("%s,sha256=%s" % (first.filename, b64(dict((i.filename, d) for i, d in members)[first.filename])))
        .encode(), ("%s,md5=%s" % (first.filename, "1B2M2Y8AsgTpgAmY7PhCfg")).encode())), fix_record=False)
    # RECORD's own row with a hash
    emit("record-own-hash", replace(members, rec, record_for(members, di).replace(
        (rec + ",,").encode(), (rec + ",sha256=" + b64(b"") + ",0").encode())), fix_record=False)
    emit("unsafe-dotdot", members + [(info("../evil.py"), b"x = 1\n")])
    emit("unsafe-abs", members + [(info("/tmp/evil.py"), b"x = 1\n")])
    emit("unsafe-backslash", members + [(info("demo\\evil.py"), b"x = 1\n")])
    emit("unsafe-data-key", members + [(info(dist + "-" + version + ".data/bogus/x"), b"x\n")])
    emit("duplicate", members + [(info(first.filename), b"x = 2\n")])
    emit("symlink", members + [(info("demo_link", 0o120777), b"/etc/passwd")])
    # the encryption flag (zipfile cannot encrypt, nor write the flag: patched in)
    emit("encrypted", members + [(info("encrypted.py"), b"x = 1\n")])
    patch_headers(os.path.join(out, "encrypted", base), "encrypted.py", flags=1)
    renamed = [(info(i.filename.replace(di, "other_pkg-" + version + ".dist-info"),
                     i.external_attr >> 16, like=i) if i.filename.startswith(di) else i, d)
               for i, d in members]
    d2 = os.path.join(out, "distinfo-name")
    os.makedirs(d2, exist_ok=True)
    write_zip(os.path.join(d2, base), replace(renamed, "other_pkg-%s.dist-info/RECORD" % version,
                                              record_for(renamed, "other_pkg-%s.dist-info" % version)))
    vdi = "%s-9.9.dist-info" % dist
    bumped = [(info(i.filename.replace(di, vdi), i.external_attr >> 16, like=i)
               if i.filename.startswith(di) else i, d) for i, d in members]
    os.makedirs(os.path.join(out, "distinfo-version"), exist_ok=True)
    write_zip(os.path.join(out, "distinfo-version", base),
              replace(bumped, vdi + "/RECORD", record_for(bumped, vdi)))
    wheel_txt = dict((i.filename, d) for i, d in members)[di + "/WHEEL"]
    emit("wheel-version-2", replace(members, di + "/WHEEL", wheel_txt.replace(b"Wheel-Version: 1.0",
                                                                           b"Wheel-Version: 2.0")))
    emit("wheel-version-1.9", replace(members, di + "/WHEEL", wheel_txt.replace(b"Wheel-Version: 1.0",
                                                                             b"Wheel-Version: 1.9")))
    ep = di + "/entry_points.txt"
    emit("entry-point-name", replace(members, ep, b"[console_scripts]\n../evil = demo_pkg:main\n"))
    emit("entry-point-value", replace(members, ep, b"[console_scripts]\nevil = os; import os:x\n"))
    # zip modes: an execute bit (kept), none at all (0644), a DOS-made member
    dos = info("demo_pkg/dos.py")
    dos.create_system = 0
    dos.external_attr = 0x20
    emit("modes", members + [(info("demo_pkg/run.py", 0o100755), b"x = 1\n"),
                             (info("demo_pkg/run2.py", 0o100700), b"x = 2\n"),
                             (info("demo_pkg/zero.py", 0), b"x = 3\n"), (dos, b"x = 4\n")])
    # installer's two differences by design: a platlib wheel with a .data/purelib
    # file ("./" in its RECORD), a script without an execute bit (kept 0644)
    dv = dist + "-" + version + ".data"
    emit("documented", replace(members, di + "/WHEEL", dict((i.filename, d) for i, d in members)[di + "/WHEEL"]
                               .replace(b"Root-Is-Purelib: true", b"Root-Is-Purelib: false")) +
         [(info(dv + "/purelib/demo_pkg/extra.py"), b"x = 5\n"), (info(dv + "/scripts/plain", 0o100644), b"#!python\n")])
    # same files, other zip times and member order: the layer must not change
    emit("reordered", members, date_time=(2001, 2, 3, 4, 5, 6), order=list(reversed(members)))
    # another wheel that writes one of this one's files
    cdi = "clash-1.0.dist-info"
    clash = [(info(first.filename), b"# clash\n"),
             (info(cdi + "/METADATA"), b"Metadata-Version: 2.1\nName: clash\nVersion: 1.0\n"),
             (info(cdi + "/WHEEL"), b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
             (info(cdi + "/RECORD"), b"")]
    clash = replace(clash, cdi + "/RECORD", record_for(clash, cdi))
    os.makedirs(os.path.join(out, "clash"), exist_ok=True)
    write_zip(os.path.join(out, "clash", "clash-1.0-py3-none-any.whl"), clash)
    # the central directory and a local header disagree: on the CRC, on the
    # name, or a local header the central directory does not list
    for kind, kw in (("cd-crc", {"crc": 1}), ("cd-name", {"name_bit": 1})):
        os.makedirs(os.path.join(out, kind), exist_ok=True)
        shutil.copy(good, os.path.join(out, kind, base))
        patch_headers(os.path.join(out, kind, base), first.filename, local_only=True, **kw)
    emit("cd-hidden", members + [(info("hidden.py"), b"x = 1\n")])
    drop_from_central(os.path.join(out, "cd-hidden", base), "hidden.py")


def patch_headers(path, name, flags=0, crc=0, name_bit=0, local_only=False):
    """Flip bits in the headers of member `name`: general-purpose flags (local
    header and central directory, unless local_only), CRC and name (local)."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
    enc = name.encode()
    for sig, name_at, nlen_at, flags_at in ((b"PK\x03\x04", 30, 26, 6), (b"PK\x01\x02", 46, 28, 8)):
        if sig == b"PK\x01\x02" and local_only:
            continue
        off = 0
        while True:
            off = data.find(sig, off)
            if off < 0:
                raise SystemExit("no header for " + name)
            nlen, = struct.unpack("<H", data[off + nlen_at:off + nlen_at + 2])
            if data[off + name_at:off + name_at + nlen] == enc:
                break
            off += 4
        data[off + flags_at] |= flags
        if sig == b"PK\x03\x04":
            data[off + 14] ^= crc
            if name_bit:
                data[off + 30 + nlen - 1] ^= 0x01
    with open(path, "wb") as f:
        f.write(data)


def drop_from_central(path, name):
    """Remove `name`'s central directory record: its local entry stays, hidden."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    eocd = data.rfind(b"PK\x05\x06")
    count, size, start = struct.unpack("<HII", data[eocd + 10:eocd + 20])
    off = start
    while off < start + size:
        nlen, elen, clen = struct.unpack("<HHH", data[off + 28:off + 34])
        rlen = 46 + nlen + elen + clen
        if data[off + 46:off + 46 + nlen] == name.encode():
            del data[off:off + rlen]
            eocd -= rlen
            struct.pack_into("<HHI", data, eocd + 8, count - 1, count - 1, size - rlen)
            break
        off += rlen
    else:
        raise SystemExit("no central record for " + name)
    with open(path, "wb") as f:
        f.write(data)


def oracle(wheel, destdir, prefix, site, interpreter, python):
    import installer
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    with WheelFile.open(wheel) as source:
        scheme = {
            "purelib": site,
            "platlib": site,
            "scripts": os.path.join(prefix, "bin"),
            "data": prefix,
            "headers": os.path.join(prefix, "include", "python" + python, source.distribution),
        }
        dest = SchemeDictionaryDestination(scheme, interpreter, "posix",
                                           bytecode_optimization_levels=(), destdir=destdir)
        installer.install(source, dest, {"INSTALLER": b"derrick\n"})


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "build" and len(sys.argv) == 3:
        build(sys.argv[2])
    elif cmd == "craft" and len(sys.argv) == 4:
        craft(sys.argv[2], sys.argv[3])
    elif cmd == "oracle" and len(sys.argv) == 8:
        oracle(*sys.argv[2:])
    else:
        sys.exit(__doc__)
