#!/usr/bin/env python3
"""tests/lib/faulty_proxy.py - a reverse proxy that breaks requests on command.

Sits in front of one registry (HTTP, or HTTPS checked with --cacert), passes
every request through with its body streamed both ways, and rewrites only the
`Location` headers that point at the registry so that they point at the proxy.
It serves HTTPS itself when given --tls-cert/--tls-key.

Faults are programmed at run time through a control endpoint on the same port
(never forwarded, never logged as traffic):

  POST   /__proxy__/faults   body: one fault SPEC -> 200 "fault #ID: ..." | 400 why
  GET    /__proxy__/faults   -> JSON {"pending": [...], "fired": [...]}
  DELETE /__proxy__/faults   -> drops the pending faults

SPEC is whitespace-separated:

  METHOD NTH ACTION [path=REGEX] [retry-after=N] [delay=SECONDS] [bytes=N] [code=CODE]

  METHOD  GET HEAD POST PATCH PUT DELETE, or * for any
  NTH     1 (or "next", "1st"), 2 ("2nd"), ...: the NTH request matching METHOD
          (and path=REGEX, searched in the request target, query included)
          counted from the moment the fault is programmed; every fault is
          one-shot and counts on its own (so "PATCH 1 500" and "PATCH 2 500"
          fail the next two PATCHes).
  ACTION  a status (500, 503, 429, 401, ...): the request body is read and
          dropped, the request is not forwarded, the answer is that status
          with a distribution-style JSON error (code=CODE to choose its
          code; 429 -> TOOMANYREQUESTS, 503 -> UNAVAILABLE, else UNKNOWN) and
          `Retry-After: N` when retry-after=N is given;
          drop: read bytes=N of the request body (default: half of it, or
          the first chunk), then close the connection without an answer;
          truncate: forward, then send the headers and bytes=N (default
          half) of the response body, then close;
          lose: forward (the registry does the work), then close without
          an answer;
          pass: forward normally (with delay=SECONDS: a slow request).
  delay=SECONDS waits before acting (any action).

Access log (--log): one line per request in the registry's combined format,
`127.0.0.1 - - [date] "METHOD TARGET HTTP/1.1" STATUS BYTES "" "UA"`, with
` fault=#ID:ACTION` appended to faulted ones (status 000 when no answer was
sent; for drop, BYTES is how much of the request body was read first; for
truncate, how much of the answer's body was sent).  The line is written before the last byte of the answer, so a client
that has its answer can count it at once.

The listening port is written to --port-file once bound (--port 0 = the
kernel picks a free one).  SIGTERM stops it.
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
       "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect"}
METHODS = {"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "*"}
CODES = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE", 401: "UNAUTHORIZED", 403: "DENIED",
         404: "NAME_UNKNOWN", 400: "BLOB_UPLOAD_INVALID", 416: "BLOB_UPLOAD_INVALID"}
CHUNK = 64 * 1024
CONTROL = "/__proxy__/faults"


class Fault:
    def __init__(self, fid, spec):
        self.id, self.spec = fid, spec.strip()
        words = self.spec.split()
        if len(words) < 3:
            raise ValueError("want: METHOD NTH ACTION [path=REGEX] [retry-after=N] [delay=S] [bytes=N] [code=CODE]")
        self.method = words[0].upper()
        if self.method not in METHODS:
            raise ValueError("unknown method %r" % words[0])
        nth = words[1].lower()
        if nth == "next":
            nth = "1"
        m = re.fullmatch(r"([1-9][0-9]*)(st|nd|rd|th)?", nth)
        if not m:
            raise ValueError("NTH must be a positive count (1, 2nd, next...), not %r" % words[1])
        self.nth = int(m.group(1))
        a = words[2].lower()
        if re.fullmatch(r"[1-5][0-9][0-9]", a):
            self.action, self.status = "status", int(a)
        elif a in ("drop", "truncate", "lose", "pass"):
            self.action, self.status = a, None
        else:
            raise ValueError("unknown action %r (a status, drop, truncate, lose or pass)" % words[2])
        self.path = None
        self.retry_after = None
        self.delay = 0.0
        self.nbytes = None
        self.code = None
        for w in words[3:]:
            k, eq, v = w.partition("=")
            if not eq:
                raise ValueError("option %r is not KEY=VALUE" % w)
            k = k.lower()
            if k == "path":
                self.path = re.compile(v)
            elif k in ("retry-after", "retry_after"):
                self.retry_after = v
            elif k == "delay":
                self.delay = float(v)
            elif k == "bytes":
                self.nbytes = int(v)
            elif k == "code":
                self.code = v
            else:
                raise ValueError("unknown option %r" % k)
        self.seen = 0
        self.fired_at = None
        self.fired_on = None

    def label(self):
        return str(self.status) if self.action == "status" else self.action

    def as_json(self):
        return {"id": self.id, "spec": self.spec, "seen": self.seen, "fired_on": self.fired_on}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.pending = []
        self.fired = []
        self.next_id = 1
        self.logf = open(args.log, "a", buffering=1) if args.log else None
        t = urllib.parse.urlsplit(args.target)
        self.target_scheme = t.scheme
        self.target_host = t.hostname
        self.target_port = t.port or (443 if t.scheme == "https" else 80)
        self.target_netloc = t.netloc
        self.target_base = "%s://%s" % (t.scheme, t.netloc)
        self.ssl_ctx = None
        if t.scheme == "https":
            self.ssl_ctx = ssl.create_default_context(cafile=args.cacert)
        self.front_base = None  # set once bound

    def add(self, spec):
        with self.lock:
            f = Fault(self.next_id, spec)
            self.next_id += 1
            self.pending.append(f)
            return f

    def match(self, method, target):
        """The fault to apply to this request, if one fires (counts all matches)."""
        hit = None
        with self.lock:
            for f in list(self.pending):
                if f.method != "*" and f.method != method:
                    continue
                if f.path is not None and not f.path.search(target):
                    continue
                f.seen += 1
                if f.seen == f.nth and hit is None:
                    hit = f
                    f.fired_at = time.time()
                    f.fired_on = "%s %s" % (method, target)
                    self.pending.remove(f)
                    self.fired.append(f)
        return hit

    def log(self, client, method, target, status, nbytes, ua, fault):
        if not self.logf:
            return
        line = '%s - - [%s] "%s %s HTTP/1.1" %s %d "" "%s"' % (
            client, time.strftime("%d/%b/%Y:%H:%M:%S %z"), method, target, status, nbytes,
            ua.replace('"', "'"))
        if fault is not None:
            line += " fault=#%d:%s" % (fault.id, fault.label())
        with self.lock:
            self.logf.write(line + "\n")

    def upstream(self):
        if self.ssl_ctx is not None:
            return http.client.HTTPSConnection(self.target_host, self.target_port, timeout=self.args.timeout,
                                               context=self.ssl_ctx)
        return http.client.HTTPConnection(self.target_host, self.target_port, timeout=self.args.timeout)


class Abort(Exception):
    """Close the client connection now, without an answer."""


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 120

        def log_message(self, fmt, *a):
            pass

        # ---- request bodies -------------------------------------------------
        def body_chunks(self, limit=None):
            """Yield the request body in pieces (de-chunked); stop after LIMIT bytes."""
            te = (self.headers.get("Transfer-Encoding") or "").lower()
            got = 0
            if "chunked" in te:
                while True:
                    line = self.rfile.readline(65537)
                    if not line:
                        raise Abort()
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while True:  # trailers
                            t = self.rfile.readline(65537)
                            if t in (b"\r\n", b"\n", b""):
                                break
                        return
                    left = size
                    while left:
                        want = min(left, CHUNK)
                        if limit is not None:
                            want = min(want, limit - got)
                            if want <= 0:
                                return
                        data = self.rfile.read(want)
                        if not data:
                            raise Abort()
                        got += len(data)
                        left -= len(data)
                        yield data
                    self.rfile.readline(3)
                    if limit is not None and got >= limit:
                        return
            else:
                left = int(self.headers.get("Content-Length") or 0)
                if limit is not None:
                    left = min(left, limit)
                while left > 0:
                    data = self.rfile.read(min(left, CHUNK))
                    if not data:
                        raise Abort()
                    left -= len(data)
                    yield data

        def drain(self):
            for _ in self.body_chunks():
                pass

        # ---- answers --------------------------------------------------------
        def simple(self, status, body, ctype="application/json", extra=(), fault=None):
            if isinstance(body, str):
                body = body.encode()
            self.send_response_only(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if fault is not False:
                state.log(self.client_address[0], self.command, self.path, status, len(body),
                          self.headers.get("User-Agent", ""), fault)
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()

        def control(self):
            if self.command == "POST":
                n = int(self.headers.get("Content-Length") or 0)
                spec = self.rfile.read(n).decode(errors="replace")
                try:
                    f = state.add(spec)
                except (ValueError, re.error) as e:
                    self.simple(400, "bad fault spec %r: %s\n" % (spec, e), "text/plain", fault=False)
                    return
                self.simple(200, "fault #%d: %s\n" % (f.id, f.spec), "text/plain", fault=False)
            elif self.command == "GET":
                with state.lock:
                    obj = {"pending": [f.as_json() for f in state.pending],
                           "fired": [f.as_json() for f in state.fired]}
                self.simple(200, json.dumps(obj) + "\n", fault=False)
            elif self.command == "DELETE":
                self.drain()
                with state.lock:
                    n = len(state.pending)
                    state.pending.clear()
                self.simple(200, "dropped %d\n" % n, "text/plain", fault=False)
            else:
                self.drain()
                self.simple(405, "no\n", "text/plain", fault=False)

        def rewrite_location(self, v):
            if v.startswith(state.target_base):
                return state.front_base + v[len(state.target_base):]
            return v

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except Abort:
                self.close_connection = True
            except (ConnectionError, socket.timeout, ssl.SSLError, BrokenPipeError):
                self.close_connection = True

        def abort(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise Abort()

        def proxy(self):
            method, target = self.command, self.path
            ua = self.headers.get("User-Agent", "")
            client = self.client_address[0]
            if urllib.parse.urlsplit(target).path == CONTROL:
                self.control()
                return
            fault = state.match(method, target)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            action = fault.action if fault is not None else "pass"

            if action == "status":
                self.drain()
                code = fault.code or CODES.get(fault.status, "UNKNOWN")
                body = json.dumps({"errors": [{"code": code, "message": "injected by faulty_proxy (fault #%d)" % fault.id,
                                               "detail": None}]}) + "\n"
                extra = []
                if fault.retry_after is not None:
                    extra.append(("Retry-After", fault.retry_after))
                extra.append(("Docker-Distribution-Api-Version", "registry/2.0"))
                self.simple(fault.status, body, extra=extra, fault=fault)
                return
            if action == "drop":
                te = (self.headers.get("Transfer-Encoding") or "").lower()
                if fault.nbytes is not None:
                    limit = fault.nbytes
                elif "chunked" in te:
                    limit = CHUNK
                else:
                    limit = int(self.headers.get("Content-Length") or 0) // 2
                got = 0
                if limit > 0:
                    for data in self.body_chunks(limit):
                        got += len(data)
                state.log(client, method, target, "000", got, ua, fault)
                self.abort()

            # forward
            conn = state.upstream()
            try:
                conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", state.target_netloc)
                chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
                has_len = self.headers.get("Content-Length") is not None
                for k, v in self.headers.items():
                    if k.lower() in HOP or k.lower() == "host":
                        continue
                    conn.putheader(k, v)
                if chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if chunked or has_len:
                    for data in self.body_chunks():
                        if chunked:
                            conn.send(b"%x\r\n" % len(data) + data + b"\r\n")
                        else:
                            conn.send(data)
                    if chunked:
                        conn.send(b"0\r\n\r\n")
                resp = conn.getresponse()
            except Abort:
                conn.close()
                raise
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self.simple(502, json.dumps({"errors": [{"code": "UNAVAILABLE",
                            "message": "faulty_proxy: upstream: %s" % e}]}) + "\n", fault=fault)
                self.close_connection = True
                return

            try:
                if action == "lose":
                    resp.read()
                    state.log(client, method, target, "000", 0, ua, fault)
                    self.abort()
                self.send_response_only(resp.status, resp.reason)
                nobody = method == "HEAD" or resp.status in (204, 304) or resp.status < 200
                length = resp.getheader("Content-Length")
                te_chunked = False
                for k, v in resp.getheaders():
                    lk = k.lower()
                    if lk in HOP:
                        continue
                    if lk == "location":
                        v = self.rewrite_location(v)
                    if lk == "content-length" and not nobody and resp.chunked:
                        continue
                    self.send_header(k, v)
                if not nobody and (length is None or resp.chunked):
                    if self.request_version == "HTTP/1.1":
                        self.send_header("Transfer-Encoding", "chunked")
                        te_chunked = True
                    else:
                        self.close_connection = True
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                sent = 0
                if nobody:
                    state.log(client, method, target, resp.status, 0, ua, fault)
                    self.wfile.flush()
                    return
                if action == "truncate":
                    total = int(length) if length is not None and not resp.chunked else None
                    limit = fault.nbytes if fault.nbytes is not None else (total // 2 if total else CHUNK)
                    while sent < limit:
                        data = resp.read(min(CHUNK, limit - sent))
                        if not data:
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if te_chunked else data)
                        sent += len(data)
                    self.wfile.flush()
                    state.log(client, method, target, resp.status, sent, ua, fault)
                    self.abort()
                prev = None
                while True:
                    data = resp.read(CHUNK)
                    if not data:
                        break
                    if prev is not None:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(prev), prev) if te_chunked else prev)
                    sent += len(data)
                    prev = data
                # log before the last bytes leave, so the client never sees its
                # answer complete before the line is there
                state.log(client, method, target, resp.status, sent, ua, fault)
                tail = b""
                if prev is not None:
                    tail = b"%x\r\n%s\r\n" % (len(prev), prev) if te_chunked else prev
                if te_chunked:
                    tail += b"0\r\n\r\n"
                if tail:
                    self.wfile.write(tail)
                self.wfile.flush()
            finally:
                conn.close()

        do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = proxy

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    ssl_ctx = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_ctx is not None:
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # a client going away mid-request is business as usual here
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, Abort)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--target", required=True, help="http(s)://HOST:PORT of the registry")
    ap.add_argument("--cacert", help="CA to check an https target with")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate")
    ap.add_argument("--tls-key")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--log")
    args = ap.parse_args()

    state = State(args)
    srv = Server((args.listen, args.port), make_handler(state))
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.ssl_ctx = ctx
    port = srv.server_address[1]
    state.front_base = "%s://%s:%d" % ("https" if args.tls_cert else "http", args.listen, port)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
