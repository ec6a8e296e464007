#!/usr/bin/env python3
"""A registry front that sends blob downloads elsewhere, as registries with
object storage do (a 307 to S3 or a CDN).

    redirect_front.py FRONT_PORT STORAGE_PORT REGISTRY_URL LOG

Every request to FRONT_PORT is passed to the registry, except GET
/v2/NAME/blobs/DIGEST, which is answered with a 307 to
http://localhost:STORAGE_PORT/DIGEST?name=NAME: another host as far as a
client can tell (localhost, not 127.0.0.1, and another port).  The storage
server fetches the blob from the registry with its own credentials and logs,
for every request, whether an Authorization header came with it: a client
must never send the registry's credentials to the storage host.
"""
import http.client
import http.server
import re
import sys
import threading
import urllib.parse

front_port, storage_port, registry, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
reg = urllib.parse.urlsplit(registry)
log_lock = threading.Lock()
stored_auth = {}                        # the Authorization the client gave the front, per blob


def log(line):
    with log_lock, open(log_path, "a") as f:
        f.write(line + "\n")


def upstream(method, path, headers, body=None):
    conn = http.client.HTTPConnection(reg.hostname, reg.port, timeout=30)
    conn.request(method, path, body=body, headers=headers)
    return conn.getresponse()


class Front(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        m = re.match(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$", self.path)
        if self.command == "GET" and m:
            stored_auth[m.group(2)] = self.headers.get("Authorization", "")
            target = "http://localhost:%d/%s?name=%s" % (storage_port, m.group(2), m.group(1))
            self.send_response(307)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        resp = upstream(self.command, self.path, headers, body)
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = relay


class Storage(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        digest = u.path.lstrip("/")
        name = urllib.parse.parse_qs(u.query).get("name", [""])[0]
        log("GET %s authorization=%s" % (digest, "yes" if self.headers.get("Authorization") else "no"))
        resp = upstream("GET", "/v2/%s/blobs/%s" % (name, digest),
                        {"Authorization": stored_auth.get(digest, "")})
        data = resp.read()
        self.send_response(resp.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


for port, handler in ((storage_port, Storage), (front_port, Front)):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
log("ready")
threading.Event().wait()
