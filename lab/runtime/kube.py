"""A small Kubernetes API client for the lab's pod runtime: kubeconfig with client certificates,
JSON requests, and list+watch streams. Stdlib only, so the runtime starts in well under a second
and every request it makes is visible here."""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
import threading
import time
import urllib.parse


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str, what: str):
        super().__init__("%s: HTTP %d %s" % (what, status, body[:300]))
        self.status = status


class Client:
    """One API server, one TLS context; a connection per thread (http.client is not thread-safe)."""

    SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

    @classmethod
    def in_cluster(cls) -> Client:
        """The pod's own identity: its ServiceAccount token (re-read on every request, the
        kubelet rotates it), the cluster CA, KUBERNETES_SERVICE_HOST/PORT."""
        self = cls.__new__(cls)
        self.host = os.environ["KUBERNETES_SERVICE_HOST"]
        self.port = int(os.environ.get("KUBERNETES_SERVICE_PORT", "443"))
        self.ssl = ssl.create_default_context(cafile=os.path.join(cls.SA_DIR, "ca.crt"))
        self.token_file = os.path.join(cls.SA_DIR, "token")
        self.token = None
        self._local = threading.local()
        return self

    def __init__(self, kubeconfig: str):
        import yaml  # only here: in-cluster clients (lab/gateway in a pod) need no PyYAML

        self.token_file = None
        with open(kubeconfig, encoding="utf-8") as handle:
            cfg = yaml.safe_load(handle)
        ctx_name = cfg.get("current-context") or cfg["contexts"][0]["name"]
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        url = urllib.parse.urlparse(cluster["server"])
        self.host, self.port = url.hostname, url.port or 443
        self.ssl = ssl.create_default_context()
        base = os.path.dirname(os.path.abspath(kubeconfig))
        self._tmp = tempfile.TemporaryDirectory(prefix="lab-runtime-kube-")
        os.chmod(self._tmp.name, 0o700)
        self.ca_file = self._material(cluster, "certificate-authority", base, "ca.crt")
        if self.ca_file:
            self.ssl.load_verify_locations(self.ca_file)
        cert = self._material(user, "client-certificate", base, "client.crt")
        key = self._material(user, "client-key", base, "client.key")
        if cert and key:
            self.ssl.load_cert_chain(cert, key)
        self.token = user.get("token")
        self._local = threading.local()

    def _material(self, section: dict, field: str, base: str, name: str) -> str | None:
        if section.get(field + "-data"):
            path = os.path.join(self._tmp.name, name)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
                handle.write(base64.b64decode(section[field + "-data"]))
            return path
        if section.get(field):
            return os.path.join(base, section[field])
        return None

    def _conn(self, timeout: float = 30) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.ssl, timeout=timeout)
            self._local.conn = conn
        return conn

    def _headers(self, content_type: str | None = None) -> dict:
        headers = {"Accept": "application/json", "User-Agent": "llm-platform-lab-runtime"}
        token = self.token
        if self.token_file:
            with open(self.token_file, encoding="ascii") as handle:
                token = handle.read().strip()
        if token:
            headers["Authorization"] = "Bearer " + token
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def request(self, method: str, path: str, body=None, content_type: str = "application/json", ok=(200, 201, 202)):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        for attempt in range(4):
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=self._headers(content_type if data is not None else None))
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 3:
                    raise
                time.sleep(0.2 * (attempt + 1))
                continue
            if resp.status in (429, 500, 502, 503, 504) and attempt < 3:
                time.sleep(0.5 * (attempt + 1))
                continue
            if resp.status not in ok:
                raise ApiError(resp.status, raw.decode(errors="replace"), "%s %s" % (method, path))
            return json.loads(raw) if raw else None
        raise AssertionError("unreachable")

    def get(self, path: str):
        return self.request("GET", path)

    def maybe_get(self, path: str):
        try:
            return self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def patch(self, path: str, body, kind: str = "merge"):
        types = {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "json": "application/json-patch+json",
        }
        return self.request("PATCH", path, body, content_type=types[kind])

    def apply(self, path: str, obj: dict, manager: str = "llm-platform-lab-runtime"):
        query = "?fieldManager=%s&force=true" % manager
        return self.request("PATCH", path + query, obj, content_type="application/apply-patch+yaml")

    def delete(self, path: str, body=None):
        try:
            return self.request("DELETE", path, body)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def watch(self, path: str, stop: threading.Event, on_event, query: str = ""):
        """List then watch `path` (a collection) until `stop`; on_event(type, obj) per change.
        A first ("SYNC", list) call carries the full list, so callers can rebuild their cache."""
        sep = "&" if "?" in path else "?"
        while not stop.is_set():
            try:
                listing = self.get(path + (sep + query if query else ""))
                on_event("SYNC", listing.get("items", []))
                rv = listing["metadata"]["resourceVersion"]
                conn = http.client.HTTPSConnection(self.host, self.port, context=self.ssl, timeout=330)
                q = "%swatch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=%s%s" % (sep, rv, ("&" + query) if query else "")
                conn.request("GET", path + q, headers=self._headers())
                resp = conn.getresponse()
                if resp.status != 200:
                    raise ApiError(resp.status, resp.read().decode(errors="replace"), "watch " + path)
                while not stop.is_set():
                    line = resp.readline()
                    if not line:
                        break
                    event = json.loads(line)
                    if event["type"] == "ERROR":
                        break
                    if event["type"] != "BOOKMARK":
                        on_event(event["type"], event["object"])
                conn.close()
            except (OSError, http.client.HTTPException, ApiError, ValueError, KeyError):
                if stop.wait(1.0):
                    return


def obj_path(kind_plural: str, namespace: str | None, name: str | None = None, group: str = "", version: str = "v1") -> str:
    base = "/api/v1" if not group else "/apis/%s/%s" % (group, version)
    if namespace:
        base += "/namespaces/" + namespace
    base += "/" + kind_plural
    return base + ("/" + name if name else "")
