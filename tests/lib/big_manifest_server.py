#!/usr/bin/env python3
"""big_manifest_server.py - a registry (GET only, no auth, plain HTTP) that
serves what a real one refuses to store: manifests over the 4 MiB limit
(distribution answers "http: request body too large" to such a PUT).  For
the readers' size checks.

  GET /v2/                         200
  GET /v2/NAME/manifests/big       a 5 MiB image manifest, with Content-Length
  GET /v2/NAME/manifests/chunked   the same, without one (read until close)
  GET /v2/NAME/manifests/index     an index whose one (linux/amd64) entry is
                                   that manifest, declared with its size

Prints its port on the first line, and stops after 120 s, or on SIGTERM.
"""
import hashlib
import http.server
import json
import sys
import threading

from die_with_parent import die_with_parent

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


def desc(mt, data):
    return {"mediaType": mt, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}


EMPTY = desc("application/vnd.oci.empty.v1+json", b"{}")
BIG = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": "application/x-test",
                  "config": EMPTY, "layers": [EMPTY],
                  "annotations": {"big": "x" * (5 << 20)}}).encode()
BIG_ENTRY = dict(desc(MANIFEST, BIG), platform={"architecture": "amd64", "os": "linux"})
IDX = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [BIG_ENTRY]}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/v2/":
            return self.answer(b"{}", "application/json")
        for suffix, body, mt, length in (("/manifests/big", BIG, MANIFEST, True),
                                         ("/manifests/chunked", BIG, MANIFEST, False),
                                         ("/manifests/index", IDX, INDEX, True),
                                         ("/manifests/" + BIG_ENTRY["digest"], BIG, MANIFEST, True)):
            if path.endswith(suffix):
                return self.answer(body, mt, length)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer(self, body, mt, length=True):
        self.send_response(200)
        self.send_header("Content-Type", mt)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client stops reading at its limit

    def log_message(self, *args):
        pass


def main():
    die_with_parent()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    threading.Timer(120, srv.shutdown).start()
    srv.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
