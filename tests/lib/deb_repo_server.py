#!/usr/bin/env python3
"""deb_repo_server.py - serve a directory (tests/lib/deb-repo.sh's local
Debian repositories) over HTTP on 127.0.0.1, for derrick's tests.

  deb_repo_server.py --dir DIR --port-file FILE [--log FILE] [--fault SUFFIX:STATUS:COUNT]...
                     [--auth USER:PASSWORD]

Listens on a port the kernel picks and writes it to FILE; one line per
request to the log: "METHOD PATH STATUS".  Symlinks in DIR are followed
(each mirror's pool/ is one).  --fault makes the first COUNT GETs of
every path ending in SUFFIX answer STATUS (a transient 503, say); --auth
answers 401 to every request without that HTTP Basic login.  Stops on SIGTERM, and when the script that
started it dies (die_with_parent).
"""
import argparse
import base64
import functools
import http.server
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from die_with_parent import die_with_parent  # noqa: E402


class Handler(http.server.SimpleHTTPRequestHandler):
    log_file = None
    faults = []  # [suffix, status, count left]
    faults_lock = threading.Lock()
    auth = None  # the "Authorization" value a request must carry

    def do_GET(self):
        if self.auth and self.headers.get("Authorization") != self.auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="deb"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with self.faults_lock:
            for f in self.faults:
                if self.path.endswith(f[0]) and f[2] > 0:
                    f[2] -= 1
                    break
            else:
                f = None
        if f:
            self.send_error(f[1])
            return
        super().do_GET()

    def log_request(self, code="-", size="-"):
        if self.log_file:
            with open(self.log_file, "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, code))

    def log_message(self, fmt, *args):
        pass


def main():
    die_with_parent()
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--fault", action="append", default=[])
    ap.add_argument("--auth")
    opts = ap.parse_args()
    Handler.log_file = opts.log
    if opts.auth:
        Handler.auth = "Basic " + base64.b64encode(opts.auth.encode()).decode()
    for spec in opts.fault:
        suffix, status, count = spec.rsplit(":", 2)
        Handler.faults.append([suffix, int(status), int(count)])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=opts.dir))
    with open(opts.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(opts.port_file + ".tmp", opts.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
