#!/usr/bin/env python3
"""tests/lib/faulty_proxy.py - a reverse proxy that breaks requests on command.

Sits in front of one registry (HTTP, or HTTPS checked with --cacert), passes
every request through with its body streamed both ways, and rewrites only the
`Location` headers that point at the registry so that they point at the proxy.
It serves HTTPS itself when given --tls-cert/--tls-key.

Two kinds of trouble can be switched on: one-shot faults (a bad network) and
quirks (the lasting ways in which a hosted registry differs from the CNCF
distribution registry behind the proxy).

Faults are programmed at run time through a control endpoint on the same port
(never forwarded, never logged as traffic):

  POST   /__proxy__/faults   body: one fault SPEC -> 200 "fault #ID: ..." | 400 why
  GET    /__proxy__/faults   -> JSON {"pending": [...], "fired": [...]}
  DELETE /__proxy__/faults   -> drops the pending faults

SPEC is whitespace-separated:

  METHOD NTH ACTION [path=REGEX] [retry-after=N] [delay=SECONDS] [bytes=N] [code=CODE] [range=VALUE]

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
  range=VALUE (with pass): the answer's Range header says VALUE (an upload
          status that misreports how much the registry holds).
  forward=1 (with a status): the request is forwarded first (the registry
          does the work) and the registry's answer replaced by the status:
          a registry whose state and answer disagree.

Quirks stay on until cleared.  Set them at start (--quirk NAME[=VALUE], any
number of times) or at run time:

  POST   /__proxy__/quirks   body: NAME[=VALUE] ... -> 200 | 400 why (unknown name or value)
  DELETE /__proxy__/quirks   body: NAME ... (empty: every quirk) -> 200
  GET    /__proxy__/quirks   -> JSON {"set": {NAME: VALUE}, "applied": {NAME: COUNT}}

"applied" counts the answers and requests each quirk changed, so a test can
tell that a quirk really acted.  A faulted request gets its fault, not the
request-side quirks; answer-side quirks rewrite every answer.  The quirks,
each after a public report of the hosted registry that behaves so:

  patch-limit[=SIZE]   (GitHub ghcr.io; wasmCloud/wash-archive#268, ocx-sh/ocx#237,
          oras-project/rust-oci-client#35) a PATCH whose Content-Length is over
          SIZE (default 4M = 4 MiB; k/M/G suffixes) is not forwarded: 416 Range
          Not Satisfiable, code REQUESTED_RANGE_NOT_SATISFIABLE, "the request body
          is too large and exceeds the maximum permissible limit of 4.00MiB".
          The upload session is left as it was.  A streamed PATCH (no
          Content-Length) and a monolithic PUT of any size pass, as on GHCR.
  no-mount   (Amazon ECR; aws/containers-roadmap#1459, #2860) a mount
          (POST .../blobs/uploads/?mount=D&from=R) reaches the registry without
          mount= and from=: it answers 202 with an upload session.
  mount-refuse[=401|403|404]   (GitLab; google/go-containerregistry#220,
          estesp/manifest-tool#53, moby/moby#20387) a mount is answered with that
          status (default 401, with the registry's challenge plus
          error="insufficient_scope" and the mount's scopes, as distribution
          words it; 403 DENIED; 404 NAME_UNKNOWN for the source).
  negotiate[=separate|joined]   (SPNEGO/Kerberos fronts;
          google/go-containerregistry#1075, GoogleContainerTools/kaniko#1681)
          every 401 gets a `WWW-Authenticate: Negotiate` header before the
          registry's own challenge (separate), or one header
          `Negotiate, <the registry's challenge>` (joined).
  retry-after-date   (cvmfs/cvmfs#4110) a `Retry-After: N` (seconds) becomes
          the IMF-fixdate N seconds ahead (rounded up to the next second).
  relative-location   (GHCR; apple/swift-container-plugin#43, #44) every
          `Location` that points at the registry loses its scheme and host:
          `/v2/NAME/blobs/uploads/UUID?_state=...` (distribution's upload
          Locations carry a query already).
  redirect-blobs   (S3/GCS-backed registries; renovatebot/renovate#3877,
          open-policy-agent/opa#6580) GET/HEAD of a blob the registry has is
          answered 307 to a "storage host": a second listener of this process,
          reached as localhost:OTHER_PORT (another origin for a client).  It
          refuses a request that carries an Authorization header (400, as S3
          does for a pre-signed URL), else fetches the blob from the registry
          with the credentials the front saw.  Its requests are logged as
          `"GET /storage/DIGEST?... HTTP/1.1" STATUS BYTES "" "UA" auth=yes|no`.
  head-401[=once|always]   (ECR Public, proxies; buildbuddy-io/buildbuddy#12566)
          a HEAD is answered 401 with the registry's challenge and no body:
          once per target (a client that renews its token and asks again gets
          through), or always.
  no-realm   a Bearer challenge without its realm (a broken front): a
          client has nowhere to ask for a token, and must say so.
  realm-path[=PATH?QUERY]   (Artifactory, Nexus, Harbor;
          dotnet/sdk-container-builds#284) the realm of a Bearer challenge
          keeps its host and port but gets this path and query (default
          /auth/v2/token?tenant=derrick; token_issuer.py serves any path
          ending in /token and logs the extra parameters).
  scheme-case=upper|lower   (devcontainers/cli#884) challenge scheme names
          written BEARER/BASIC/NEGOTIATE or bearer/basic/negotiate.
  digest-header=missing|bare   (distribution/distribution#3792, #2395)
          `Docker-Content-Digest` removed, or sent as bare hex without `sha256:`.

Access log (--log): one line per request in the registry's combined format,
`127.0.0.1 - - [date] "METHOD TARGET HTTP/1.1" STATUS BYTES "" "UA"`, then
` in=N` (request body bytes read) when there was a body, ` quirk=A,B` when
quirks acted and ` fault=#ID:ACTION` for faulted ones (status 000 when no
answer was sent; for drop, BYTES is how much of the request body was read
first; for truncate, how much of the answer's body was sent).  The line is
written before the last byte of the answer, so a client that has its answer
can count it at once.

The listening port is written to --port-file once bound (--port 0 = the
kernel picks a free one).  SIGTERM stops it.
"""
import argparse
import email.utils
import http.client
import json
import math
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

from die_with_parent import die_with_parent

HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
       "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect"}
METHODS = {"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "*"}
CODES = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE", 401: "UNAUTHORIZED", 403: "DENIED",
         404: "NAME_UNKNOWN", 400: "BLOB_UPLOAD_INVALID", 416: "BLOB_UPLOAD_INVALID"}
CHUNK = 64 * 1024
CONTROL = "/__proxy__/faults"
QUIRK_CONTROL = "/__proxy__/quirks"
BLOB_RE = re.compile(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$")


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
        self.forward = False
        self.range = None
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
            elif k == "forward":
                self.forward = v not in ("0", "no", "")
            elif k == "range":
                self.range = v
            else:
                raise ValueError("unknown option %r" % k)
        self.seen = 0
        self.fired_at = None
        self.fired_on = None

    def label(self):
        return str(self.status) if self.action == "status" else self.action

    def as_json(self):
        return {"id": self.id, "spec": self.spec, "seen": self.seen, "fired_on": self.fired_on}


# ---- quirks: the table of switches ------------------------------------------

def parse_size(v):
    m = re.fullmatch(r"([0-9]+)\s*([kmg]?)(i?b)?", v.strip().lower())
    if not m:
        raise ValueError("not a size: %r (e.g. 4M, 512k, 4194304)" % v)
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2)]


def parse_realm_path(v):
    u = urllib.parse.urlsplit(v)
    if u.scheme or u.netloc or not u.path.startswith("/") or not u.path.endswith("/token"):
        raise ValueError("want /PATH/token[?QUERY], not %r" % v)
    return v


class Quirk:
    """One switch: its name, what VALUE may be, its default value."""

    def __init__(self, name, default, choices=None, parse=None):
        self.name, self.default, self.choices, self.parse = name, default, choices, parse

    def value_of(self, text):
        if text is None:
            return self.default
        if self.choices is not None:
            if text not in self.choices:
                raise ValueError("%s takes %s, not %r" % (self.name, "|".join(self.choices), text))
            return text
        if self.parse is not None:
            return self.parse(text)
        raise ValueError("%s takes no value" % self.name)


QUIRKS = {q.name: q for q in (
    Quirk("patch-limit", 4 << 20, parse=parse_size),
    Quirk("no-mount", True),
    Quirk("mount-refuse", "401", choices=("401", "403", "404")),
    Quirk("negotiate", "separate", choices=("separate", "joined")),
    Quirk("retry-after-date", True),
    Quirk("relative-location", True),
    Quirk("redirect-blobs", True),
    Quirk("head-401", "once", choices=("once", "always")),
    Quirk("realm-path", "/auth/v2/token?tenant=derrick", parse=parse_realm_path),
    Quirk("no-realm", True),
    Quirk("scheme-case", "upper", choices=("upper", "lower")),
    Quirk("digest-header", "missing", choices=("missing", "bare")),
)}


def error_body(code, message, detail=None):
    return json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}) + "\n"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.pending = []
        self.fired = []
        self.next_id = 1
        self.quirks = {}        # name -> value
        self.applied = {}       # name -> how often it acted
        self.head_refused = set()
        self.blob_auth = {}     # digest -> the Authorization a client gave the front for it
        self.challenge = None   # the registry's own WWW-Authenticate (fetched once)
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
        self.storage_base = None

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

    # quirks
    def set_quirks(self, text):
        """Parse every NAME[=VALUE] first, then set them all (or none)."""
        new = {}
        for w in text.split():
            name, eq, v = w.partition("=")
            q = QUIRKS.get(name)
            if q is None:
                raise ValueError("unknown quirk %r (known: %s)" % (name, " ".join(sorted(QUIRKS))))
            new[name] = q.value_of(v if eq else None)
        if not new:
            raise ValueError("no quirk named")
        with self.lock:
            self.quirks.update(new)
            if "head-401" in new:
                self.head_refused.clear()
        return new

    def clear_quirks(self, text):
        names = text.split()
        with self.lock:
            if not names:
                n = len(self.quirks)
                self.quirks.clear()
                return n
            unknown = [n for n in names if n not in QUIRKS]
            if unknown:
                raise ValueError("unknown quirk %r" % unknown[0])
            return sum(self.quirks.pop(n, None) is not None for n in names)

    def quirk(self, name):
        with self.lock:
            return self.quirks.get(name)

    def hit(self, name, marks):
        with self.lock:
            self.applied[name] = self.applied.get(name, 0) + 1
        if name not in marks:
            marks.append(name)

    def base_challenge(self):
        """The registry's challenge on /v2/ ("" when it asks for none), asked once."""
        with self.lock:
            if self.challenge is not None:
                return self.challenge
        conn = self.upstream()
        try:
            conn.request("GET", "/v2/", headers={"Host": self.target_netloc})
            resp = conn.getresponse()
            resp.read()
            value = resp.getheader("WWW-Authenticate") or ""
        except (OSError, http.client.HTTPException):
            value = ""
        finally:
            conn.close()
        with self.lock:
            self.challenge = value
        return value

    def log(self, client, method, target, status, nbytes, ua, fault, body_in=None, marks=(), extra=""):
        if not self.logf:
            return
        line = '%s - - [%s] "%s %s HTTP/1.1" %s %d "" "%s"' % (
            client, time.strftime("%d/%b/%Y:%H:%M:%S %z"), method, target, status, nbytes,
            ua.replace('"', "'"))
        if body_in is not None:
            line += " in=%d" % body_in
        if marks:
            line += " quirk=" + ",".join(marks)
        if extra:
            line += " " + extra
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


def rewrite_challenge(state, value, marks):
    """A registry's WWW-Authenticate value, with realm-path, no-realm and scheme-case applied."""
    if state.quirk("no-realm") and value[:6].lower() == "bearer":
        value, n = re.subn(r'realm="[^"]*",?', "", value, count=1)
        if n:
            state.hit("no-realm", marks)
    rp = state.quirk("realm-path")
    if rp is not None and value[:6].lower() == "bearer":
        def new_realm(m):
            old = urllib.parse.urlsplit(m.group(1))
            want = urllib.parse.urlsplit(rp)
            return 'realm="%s"' % urllib.parse.urlunsplit((old.scheme, old.netloc, want.path, want.query, ""))
        value, n = re.subn(r'realm="([^"]*)"', new_realm, value, count=1)
        if n:
            state.hit("realm-path", marks)
    case = state.quirk("scheme-case")
    if case is not None:
        scheme, sp, rest = value.partition(" ")
        value = (scheme.upper() if case == "upper" else scheme.lower()) + sp + rest
        state.hit("scheme-case", marks)
    return value


def answer_headers(state, status, headers, marks):
    """The answer-side quirks: HEADERS (a list of (name, value)) as the client gets them."""
    out = []
    challenges = []
    for k, v in headers:
        lk = k.lower()
        if lk == "www-authenticate" and status == 401:
            challenges.append(rewrite_challenge(state, v, marks))
            continue
        if lk == "location" and state.quirk("relative-location") and v.startswith(state.front_base + "/"):
            v = v[len(state.front_base):]
            state.hit("relative-location", marks)
        if lk == "docker-content-digest" and state.quirk("digest-header"):
            state.hit("digest-header", marks)
            if state.quirk("digest-header") == "missing":
                continue
            v = v.split(":", 1)[-1]
        if lk == "retry-after" and state.quirk("retry-after-date") and re.fullmatch(r"\s*[0-9]+\s*", v):
            v = email.utils.formatdate(math.ceil(time.time()) + int(v), usegmt=True)
            state.hit("retry-after-date", marks)
        out.append((k, v))
    if status == 401:
        neg = state.quirk("negotiate")
        if neg is not None:
            case = state.quirk("scheme-case")
            word = {"upper": "NEGOTIATE", "lower": "negotiate"}.get(case, "Negotiate")
            if neg == "joined" and challenges:
                challenges = [", ".join([word] + challenges)]
            else:
                challenges.insert(0, word)
            state.hit("negotiate", marks)
        out.extend(("WWW-Authenticate", c) for c in challenges)
    return out


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
                        self.body_in += len(data)
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
                    self.body_in += len(data)
                    yield data

        def drain(self):
            for _ in self.body_chunks():
                pass

        def has_body(self):
            return (self.headers.get("Content-Length") is not None or
                    "chunked" in (self.headers.get("Transfer-Encoding") or "").lower())

        # ---- answers --------------------------------------------------------
        def simple(self, status, body, ctype="application/json", extra=(), fault=None, reason=None):
            if isinstance(body, str):
                body = body.encode()
            control = fault is False
            headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))] + list(extra)
            if not control:
                headers = answer_headers(state, status, headers, self.marks)
            self.send_response_only(status, reason)
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if not control:
                state.log(self.client_address[0], self.command, self.path, status, len(body),
                          self.headers.get("User-Agent", ""), fault, self.logged_in(), self.marks)
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()

        def logged_in(self):
            return self.body_in if self.has_body() else None

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

        def quirk_control(self):
            n = int(self.headers.get("Content-Length") or 0)
            text = self.rfile.read(n).decode(errors="replace") if n else ""
            try:
                if self.command == "POST":
                    new = state.set_quirks(text)
                    self.simple(200, "quirks: %s\n" % " ".join("%s=%s" % kv for kv in sorted(new.items())),
                                "text/plain", fault=False)
                elif self.command == "DELETE":
                    self.simple(200, "cleared %d\n" % state.clear_quirks(text), "text/plain", fault=False)
                elif self.command == "GET":
                    with state.lock:
                        obj = {"set": dict(state.quirks), "applied": dict(state.applied)}
                    self.simple(200, json.dumps(obj) + "\n", fault=False)
                else:
                    self.simple(405, "no\n", "text/plain", fault=False)
            except ValueError as e:
                self.simple(400, "bad quirk %r: %s\n" % (text, e), "text/plain", fault=False)

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

        # ---- request-side quirks ----------------------------------------------
        def refuse_mount(self, code, repo, source):
            """Answer a mount the way a registry that will not mount does."""
            self.drain()
            extra = [("Docker-Distribution-Api-Version", "registry/2.0")]
            if code == "401":
                ch = state.base_challenge()
                if ch[:6].lower() == "bearer":
                    ch += ',scope="repository:%s:pull,push repository:%s:pull",error="insufficient_scope"' % (
                        repo, source)
                if ch:
                    extra.append(("WWW-Authenticate", ch))
                body = error_body("UNAUTHORIZED", "authentication required",
                                  [{"Type": "repository", "Name": source, "Action": "pull"}])
            elif code == "403":
                body = error_body("DENIED", "requested access to the resource is denied")
            else:
                body = error_body("NAME_UNKNOWN", "repository name not known to registry", {"name": source})
            self.simple(int(code), body, extra=extra)

        def request_quirks(self, method, target):
            """Act on the request before it is forwarded.  Returns (answered, target to forward)."""
            u = urllib.parse.urlsplit(target)
            if method == "POST" and re.search(r"/blobs/uploads/?$", u.path):
                q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
                if any(k == "mount" for k, _ in q):
                    refuse = state.quirk("mount-refuse")
                    if refuse is not None:
                        state.hit("mount-refuse", self.marks)
                        repo = u.path[len("/v2/"):].rsplit("/blobs/uploads", 1)[0]
                        self.refuse_mount(refuse, repo, dict(q).get("from", ""))
                        return True, target
                    if state.quirk("no-mount"):
                        state.hit("no-mount", self.marks)
                        rest = [(k, v) for k, v in q if k not in ("mount", "from")]
                        return False, urllib.parse.urlunsplit(("", "", u.path, urllib.parse.urlencode(rest), ""))
            limit = state.quirk("patch-limit")
            if method == "PATCH" and limit is not None:
                n = self.headers.get("Content-Length")
                if n is not None and int(n) > limit:
                    state.hit("patch-limit", self.marks)
                    self.drain()
                    self.simple(416, error_body(
                        "REQUESTED_RANGE_NOT_SATISFIABLE",
                        "the request body is too large and exceeds the maximum permissible limit of %.2fMiB"
                        % (limit / 1048576.0)), reason="Range Not Satisfiable")
                    return True, target
            how = state.quirk("head-401")
            if method == "HEAD" and how is not None:
                with state.lock:
                    first = target not in state.head_refused
                    state.head_refused.add(target)
                if how == "always" or first:
                    state.hit("head-401", self.marks)
                    ch = state.base_challenge()
                    self.simple(401, b"", extra=[("WWW-Authenticate", ch)] if ch else [])
                    return True, target
            m = BLOB_RE.match(u.path)
            if m and method in ("GET", "HEAD") and state.quirk("redirect-blobs") and self.blob_exists(target):
                state.hit("redirect-blobs", self.marks)
                with state.lock:
                    state.blob_auth[m.group(2)] = self.headers.get("Authorization", "")
                loc = "%s/storage/%s?%s" % (state.storage_base, m.group(2), urllib.parse.urlencode(
                    {"name": m.group(1), "X-Amz-Expires": "600", "X-Amz-Signature": "%x" % id(self)}))
                self.simple(307, b"", extra=[("Location", loc)])
                return True, target
            return False, target

        def blob_exists(self, target):
            """HEAD the blob at the registry with the client's credentials: only then redirect."""
            conn = state.upstream()
            try:
                headers = {"Host": state.target_netloc}
                if self.headers.get("Authorization"):
                    headers["Authorization"] = self.headers["Authorization"]
                conn.request("HEAD", target, headers=headers)
                resp = conn.getresponse()
                resp.read()
                return resp.status == 200
            except (OSError, http.client.HTTPException):
                return False
            finally:
                conn.close()

        def proxy(self):
            method, target = self.command, self.path
            ua = self.headers.get("User-Agent", "")
            client = self.client_address[0]
            self.body_in = 0
            self.marks = []
            path = urllib.parse.urlsplit(target).path
            if path == CONTROL:
                self.control()
                return
            if path == QUIRK_CONTROL:
                self.quirk_control()
                return
            fault = state.match(method, target)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            action = fault.action if fault is not None else "pass"

            if action == "status" and not fault.forward:
                self.drain()
                code = fault.code or CODES.get(fault.status, "UNKNOWN")
                body = error_body(code, "injected by faulty_proxy (fault #%d)" % fault.id)
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
            upstream_target = target
            if fault is None:
                answered, upstream_target = self.request_quirks(method, target)
                if answered:
                    return

            # forward
            conn = state.upstream()
            try:
                conn.putrequest(method, upstream_target, skip_host=True, skip_accept_encoding=True)
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
                self.simple(502, error_body("UNAVAILABLE", "faulty_proxy: upstream: %s" % e), fault=fault)
                self.close_connection = True
                return

            body_in = self.logged_in()
            try:
                if action == "status":
                    resp.read()
                    self.simple(fault.status, error_body(fault.code or CODES.get(fault.status, "UNKNOWN"),
                                "injected by faulty_proxy after forwarding (fault #%d)" % fault.id), fault=fault)
                    return
                if action == "lose":
                    resp.read()
                    state.log(client, method, target, "000", 0, ua, fault, body_in, self.marks)
                    self.abort()
                nobody = method == "HEAD" or resp.status in (204, 304) or resp.status < 200
                length = resp.getheader("Content-Length")
                headers = []
                for k, v in resp.getheaders():
                    lk = k.lower()
                    if lk in HOP:
                        continue
                    if lk == "location":
                        v = self.rewrite_location(v)
                    if lk == "range" and fault is not None and fault.range is not None:
                        v = fault.range
                    if lk == "content-length" and not nobody and resp.chunked:
                        continue
                    headers.append((k, v))
                self.send_response_only(resp.status, resp.reason)
                te_chunked = False
                for k, v in answer_headers(state, resp.status, headers, self.marks):
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
                    state.log(client, method, target, resp.status, 0, ua, fault, body_in, self.marks)
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
                    state.log(client, method, target, resp.status, sent, ua, fault, body_in, self.marks)
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
                state.log(client, method, target, resp.status, sent, ua, fault, body_in, self.marks)
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


def make_storage_handler(state):
    """The "storage host" of redirect-blobs: pre-signed URLs, no Authorization wanted."""
    class Storage(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, body, auth, ctype="application/xml"):
            self.send_response_only(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            state.log(self.client_address[0], self.command, self.path, status, len(body),
                      self.headers.get("User-Agent", ""), None, extra="auth=" + auth)
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            auth = "yes" if self.headers.get("Authorization") else "no"
            digest = u.path[len("/storage/"):] if u.path.startswith("/storage/") else ""
            name = urllib.parse.parse_qs(u.query).get("name", [""])[0]
            if auth == "yes":
                # what S3 says when a pre-signed URL comes with an Authorization header too
                self.answer(400, b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism "
                            b"allowed; only the X-Amz-Algorithm query parameter, Signature query string "
                            b"parameter or the Authorization header should be specified</Message></Error>", auth)
                return
            with state.lock:
                cred = state.blob_auth.get(digest)
            if not digest or not name or cred is None:
                self.answer(403, b"<Error><Code>AccessDenied</Code></Error>", auth)
                return
            conn = state.upstream()
            try:
                headers = {"Host": state.target_netloc}
                if cred:
                    headers["Authorization"] = cred
                conn.request(self.command, "/v2/%s/blobs/%s" % (name, digest), headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as e:
                self.answer(502, ("upstream: %s" % e).encode(), auth, "text/plain")
                return
            finally:
                conn.close()
            self.answer(resp.status, data, auth, "application/octet-stream")

        do_HEAD = do_GET

    return Storage


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
    die_with_parent()
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
    ap.add_argument("--quirk", action="append", default=[], metavar="NAME[=VALUE]",
                    help="switch a quirk on from the start (see the module's documentation)")
    args = ap.parse_args()

    state = State(args)
    try:
        for q in args.quirk:
            state.set_quirks(q)
    except ValueError as e:
        ap.error(str(e))
    srv = Server((args.listen, args.port), make_handler(state))
    storage = Server((args.listen, 0), make_storage_handler(state))
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.ssl_ctx = storage.ssl_ctx = ctx
        scheme = "https"
    port = srv.server_address[1]
    state.front_base = "%s://%s:%d" % (scheme, args.listen, port)
    # another origin for a client: another host name and another port
    state.storage_base = "%s://localhost:%d" % (scheme, storage.server_address[1])
    threading.Thread(target=storage.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
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
        storage.server_close()


if __name__ == "__main__":
    main()
