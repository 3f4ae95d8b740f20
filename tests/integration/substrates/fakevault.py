"""A local HTTP test server speaking Vault's (and OpenBao's) KV version 2 REST shapes, for the
platform's vault secret backend: ``GET/POST /v1/<mount>/data/<path>`` (read the current version,
write a new one with optional check-and-set), ``GET /v1/<mount>/metadata/<path>``. Every request
needs ``X-Vault-Token`` (403 ``permission denied`` otherwise), as Vault answers. Values are kept
in memory with their versions so tests can check create-if-absent and never-overwrite. Listens on
127.0.0.1 only; every request is logged without its body."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FakeVault:
    def __init__(self, token, mount="secret"):
        self.token = token
        self.mount = mount
        self.kv = {}  # path -> [data dict], oldest first
        self.log = []  # (method, path, status)
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def _meta(self, versions):
        return {"version": len(versions), "created_time": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "deletion_time": "", "destroyed": False}

    def handle(self, method, path, token, body):
        if token != self.token:
            return 403, {"errors": ["permission denied"]}
        m = re.fullmatch(r"/v1/%s/(data|metadata)/(.+)" % re.escape(self.mount), path)
        if not m:
            return 404, {"errors": []}
        kind, key = m.groups()
        versions = self.kv.get(key)
        if kind == "metadata" and method == "GET":
            if not versions:
                return 404, {"errors": []}
            return 200, {
                "data": {
                    "current_version": len(versions),
                    "oldest_version": 1,
                    "max_versions": 0,
                    "versions": {str(i + 1): self._meta(versions[: i + 1]) for i in range(len(versions))},
                }
            }
        if kind == "data" and method == "GET":
            if not versions:
                return 404, {"errors": []}
            return 200, {"request_id": "fake", "data": {"data": dict(versions[-1]), "metadata": self._meta(versions)}}
        if kind == "data" and method in ("POST", "PUT"):
            cas = (body.get("options") or {}).get("cas")
            if cas is not None and cas != len(versions or []):
                return 400, {"errors": ["check-and-set parameter did not match the current version"]}
            self.kv.setdefault(key, []).append(dict(body.get("data") or {}))
            return 200, {"data": self._meta(self.kv[key])}
        return 405, {"errors": ["unsupported operation"]}


class _Handler(BaseHTTPRequestHandler):
    fake = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _serve(self):
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.fake.lock:
            status, payload = self.fake.handle(self.command, path, self.headers.get("X-Vault-Token"), json.loads(raw) if raw else {})
            self.fake.log.append((self.command, path, status))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve
