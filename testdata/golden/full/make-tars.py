#!/usr/bin/env python3
"""Write pax.tar and ustar.tar.gz, the prebuilt tar inputs of full.json.

Run once; the outputs are committed so that the pinned digests never depend
on the Python that made them.  Every header field is set by hand: the
owners, modes and times inside are deliberately odd, since derrick must
replace all of them."""
import gzip, io, tarfile

LONG = "d" * 60 + "/" + "e" * 60 + "/long-path-over-100-bytes.txt"


def add(tf, name, kind=tarfile.REGTYPE, data=b"", mode=0o640, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid, ti.uname, ti.gname = 4242, 4343, "someone", "somegroup"
    ti.mtime = 1234567890
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def members(tf):
    add(tf, "./etc", tarfile.DIRTYPE, mode=0o700)
    add(tf, "./etc/app.conf", data=b"answer = 42\n")
    add(tf, "./bin/tool", data=b"#!/bin/sh\necho tool\n", mode=0o711)
    add(tf, "./bin/tool-link", tarfile.SYMTYPE, link="tool")
    add(tf, "./share/b\u00fccher/\u00e9t\u00e9.txt", data="sommer \u00e9t\u00e9\n".encode())
    add(tf, LONG, data=b"a long path\n")
    add(tf, "./empty", tarfile.DIRTYPE, mode=0o777)


with tarfile.open("pax.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    members(tf)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT, encoding="utf-8") as tf:
    members(tf)
with open("ustar.tar.gz", "wb") as f:
    with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
