#!/usr/bin/env python3
"""simple_index.py - a Python package index (the "simple repository API") over
a directory of wheels, on 127.0.0.1, for derrick's tests.

  GET /simple/               the projects (PEP 691 JSON or PEP 503 HTML)
  GET /simple/NAME/          NAME's files; a name that is not normalised
                             (PEP 503) is redirected (301) to the normalised one
  GET /files/FILE            a file of the directory

Which form a page takes follows the Accept header as pip and uv send it
(application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html,
text/html, with q-values; the JSON form wins a tie, nothing acceptable gets
406), unless --form json|html forces one.  JSON pages list for each file its
filename, a URL relative to the page, its sha256, its size and, for a wheel
whose METADATA says Requires-Python, requires-python; HTML pages give the
same as anchors with a #sha256= fragment and data-requires-python.

Options:
  --dir DIR          the wheels (and any other files) to serve; read on each request
  --port N           0 lets the kernel pick; --port-file FILE receives it
  --form auto|json|html
  --user U --password P   require Basic auth for every request (401 otherwise)
  --log FILE         one line per request: "METHOD PATH STATUS FORM USER"
                     (FORM json, html or -; USER the Basic user or -; never a password)
  --absolute-urls    file URLs absolute (http://127.0.0.1:PORT/files/F), not relative
  --delays FILE      lines "FILE SECONDS": GET /files/FILE waits that long before it
                     answers (read on each request, so a test may change it)
  --events FILE      one line as each GET /files/ request begins and ends:
                     "begin FILE" and "end FILE", in the order they happen

Stops on SIGTERM, and when the script that started it dies (die_with_parent).
"""
import argparse
import base64
import hashlib
import html
import http.server
import json
import os
import re
import sys
import threading
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from die_with_parent import die_with_parent  # noqa: E402

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    """The normalised project name of a distribution file name, or None."""
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0])
    m = re.match(r"(.+)-[^-]+\.(tar\.gz|zip)$", filename)
    return normalize(m.group(1)) if m else None


def requires_python(path):
    """A wheel's Requires-Python, or None."""
    if not path.endswith(".whl"):
        return None
    try:
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA"):
                    for line in z.read(n).decode("utf-8", "replace").splitlines():
                        if not line:
                            break
                        if line.lower().startswith("requires-python:"):
                            return line.split(":", 1)[1].strip()
    except (OSError, zipfile.BadZipFile):
        pass
    return None


def choose_form(accept):
    """json, html or None (406) for an Accept header."""
    if not accept:
        return "json"
    best, best_q = None, 0.0
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        form = {JSON_TYPE: "json", HTML_TYPE: "html", "text/html": "html",
                "application/vnd.pypi.simple.latest+json": "json",
                "application/vnd.pypi.simple.latest+html": "html", "*/*": "json"}.get(fields[0].lower())
        # a strictly higher q wins; on a tie the JSON form
        if form and q > 0 and (q > best_q or (q == best_q and form == "json")):
            best, best_q = form, q
    return best


class Index(http.server.ThreadingHTTPServer):
    daemon_threads = True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, status, form="-"):
        o = self.server.opts
        if o.log:
            with self.server.log_lock, open(o.log, "a") as f:
                f.write("%s %s %d %s %s\n" % (self.command, self.path, status, form, self.user or "-"))

    def send(self, status, body=b"", ctype="text/plain", headers=(), form="-"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(status, form)

    def authorised(self):
        o = self.server.opts
        self.user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            self.user = user
            if o.user is not None and user == o.user and password == o.password:
                return True
        if o.user is None:
            return True
        self.send(401, b"authentication required\n", headers=[("WWW-Authenticate", 'Basic realm="simple index"')])
        return False

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if not self.authorised():
            return
        path = self.path.split("?")[0]
        if path.startswith("/files/"):
            return self.file(path[len("/files/"):])
        m = re.fullmatch(r"/simple/(?:([^/]+)/)?", path)
        if not m:
            return self.send(404, b"not found\n")
        if m.group(1) and normalize(m.group(1)) != m.group(1):
            return self.send(301, headers=[("Location", "/simple/%s/" % normalize(m.group(1)))])
        form = self.server.opts.form
        if form == "auto":
            form = choose_form(self.headers.get("Accept", ""))
        if not form:
            return self.send(406, b"no acceptable form\n")
        if m.group(1):
            return self.project(m.group(1), form)
        return self.root(form)

    def files(self):
        d = self.server.opts.dir
        return sorted(f for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)) and project_of(f))

    def root(self, form):
        names = sorted({project_of(f) for f in self.files()})
        if form == "json":
            body = json.dumps({"meta": {"api-version": "1.1"},
                               "projects": [{"name": n} for n in names]}, indent=1).encode()
            return self.send(200, body, JSON_TYPE, form=form)
        body = "<!DOCTYPE html>\n<html><body>\n%s</body></html>\n" % "".join(
            '<a href="%s/">%s</a>\n' % (n, n) for n in names)
        return self.send(200, body.encode(), HTML_TYPE, form=form)

    def url(self, f):
        if self.server.opts.absolute_urls:
            return "http://127.0.0.1:%d/files/%s" % (self.server.server_address[1], f)
        return "../../files/" + f

    def project(self, name, form):
        mine = [f for f in self.files() if project_of(f) == name]
        if not mine:
            return self.send(404, b"no such project\n")
        entries = []
        for f in mine:
            p = os.path.join(self.server.opts.dir, f)
            with open(p, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            entries.append((f, digest, os.path.getsize(p), requires_python(p)))
        if form == "json":
            files = []
            for f, digest, size, rp in entries:
                e = {"filename": f, "url": self.url(f), "hashes": {"sha256": digest}, "size": size,
                     "yanked": False}
                if rp:
                    e["requires-python"] = rp
                files.append(e)
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}, indent=1).encode()
            return self.send(200, body, JSON_TYPE, form=form)
        anchors = "".join('<a href="%s#sha256=%s"%s>%s</a><br>\n' % (
            html.escape(self.url(f)), digest,
            ' data-requires-python="%s"' % html.escape(rp) if rp else "", html.escape(f))
            for f, digest, _, rp in entries)
        body = ('<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
                "<title>Links for %s</title></head><body>\n<h1>Links for %s</h1>\n%s</body></html>\n"
                % (name, name, anchors))
        return self.send(200, body.encode(), HTML_TYPE, form=form)

    def event(self, what, f):
        o = self.server.opts
        if o.events:
            with self.server.log_lock, open(o.events, "a") as fh:
                fh.write("%s %s\n" % (what, f))

    def delay(self, f):
        o = self.server.opts
        if not o.delays or not os.path.isfile(o.delays):
            return 0.0
        with open(o.delays) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) == 2 and parts[0] == f:
                    return float(parts[1])
        return 0.0

    def file(self, f):
        self.event("begin", f)
        try:
            time.sleep(self.delay(f))
            p = os.path.join(self.server.opts.dir, f)
            if "/" in f or f.startswith(".") or not os.path.isfile(p):
                return self.send(404, b"no such file\n")
            with open(p, "rb") as fh:
                data = fh.read()
            return self.send(200, data, "application/octet-stream")
        finally:
            self.event("end", f)


def main():
    die_with_parent()
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--form", choices=("auto", "json", "html"), default="auto")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--log")
    ap.add_argument("--absolute-urls", action="store_true")
    ap.add_argument("--delays")
    ap.add_argument("--events")
    opts = ap.parse_args()
    if (opts.user is None) != (opts.password is None):
        ap.error("--user and --password go together")
    srv = Index(("127.0.0.1", opts.port), Handler)
    srv.opts = opts
    srv.log_lock = threading.Lock()
    port = srv.server_address[1]
    if opts.port_file:
        with open(opts.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(opts.port_file + ".tmp", opts.port_file)
    else:
        print(port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
