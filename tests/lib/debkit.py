"""debkit.py - oracles and crafted packages for tests/e2e/deb_install.sh.

  debkit.py entries DEB TAR     every data.tar member of DEB (read by dpkg-deb
                                --fsys-tarfile) against derrick's layer TAR:
                                path, type, mode, uid/gid, size, link target
  debkit.py status BASE NEW PKG...
                                NEW holds every stanza of BASE byte for byte, a
                                stanza per PKG with "Status: install ok installed",
                                sorted by name then architecture
  debkit.py stat DEB STATS       every data.tar member of DEB against `stat -c
                                '%n|%f|%u|%g'` lines of the installed files (STATS):
                                file type, mode bits (setuid, setgid, sticky too),
                                numeric owner
  debkit.py craft DIR           bad .debs: dotdot, abs-path, symlink-escape,
                                below-symlink, version3, truncated (from DEB env)
"""
import io, os, subprocess, sys, tarfile, time


def members(tf):
    """name -> (type, mode, uid, gid, size, link) with hardlinks resolved to their file."""
    out, order = {}, []
    for m in tf:
        name = m.name[2:] if m.name.startswith("./") else m.name
        name = name.rstrip("/")
        if not name or name == ".":
            continue
        if m.islnk():
            t = m.linkname[2:] if m.linkname.startswith("./") else m.linkname
            out[name] = out[t]
        else:
            kind = "dir" if m.isdir() else "symlink" if m.issym() else "file" if m.isreg() else "other"
            out[name] = (kind, oct(m.mode if not m.issym() else 0o777), m.uid, m.gid,
                         m.size if m.isreg() else 0, m.linkname if m.issym() else "")
        order.append(name)
    return out, order


def entries(deb, tar):
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, stdout=subprocess.PIPE).stdout
    want, _ = members(tarfile.open(fileobj=io.BytesIO(data), mode="r:"))
    got, _ = members(tarfile.open(tar))
    bad = []
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            bad.append("%s: dpkg-deb %s, derrick %s" % (k, want.get(k), got.get(k)))
    for b in bad[:20]:
        print(b)
    print("%d entries compared" % len(want), file=sys.stderr)
    return 1 if bad else 0


def stat(deb, stats):
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, stdout=subprocess.PIPE).stdout
    want, _ = members(tarfile.open(fileobj=io.BytesIO(data), mode="r:"))
    kinds = {0o040000: "dir", 0o120000: "symlink", 0o100000: "file"}
    got = {}
    for line in open(stats):
        path, mode, uid, gid = line.rstrip("\n").rsplit("|", 3)
        mode = int(mode, 16)
        got[path.lstrip("/")] = (kinds.get(mode & 0o170000, "other"),
                                 oct(0o777 if mode & 0o170000 == 0o120000 else mode & 0o7777), int(uid), int(gid))
    bad = ["%s: dpkg-deb %s, stat %s" % (k, want[k][:4], got.get(k)) for k in sorted(want)
           if want[k][:4] != got.get(k)]
    for b in bad[:20]:
        print(b)
    print("%d files compared" % len(want), file=sys.stderr)
    return 1 if bad or not want else 0


def stanzas(text):
    return [s + "\n" for s in text.split("\n\n") if s.strip()]


def field(st, name):
    for line in st.splitlines():
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def status(base, new, pkgs):
    b, n = stanzas(open(base).read()), stanzas(open(new).read())
    bad = [("base stanza %s changed or lost" % field(s, "Package")) for s in b if s not in n]
    keys = [(field(s, "Package"), field(s, "Architecture")) for s in n]
    if keys != sorted(keys):
        bad.append("not sorted by name, then architecture")
    for p in pkgs:
        hit = [s for s in n if field(s, "Package") == p]
        if len(hit) != 1 or field(hit[0], "Status") != "install ok installed":
            bad.append("%s: no single installed stanza" % p)
    if len(n) != len(b) + len(pkgs):
        bad.append("%d stanzas, want %d" % (len(n), len(b) + len(pkgs)))
    print("\n".join(bad))
    return 1 if bad else 0


def ar(path, members_):
    with open(path, "wb") as f:
        f.write(b"!<arch>\n")
        for name, data in members_:
            f.write(b"%-16s%-12d%-6d%-6d%-8o%-10d`\n" % (name.encode(), 0, 0, 0, 0o100644, len(data)))
            f.write(data)
            if len(data) % 2:
                f.write(b"\n")


def tgz(files):
    """files: list of (name, kind, payload) kind in file/dir/symlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        for name, kind, payload in files:
            m = tarfile.TarInfo(name)
            m.mtime = 0
            if kind == "dir":
                m.type, m.mode = tarfile.DIRTYPE, 0o755
                t.addfile(m)
            elif kind == "symlink":
                m.type, m.linkname = tarfile.SYMTYPE, payload
                t.addfile(m)
            else:
                m.size, m.mode = len(payload), 0o644
                t.addfile(m, io.BytesIO(payload))
    return buf.getvalue()


def craft(out):
    os.makedirs(out, exist_ok=True)
    control = tgz([("./", "dir", None),
                   ("./control", "file", b"Package: evil\nVersion: 1.0\nArchitecture: all\n"
                    b"Maintainer: t <t@t>\nDescription: crafted\n")])
    cases = {
        "dotdot": [("./", "dir", None), ("./../evil", "file", b"x")],
        "abs-path": [("./", "dir", None), ("/etc/evil", "file", b"x")],
        "symlink-escape": [("./", "dir", None), ("./usr/", "dir", None), ("./usr/up", "symlink", "../../etc")],
        "below-symlink": [("./", "dir", None), ("./etc/", "dir", None), ("./etc/root", "symlink", "/"),
                          ("./etc/root/evil", "file", b"x")],
        "good": [("./", "dir", None), ("./etc/", "dir", None), ("./etc/good", "file", b"x")],
    }
    for name, files in cases.items():
        ar(os.path.join(out, name + ".deb"),
           [("debian-binary", b"2.0\n"), ("control.tar.gz", control), ("data.tar.gz", tgz(files))])
    ar(os.path.join(out, "version3.deb"),
       [("debian-binary", b"3.0\n"), ("control.tar.gz", control), ("data.tar.gz", tgz(cases["good"]))])
    ar(os.path.join(out, "extra-members.deb"),
       [("debian-binary", b"2.0\n"), ("_sig", b"x"), ("control.tar.gz", control), ("_x", b"y"),
        ("data.tar.gz", tgz(cases["good"])), ("trailing", b"ignored")])
    ar(os.path.join(out, "no-data.deb"), [("debian-binary", b"2.0\n"), ("control.tar.gz", control)])
    ar(os.path.join(out, "swapped.deb"),
       [("debian-binary", b"2.0\n"), ("data.tar.gz", tgz(cases["good"])), ("control.tar.gz", control)])
    real = open(os.environ["DEB"], "rb").read()
    with open(os.path.join(out, "truncated.deb"), "wb") as f:
        f.write(real[:len(real) - 2000])
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "entries":
        sys.exit(entries(sys.argv[2], sys.argv[3]))
    if cmd == "status":
        sys.exit(status(sys.argv[2], sys.argv[3], sys.argv[4:]))
    if cmd == "stat":
        sys.exit(stat(sys.argv[2], sys.argv[3]))
    if cmd == "craft":
        sys.exit(craft(sys.argv[2]))
    sys.exit(2)
