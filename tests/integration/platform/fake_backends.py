"""Minimal fakes of the two remote secret backends the secrets playbook writes to, on
127.0.0.1 only: GCP Secret Manager (v1 REST: secrets, versions/latest metadata, addVersion) and
Vault/OpenBao KV v2 (metadata read, data write with check-and-set). They keep values in memory
so a test can check create-if-absent and never-overwrite."""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "fake-token"


class Store:
    def __init__(self):
        self.values = {}  # name -> list of versions (str)
        self.requests = []


def _handler(store, kind):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, code, body=None):
            data = json.dumps(body or {}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self):
            if kind == "gcpsm":
                return self.headers.get("Authorization") == "Bearer " + TOKEN
            return self.headers.get("X-Vault-Token") == TOKEN

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self):
            store.requests.append(("GET", self.path))
            if not self._authorized():
                return self._reply(403)
            if kind == "gcpsm":
                m = re.match(r"^/v1/projects/[^/]+/secrets/([^/:]+)(/versions/latest)?$", self.path)
                if not m:
                    return self._reply(400)
                name, latest = m.group(1), m.group(2)
                if name not in store.values or (latest and not store.values[name]):
                    return self._reply(404, {"error": {"status": "NOT_FOUND"}})
                return self._reply(200, {"name": name})  # metadata only, never the payload
            m = re.match(r"^/v1/secret/metadata/(.+)$", self.path)
            if not m:
                return self._reply(400)
            return self._reply(200 if m.group(1) in store.values else 404, {})

        def do_POST(self):
            store.requests.append(("POST", self.path))
            if not self._authorized():
                return self._reply(403)
            body = self._body()
            if kind == "gcpsm":
                m = re.match(r"^/v1/projects/[^/]+/secrets\?secretId=(.+)$", self.path)
                if m:
                    if m.group(1) in store.values:
                        return self._reply(409)
                    store.values[m.group(1)] = []
                    return self._reply(200, {"name": m.group(1)})
                m = re.match(r"^/v1/projects/[^/]+/secrets/([^/:]+):addVersion$", self.path)
                if m and m.group(1) in store.values:
                    store.values[m.group(1)].append(base64.b64decode(body["payload"]["data"]).decode())
                    return self._reply(200, {})
                return self._reply(404)
            m = re.match(r"^/v1/secret/data/(.+)$", self.path)
            if not m:
                return self._reply(400)
            if body.get("options", {}).get("cas") == 0 and m.group(1) in store.values:
                return self._reply(400, {"errors": ["check-and-set parameter did not match the current version"]})
            store.values.setdefault(m.group(1), []).append(body["data"]["value"])
            return self._reply(200, {})

    return Handler


class FakeBackend:
    """with FakeBackend("gcpsm"|"vault") as fake: fake.url, fake.store"""

    def __init__(self, kind):
        self.kind = kind
        self.store = Store()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.store, kind))
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
