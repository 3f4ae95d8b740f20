"""k8s_apply's transport through the real `kubernetes` ApiClient, against a stub HTTP server on
127.0.0.1: kubeconfig and context, bearer token, the apply content type, JSON body, query encoding,
error bodies and Retry-After."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from ansible_collections.llm.platform.plugins.module_utils import _k8s


class Stub(BaseHTTPRequestHandler):
    answers: ClassVar[list] = []
    seen: ClassVar[list] = []

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.seen.append(dict(method=self.command, path=url.path, query=parse_qsl(url.query), headers=headers, body=body))
        status, headers, payload = self.answers.pop(0) if self.answers else (200, {}, {"ok": True})
        data = json.dumps(payload).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_DELETE = _handle


@pytest.fixture
def server():
    Stub.answers, Stub.seen = [], []
    httpd = HTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def kubeconfig(server, tmp_path):
    port = server.server_address[1]
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "wrong",
        "clusters": [
            {"name": "stub", "cluster": {"server": "http://127.0.0.1:%d" % port}},
            {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}},
        ],
        "users": [{"name": "u", "user": {"token": "stub-token"}}],
        "contexts": [
            {"name": "right", "context": {"cluster": "stub", "user": "u"}},
            {"name": "wrong", "context": {"cluster": "nowhere", "user": "u"}},
        ],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_apply_request_on_the_wire(server, kubeconfig):
    client = _k8s.K8sClient.from_kubeconfig(kubeconfig, "right", timeout=5, retries=0)
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "v"}}
    Stub.answers = [(200, {}, dict(obj, metadata=dict(obj["metadata"], resourceVersion="7")))]
    query = [("fieldManager", "llm-platform"), ("force", "false"), ("dryRun", "All"), ("labelSelector", "a.io/set=x,b=c")]
    out = client.request("PATCH", "/api/v1/namespaces/n/configmaps/a", query=query, body=obj, content_type="application/apply-patch+yaml")
    assert out["metadata"]["resourceVersion"] == "7"
    (req,) = Stub.seen
    assert req["method"] == "PATCH" and req["path"] == "/api/v1/namespaces/n/configmaps/a"
    assert req["headers"]["content-type"] == "application/apply-patch+yaml"
    assert req["headers"]["authorization"] == "Bearer stub-token"
    assert json.loads(req["body"]) == obj
    assert req["query"] == query
    assert client.requests == [{"method": "PATCH", "path": "/api/v1/namespaces/n/configmaps/a", "dry_run": True}]


def test_error_body_and_retry_after(server, kubeconfig):
    sleeps = []
    client = _k8s.K8sClient.from_kubeconfig(kubeconfig, "right", timeout=5, retries=2, sleep=sleeps.append)
    status = {
        "kind": "Status",
        "reason": "Invalid",
        "message": 'ConfigMap "a" is invalid: data: bad',
        "details": {"causes": [{"field": "data"}]},
    }
    Stub.answers = [(429, {"Retry-After": "2"}, {"reason": "TooManyRequests"}), (422, {}, status)]
    with pytest.raises(_k8s.K8sError) as exc:
        client.request("GET", "/api/v1/namespaces/n/configmaps", obj="ConfigMap n/a")
    assert sleeps == [2.0] and exc.value.status == 422 and exc.value.reason == "Invalid"
    assert exc.value.describe() == 'ConfigMap n/a: HTTP 422 Invalid: ConfigMap "a" is invalid: data: bad (after 2 attempts)'
    assert client.request("GET", "/api/v1/namespaces/n/configmaps/x", not_found_ok=True) == {"ok": True}
    Stub.answers = [(404, {}, {"reason": "NotFound"})]
    assert client.request("GET", "/api/v1/namespaces/n/configmaps/x", not_found_ok=True) is None


def test_unreachable_server_is_a_clear_error(kubeconfig):
    client = _k8s.K8sClient.from_kubeconfig(kubeconfig, "wrong", timeout=2, retries=1, sleep=lambda s: None)
    with pytest.raises(_k8s.K8sError) as exc:
        client.request("GET", "/api/v1")
    assert exc.value.status is None and "cannot reach the API server" in exc.value.describe() and exc.value.attempts == 2
