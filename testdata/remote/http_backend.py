#!/usr/bin/env python3
"""A small server speaking Terraform's http backend protocol, for driftlock's tests.

GET PATH returns the state last POSTed to PATH (404 when none), POST PATH stores it, DELETE
PATH removes it. When HTTP_BACKEND_USER / HTTP_BACKEND_PASSWORD are set, every request must
carry them as basic auth (401 otherwise). Listens on 127.0.0.1:PORT (argv[1]); prints "ready".
"""
import base64
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATES = {}
USER = os.environ.get("HTTP_BACKEND_USER")
PASSWORD = os.environ.get("HTTP_BACKEND_PASSWORD")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    def authorized(self):
        if USER is None:
            return True
        want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") == want:
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="state"')
        self.send_header("Content-Length", "12")
        self.end_headers()
        self.wfile.write(b"unauthorized")
        return False

    def do_GET(self):
        if not self.authorized():
            return
        body = STATES.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if not self.authorized():
            return
        n = int(self.headers.get("Content-Length", "0"))
        STATES[self.path.split("?")[0]] = self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_DELETE(self):
        if not self.authorized():
            return
        STATES.pop(self.path.split("?")[0], None)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
