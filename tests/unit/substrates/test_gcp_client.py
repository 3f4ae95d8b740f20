"""Unit tests of the private GCP REST client (plugins/module_utils/_gcp.py): error mapping
(quota errors name the quota), retries with backoff, 404 as absent, operation polling."""

from __future__ import annotations

import pytest

from ansible_collections.llm.platform.plugins.module_utils import _gcp


class Resp:
    def __init__(self, status, payload=None, headers=None):
        self.status_code = status
        self._payload = payload
        self.headers = headers or {}
        self.content = b"x" if payload is not None else b""
        self.text = str(payload)

    def json(self):
        return self._payload


class Session:
    """Replays canned responses and records requests; never touches the network."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.sent = []

    def request(self, method, url, json=None, params=None, timeout=None):
        self.sent.append((method, url, json))
        return self.responses.pop(0)


def client(responses, **params):
    slept = []
    base = {
        "api_endpoint": "http://127.0.0.1:1/{service}",
        "retries": 3,
        "retry_backoff": 1.0,
        "poll_interval": 2.0,
        "operation_timeout": 10,
    }
    base.update(params)
    clock = iter(range(0, 10_000, 3))
    c = _gcp.GcpClient(base, session=Session(responses), sleep=slept.append, clock=lambda: next(clock))
    return c, slept


def gerr(code, status, message, details=None):
    return {"error": {"code": code, "status": status, "message": message, "details": details or []}}


def test_quota_from_message_is_named():
    err = _gcp.map_error(403, gerr(403, "FORBIDDEN", "Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region us-central1."))
    assert err.quota == "NVIDIA_L4_GPUS" and err.message.startswith("Quota exceeded: NVIDIA_L4_GPUS.")


def test_quota_from_error_info_metadata_is_named():
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "QUOTA_EXCEEDED",
            "metadata": {"quota_metric": "compute.googleapis.com/cpus"},
        }
    ]
    err = _gcp.map_error(403, gerr(403, "RESOURCE_EXHAUSTED", "Insufficient quota", details))
    assert err.quota == "compute.googleapis.com/cpus" and err.failure()["quota"] == "compute.googleapis.com/cpus"


def test_service_disabled_and_permission_messages():
    details = [{"reason": "SERVICE_DISABLED", "metadata": {"service": "container.googleapis.com"}}]
    err = _gcp.map_error(
        403, gerr(403, "PERMISSION_DENIED", "Kubernetes Engine API has not been used in project 1 before or it is disabled.", details)
    )
    assert "API container.googleapis.com is not enabled" in err.message and "gcp_service" in err.message
    err = _gcp.map_error(
        403, gerr(403, "PERMISSION_DENIED", "Permission 'container.clusters.create' denied"), {"method": "POST", "path": "/v1/x"}
    )
    assert err.message.startswith("Permission denied for POST /v1/x") and err.quota is None
    err = _gcp.map_error(401, gerr(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
    assert "Not authenticated" in err.message


def test_retries_5xx_and_429_with_backoff_then_succeeds():
    c, slept = client(
        [
            Resp(503, gerr(503, "UNAVAILABLE", "x")),
            Resp(429, gerr(429, "RESOURCE_EXHAUSTED", "rate"), {"Retry-After": "7"}),
            Resp(200, {"ok": 1}),
        ]
    )
    assert c.request("POST", "container", "v1/a", body={}) == (200, {"ok": 1})
    assert len(c.session.sent) == 3 and c.retried == 2
    assert 0.5 <= slept[0] <= 1.0 and slept[1] == 7.0
    assert c.requests == [{"method": "POST", "service": "container", "path": "/v1/a", "body": {}}]  # logged once


def test_gives_up_after_retries_and_does_not_retry_400():
    c, slept = client([Resp(500, gerr(500, "INTERNAL", "boom"))] * 4)
    with pytest.raises(_gcp.GcpError) as exc:
        c.request("GET", "iam", "v1/b")
    assert exc.value.status == 500 and len(slept) == 3
    c, slept = client([Resp(400, gerr(400, "INVALID_ARGUMENT", "bad"))])
    with pytest.raises(_gcp.GcpError):
        c.request("PUT", "container", "v1/c", body={})
    assert slept == []


def test_busy_cluster_precondition_is_retried():
    busy = Resp(400, gerr(400, "FAILED_PRECONDITION", "Cluster is running incompatible operation operation-123."))
    c, slept = client([busy, Resp(200, {"name": "op"})])
    assert c.request("PUT", "container", "v1/c", body={})[1] == {"name": "op"} and len(slept) == 1


def test_get_404_is_none_and_endpoint_override():
    c, _ = client([Resp(404, gerr(404, "NOT_FOUND", "nope"))])
    assert c.get("container", "v1/projects/p/locations/l/clusters/x") is None
    assert c.session.sent[0][1] == "http://127.0.0.1:1/container/v1/projects/p/locations/l/clusters/x"
    assert c.requests == []  # reads are not logged as mutations


def test_wait_gke_polls_until_done_with_progress():
    running = {"name": "op-1", "status": "RUNNING", "progress": {"metrics": [{"name": "nodes done", "intValue": "1"}]}}
    c, slept = client([Resp(200, running), Resp(200, {"name": "op-1", "status": "DONE"})], operation_timeout=100)
    op = c.wait_gke("p", "l", {"name": "op-1", "status": "PENDING"}, "create")
    assert op["status"] == "DONE" and slept == [2.0, 2.0]
    assert c.operations[0]["progress"] == ["PENDING", "RUNNING nodes done=1", "DONE"] and c.operations[0]["polls"] == 2


def test_wait_gke_error_and_timeout():
    c, _ = client([], operation_timeout=100)
    with pytest.raises(_gcp.GcpError) as exc:
        c.wait_gke("p", "l", {"name": "op-2", "status": "DONE", "error": {"code": 3, "message": "Invalid machine type"}}, "create")
    assert "Operation op-2 (create) failed: Invalid machine type" in exc.value.message
    c, _ = client([Resp(200, {"name": "op-3", "status": "RUNNING"})] * 10, operation_timeout=5)
    with pytest.raises(_gcp.GcpError) as exc:
        c.wait_gke("p", "l", {"name": "op-3", "status": "RUNNING"}, "create")
    assert exc.value.message.startswith("Timed out after 5s waiting for operation op-3")


def test_lro_done_immediately_needs_no_poll():
    c, slept = client([])
    assert c.wait_lro("serviceusage", {"name": "operations/x", "done": True, "response": {}})["done"] and slept == []
