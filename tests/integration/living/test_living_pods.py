"""The platform's own pods run as real processes: LiteLLM with its database and migrations,
as its ServiceAccount, restarted when it dies, and the runtime never lets a pod leave loopback."""

from __future__ import annotations

import json
import os
import signal
import urllib.request

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.living]


def test_litellm_database_and_migrations_ran(living):
    living.backed_pod("litellm", "litellm-db")  # the statefulset database of inventories/lab
    jobs = living.labkit.kubectl_json("-n", "litellm", "get", "jobs")["items"]
    migrations = [j for j in jobs if "migrat" in j["metadata"]["name"]]
    # The hook Job may be deleted after success (hook-delete-policy); then the Application's
    # last operation records it.
    if migrations:
        assert all(j["status"].get("succeeded") == 1 for j in migrations), [j["status"] for j in migrations]
    else:
        op = living.applications()["litellm"]["status"]["operationState"]
        hooks = [r for r in op["syncResult"]["resources"] if r["kind"] == "Job" and r.get("hookType") == "Sync"]
        assert hooks and all(h.get("hookPhase") == "Succeeded" for h in hooks), hooks


def test_litellm_runs_as_its_service_account(living):
    pod = living.labkit.kubectl_json("-n", "litellm", "get", "pods", "-l", "app.kubernetes.io/name=litellm")["items"][0]
    sa = pod["spec"].get("serviceAccountName", "default")
    backed = living.backed_pod("litellm", pod["metadata"]["name"])
    pid = next(c["pid"] for c in backed["containers"].values() if c["pid"])
    with open("/proc/%d/status" % pid, encoding="ascii") as handle:
        uid = next(line.split()[1] for line in handle if line.startswith("Uid:"))
    want = pod["spec"].get("securityContext", {}).get("runAsUser")
    if want is not None:
        assert int(uid) == want
    assert int(uid) != 0, "LiteLLM must not run as root"
    token_path = "/proc/%d/root/var/run/secrets/kubernetes.io/serviceaccount/token" % pid
    if pod["spec"].get("automountServiceAccountToken") is False:
        assert not os.path.exists(token_path)
        return
    with open(token_path, encoding="ascii") as handle:
        token = handle.read().strip()
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    out = json.loads(living.labkit.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(review)).stdout)
    assert out["status"]["authenticated"] is True
    assert out["status"]["user"]["username"] == "system:serviceaccount:litellm:%s" % sa


def test_a_killed_process_is_restarted_and_counted(living):
    pod = living.labkit.kubectl_json("-n", "litellm", "get", "pods", "-l", "app.kubernetes.io/name=litellm")["items"][0]
    name = pod["metadata"]["name"]
    (status,) = [c for c in pod["status"]["containerStatuses"] if c["name"] == "litellm"]
    before = status["restartCount"]
    backed = living.backed_pod("litellm", name)
    os.kill(backed["containers"]["litellm"]["pid"], signal.SIGKILL)

    def restarted_and_ready():
        p = living.labkit.kubectl_json("-n", "litellm", "get", "pod", name)
        (c,) = [c for c in p["status"]["containerStatuses"] if c["name"] == "litellm"]
        return c["restartCount"] > before and c["ready"] and c

    c = living.labkit.wait_for(restarted_and_ready, timeout=300, interval=2, what="the LiteLLM container to restart and be Ready")
    assert c["lastState"]["terminated"]["exitCode"] == 137


def test_the_public_v1_answers_through_the_litellm_pod(living):
    key = living.secret_value("platform-secrets", "litellm-master-key", "value")
    with living.port_forward("litellm", "svc/litellm", 4000) as url:
        req = urllib.request.Request(url + "/v1/models", headers={"Authorization": "Bearer " + key})  # noqa: S310 - loopback
        with urllib.request.urlopen(req, timeout=30) as reply:  # noqa: S310 - loopback port-forward
            models = {m["id"] for m in json.load(reply)["data"]}
    assert "qwen-local" in models


def test_no_pod_dialled_outside_loopback_and_every_listener_is_loopback(living):
    assert living.state()["violations"] == []
    out = living.netns_run("ss", "-Hltn").stdout
    addrs = {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}
    assert addrs, "no listeners found"
    for addr in addrs:
        assert addr.startswith("127.") or addr in ("[::1]", "::1"), addr
