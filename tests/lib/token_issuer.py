#!/usr/bin/env python3
"""tests/lib/token_issuer.py - a Docker registry token issuer for the test suite.

Implements the token flow that registries with `auth: token` (Docker Hub, the
CNCF distribution registry) send clients to:

  GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...][&offline_token=true]
       with Basic credentials (or none: anonymous)
  POST /token  form: grant_type=password&username=U&password=P&service=S&scope=...
                     grant_type=refresh_token&refresh_token=R&service=S&scope=...

Any path that ends in /token is served (/auth/v2/token as well: a realm with
a path prefix); query parameters other than the flow's own are logged.

and answers {"token", "access_token", "expires_in", "issued_at"} (plus
"refresh_token" for offline_token=true / access_type=offline / POST flows).
The token is an RS256 JWT with an x5c header holding the signer certificate,
signed with `openssl dgst -sha256 -sign` (no Python packages needed).

  * right credentials: every requested scope is granted, limited to the
    actions the account may do (--user/--password: everything; --account
    USER:PASS:ACTIONS, e.g. "reader:pw:pull", or "guest:pw:-" for an account
    that may log in but do nothing);
  * --confine USER=PREFIX: a token that grants USER push covers repositories
    whose name starts with PREFIX and nothing else, as GitLab's project-scoped
    push tokens (google/go-containerregistry#220, moby/moby#20387): a request
    asking for push on PREFIX/app and pull on other/base gets only the first,
    so the registry answers a mount from other/base with 401
    insufficient_scope.  A request for pull alone is granted anywhere (other
    projects' images stay readable);
  * no credentials: a token with an empty access list (so a private registry
    refuses the request), or pull-only access with --anonymous-pull;
  * wrong credentials: 401 {"details": "invalid username/password"}.

Every request is logged (one line) to --log: time, method, path (with the
extra query parameters), service, scopes, user, status and what was granted,
then " answer=minimal" when that quirk is on.  Passwords and tokens never are.

Quirks, set at start (--quirk NAME) or at run time on the same port:
  POST /__issuer__/quirks body NAME... / DELETE (body NAME..., empty: all) /
  GET -> JSON {"set": [...]}
  minimal-answer   (Azure ACR and others; containerd/overlaybd#35) the answer
                   is {"access_token": T} only: no "token", no "expires_in",
                   no "issued_at".
  huge-expiry      the answer says "expires_in": 2^63-1 (the token itself
                   still expires as --expires-in says): a client must not
                   overflow its clock with it.

The listening port is written to --port-file once the socket is bound (use
--port 0 to let the kernel pick a free one: no race).  SIGTERM stops it.
"""
import argparse
import base64
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from die_with_parent import die_with_parent

# distribution accepts a token up to this long after its "exp" (and before "nbf")
REGISTRY_LEEWAY = 60
QUIRKS = ("minimal-answer", "huge-expiry")
QUIRK_CONTROL = "/__issuer__/quirks"
# the query parameters of the token flow itself; others are logged
FLOW_PARAMS = {"service", "scope", "offline_token", "client_id", "account"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    def __init__(self, args):
        self.args = args
        self.accounts = {}  # user -> (password, set of actions or None for all)
        if args.user is not None:
            self.accounts[args.user] = (args.password or "", None)
        for spec in args.account:
            user, pw, actions = spec.split(":", 2)
            self.accounts[user] = (pw, None if actions in ("*", "") else
                                   set() if actions == "-" else set(actions.split(",")))
        self.confine = dict(c.split("=", 1) for c in args.confine)
        with open(args.cert) as f:
            pem = f.read()
        der_b64 = "".join(l.strip() for l in pem.splitlines() if l and not l.startswith("-----"))
        self.x5c = [der_b64]
        self.refresh = {}  # refresh token -> user
        self.lock = threading.Lock()
        self.logf = open(args.log, "a", buffering=1) if args.log else None
        self.quirks = set()
        for q in args.quirk:
            self.set_quirks(q)

    def set_quirks(self, text):
        names = text.split()
        bad = [n for n in names if n not in QUIRKS]
        if bad or not names:
            raise ValueError("unknown quirk %r (known: %s)" % (bad[0] if bad else "", " ".join(QUIRKS)))
        with self.lock:
            self.quirks.update(names)

    def log(self, line):
        if self.logf:
            with self.lock:
                self.logf.write(time.strftime("%Y-%m-%dT%H:%M:%S ") + line + "\n")

    def sign(self, data):
        p = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.args.key],
                           input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if p.returncode != 0:
            raise RuntimeError("openssl dgst failed: " + p.stderr.decode(errors="replace"))
        return p.stdout

    def grant(self, user, scopes):
        """The access list for USER (None = anonymous) asking for SCOPES."""
        if user is None:
            allowed = {"pull"} if self.args.anonymous_pull else set()
        else:
            allowed = self.accounts[user][1]
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
            if "*" in actions and allowed is None:
                got = ["*"]
            else:
                got = [a for a in actions if a and (allowed is None or a in allowed)]
            if user is None and not self.args.anonymous_pull:
                got = []
            if got:
                access.append({"type": typ, "name": name, "actions": got})
        prefix = self.confine.get(user) if user is not None else None
        if prefix is not None and any("push" in a["actions"] or "*" in a["actions"] for a in access):
            access = [a for a in access if a["name"].startswith(prefix)]
        return access

    def token(self, user, service, access):
        now = int(time.time())
        exp = now + self.args.expires_in
        nbf = now - 1
        if self.args.hard_expiry:
            # the registry adds 60 s of leeway: take it off so that the token
            # really stops working expires_in seconds from now
            exp -= REGISTRY_LEEWAY
            nbf = min(nbf, exp)
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {"iss": self.args.issuer, "sub": user or "", "aud": service,
                  "exp": exp, "nbf": nbf, "iat": now, "jti": secrets.token_hex(12),
                  "access": access}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = self.sign(signing_input.encode())
        return signing_input + "." + b64url(sig), now


def make_handler(issuer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "derrick-test-token-issuer/1"

        def log_message(self, fmt, *a):  # quiet stderr: the request log is ours
            pass

        def reply(self, status, obj, extra=None):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def basic_user(self):
            """(user, ok): user None when no credentials were sent."""
            h = self.headers.get("Authorization", "")
            if not h.lower().startswith("basic "):
                return None, True
            try:
                user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
            except Exception:
                return "?", False
            return self.check(user, pw)

        def check(self, user, pw):
            acct = issuer.accounts.get(user)
            return user, acct is not None and secrets.compare_digest(acct[0].encode(), pw.encode())

        def answer(self, kind, user, ok, service, scopes, offline, path):
            shown = user if user is not None else "-"
            if not ok:
                issuer.log("%s %s kind=%s service=%s scopes=%s user=%s status=401 granted=-" % (
                    self.command, path, kind, service, ",".join(scopes) or "-", shown))
                self.reply(401, {"details": "invalid username/password"},
                           {"WWW-Authenticate": 'Basic realm="derrick-test-token-issuer"'})
                return
            if service != issuer.args.service:
                issuer.log("%s %s kind=%s service=%s scopes=%s user=%s status=400 granted=-" % (
                    self.command, path, kind, service, ",".join(scopes) or "-", shown))
                self.reply(400, {"details": "unknown service %r" % service})
                return
            access = issuer.grant(user, scopes)
            tok, now = issuer.token(user, service, access)
            with issuer.lock:
                minimal = "minimal-answer" in issuer.quirks
                huge = "huge-expiry" in issuer.quirks
            obj = {"token": tok, "access_token": tok, "expires_in": (1 << 63) - 1 if huge else issuer.args.expires_in,
                   "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
            if minimal:
                obj = {"access_token": tok}
            elif offline and user is not None:
                r = secrets.token_urlsafe(24)
                with issuer.lock:
                    issuer.refresh[r] = user
                obj["refresh_token"] = r
            granted = ";".join("%s:%s:%s" % (a["type"], a["name"], ",".join(a["actions"])) for a in access)
            issuer.log("%s %s kind=%s service=%s scopes=%s user=%s status=200 granted=%s%s" % (
                self.command, path, kind, service, ",".join(scopes) or "-", shown, granted or "-",
                " answer=minimal" if minimal else ""))
            self.reply(200, obj)

        def scopes_of(self, values):
            out = []
            for v in values:
                out.extend(s for s in v.split(" ") if s)
            return out

        def shown_path(self, u):
            """The path, with the query parameters that are not the token flow's own."""
            extra = [(k, v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)
                     if k not in FLOW_PARAMS]
            return u.path + ("?" + urllib.parse.urlencode(extra) if extra else "")

        def quirk_control(self, body):
            try:
                if self.command == "POST":
                    issuer.set_quirks(body)
                elif self.command == "DELETE":
                    with issuer.lock:
                        if body.split():
                            issuer.quirks.difference_update(body.split())
                        else:
                            issuer.quirks.clear()
            except ValueError as e:
                self.reply(400, {"details": str(e)})
                return
            with issuer.lock:
                self.reply(200, {"set": sorted(issuer.quirks)})

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == QUIRK_CONTROL:
                self.quirk_control("")
                return
            if not u.path.endswith("/token"):
                issuer.log("GET %s status=404" % u.path)
                self.reply(404, {"details": "not found"})
                return
            q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
            user, ok = self.basic_user()
            offline = q.get("offline_token", ["false"])[0] == "true"
            self.answer("basic" if user is not None else "anonymous", user, ok,
                        q.get("service", [""])[0], self.scopes_of(q.get("scope", [])), offline,
                        self.shown_path(u))

        def do_DELETE(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode(errors="replace") if n else ""
            if urllib.parse.urlsplit(self.path).path != QUIRK_CONTROL:
                self.reply(405, {"details": "no"})
                return
            self.quirk_control(body)

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode(errors="replace") if n else ""
            if u.path == QUIRK_CONTROL:
                self.quirk_control(body)
                return
            if not u.path.endswith("/token"):
                issuer.log("POST %s status=404" % u.path)
                self.reply(404, {"details": "not found"})
                return
            f = urllib.parse.parse_qs(body, keep_blank_values=True)
            g = lambda k: f.get(k, [""])[0]
            grant_type = g("grant_type")
            scopes = self.scopes_of(f.get("scope", []))
            if grant_type == "password":
                user, ok = self.check(g("username"), g("password"))
                self.answer("password", user, ok, g("service"), scopes, True, self.shown_path(u))
            elif grant_type == "refresh_token":
                with issuer.lock:
                    user = issuer.refresh.get(g("refresh_token"))
                if user is None:
                    issuer.log("POST %s kind=refresh_token service=%s scopes=%s user=- status=401 granted=-" % (
                        u.path, g("service"), ",".join(scopes) or "-"))
                    self.reply(401, {"details": "invalid refresh token"})
                    return
                self.answer("refresh_token", user, True, g("service"), scopes, False, self.shown_path(u))
            else:
                issuer.log("POST %s kind=%s status=400" % (u.path, grant_type or "-"))
                self.reply(400, {"details": "unsupported grant_type %r" % grant_type})

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ssl_ctx = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_ctx is not None:
            # handshake in the handler thread, not in the accept loop
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


def main():
    die_with_parent()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--account", action="append", default=[], help="USER:PASS:ACTIONS (pull / pull,push / * / -)")
    ap.add_argument("--anonymous-pull", action="store_true", help="anonymous tokens may pull")
    ap.add_argument("--confine", action="append", default=[], metavar="USER=PREFIX",
                    help="a token granting USER push covers only repositories under PREFIX")
    ap.add_argument("--quirk", action="append", default=[], metavar="NAME", help=" or ".join(QUIRKS))
    ap.add_argument("--key", required=True, help="RSA signing key (PEM)")
    ap.add_argument("--cert", required=True, help="its certificate (PEM): the registry's rootcertbundle")
    ap.add_argument("--issuer", default="test-issuer")
    ap.add_argument("--service", default="test-registry")
    ap.add_argument("--expires-in", type=int, default=300)
    ap.add_argument("--hard-expiry", action="store_true",
                    help="make exp early by the registry's 60 s leeway so the token dies after --expires-in")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--log")
    args = ap.parse_args()

    try:
        issuer = Issuer(args)
    except ValueError as e:
        ap.error(str(e))
    srv = Server((args.listen, args.port), make_handler(issuer))
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.ssl_ctx = ctx
    port = srv.server_address[1]
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
