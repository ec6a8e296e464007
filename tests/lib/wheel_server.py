#!/usr/bin/env python3
"""wheel_server.py - a file server for the download tests (tests/e2e/py_fetch.sh).

Serves --root on 127.0.0.1 with a few paths that behave like real indexes
and file hosts:
  /private/X    needs HTTP Basic auth as --user/--password (401 otherwise)
  /redirect/X   302 to /X
  /flaky/X      503 on the first request for X, then X
  /X            the file; *.json as PEP 691 JSON, *.html as text/html
Each request is logged to --log as "METHOD PATH STATUS USER" (USER: the
Basic user name or "-"; never a password).
"""
import argparse
import base64
import http.server
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from die_with_parent import die_with_parent  # noqa: E402

seen = set()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b'', ctype='application/octet-stream', headers=()):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        user = '-'
        auth = self.headers.get('Authorization', '')
        if auth.startswith('Basic '):
            try:
                user = base64.b64decode(auth[6:]).decode().split(':', 1)[0]
            except ValueError:
                user = '?'
        with open(args.log, 'a') as f:
            f.write('%s %s %d %s\n' % (self.command, self.path, status, user))

    def do_GET(self):
        path = self.path.split('?', 1)[0]
        if path.startswith('/redirect/'):
            return self.answer(302, headers=[('Location', path[len('/redirect'):])])
        if path.startswith('/flaky/'):
            if path not in seen:
                seen.add(path)
                return self.answer(503, b'try again')
            path = path[len('/flaky'):]
        if path.startswith('/private/'):
            want = 'Basic ' + base64.b64encode(('%s:%s' % (args.user, args.password)).encode()).decode()
            if self.headers.get('Authorization') != want:
                return self.answer(401, b'no', headers=[('WWW-Authenticate', 'Basic realm="wheels"')])
            path = path[len('/private'):]
        full = os.path.join(args.root, path.lstrip('/'))
        if path.endswith('/'):
            for index, ctype in (('index.json', 'application/vnd.pypi.simple.v1+json'), ('index.html', 'text/html')):
                if os.path.isfile(os.path.join(full, index)):
                    full = os.path.join(full, index)
                    break
        if not os.path.isfile(full):
            return self.answer(404, b'not found')
        ctype = ('application/vnd.pypi.simple.v1+json' if full.endswith('.json') else
                 'text/html' if full.endswith('.html') else 'application/octet-stream')
        with open(full, 'rb') as f:
            self.answer(200, f.read(), ctype)


def main():
    global args
    die_with_parent()
    p = argparse.ArgumentParser()
    p.add_argument('--root', required=True)
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--port-file', required=True)
    p.add_argument('--log', required=True)
    p.add_argument('--user', default='')
    p.add_argument('--password', default='')
    args = p.parse_args()
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    with open(args.port_file + '.tmp', 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(args.port_file + '.tmp', args.port_file)
    srv.serve_forever()


if __name__ == '__main__':
    main()
