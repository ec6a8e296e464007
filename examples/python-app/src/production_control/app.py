"""The HTTP service: GET /health and GET /version, JSON bodies."""

import json
import logging
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import DIST_NAME, get_version
from .config import check_upstream, load_config

log = logging.getLogger("production_control")


def make_handler(cfg):
    upstream = cfg["upstream"]

    class Handler(BaseHTTPRequestHandler):
        server_version = "production-control"

        def _send(self, status, body):
            data = (json.dumps(body, sort_keys=True) + "\n").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/health":
                body = {"status": "ok"}
                if upstream.get("url"):
                    ok, detail = check_upstream(upstream["url"], upstream.get("timeout", 5.0))
                    body = {"status": "ok" if ok else "degraded", "upstream": detail}
                self._send(200 if body["status"] == "ok" else 503, body)
            elif path == "/version":
                self._send(200, {"name": DIST_NAME, "version": get_version()})
            else:
                self._send(404, {"error": "not found", "path": path})

        def log_message(self, fmt, *args):
            log.info("%s %s", self.address_string(), fmt % args)

    return Handler


def serve(cfg=None):
    cfg = cfg or load_config()
    logging.basicConfig(level=str(cfg.get("log_level", "INFO")).upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host, port = cfg["service"]["host"], int(cfg["service"]["port"])
    httpd = ThreadingHTTPServer((host, port), make_handler(cfg))

    # SIGTERM (the image's stop signal) -> clean exit, like Ctrl-C.
    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    log.info("%s %s listening on %s:%d", DIST_NAME, get_version(), host, port)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
