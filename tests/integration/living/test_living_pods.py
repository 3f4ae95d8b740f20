"""The platform's own pods run as real processes: LiteLLM with its database and migrations,
as its ServiceAccount, restarted when it dies, and the runtime never lets a pod leave loopback."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
import uuid

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.living]


def test_litellm_database_and_migrations_ran(living):
    """The chart's database (mode statefulset) runs, and the migration hook created LiteLLM's
    schema in it: its tables exist, read with the chart's own credentials."""
    (sts,) = living.labkit.kubectl_json("-n", "litellm", "get", "statefulsets")["items"]
    db = living.backed_pod("litellm", sts["metadata"]["name"] + "-0")
    user = living.secret_value("litellm", sts["metadata"]["name"] + "-app", "username")
    password = living.secret_value("litellm", sts["metadata"]["name"] + "-app", "password")
    query = "select count(*) from information_schema.tables where table_name in ('LiteLLM_VerificationToken', 'LiteLLM_TeamTable')"
    out = living.netns_run(
        "env", "PGPASSWORD=" + password, "psql", "-h", db["ip"], "-U", user, "-d", "litellm", "-Atc", query, timeout=30
    ).stdout.strip()
    assert out == "2", out


def _container_pid(living, namespace, prefix, container=None):
    pod = living.backed_pod(namespace, prefix)
    found = [c["pid"] for name, c in pod["containers"].items() if c["pid"] and (container is None or name == container)]
    assert found, pod
    return pod, found[0]


def _token_path(pid):
    """The container's token file seen from the host. /proc/<pid>/root follows absolute
    symlinks (/var/run -> /run on this host's root) from the caller's root, so /run is used."""
    return "/proc/%d/root/run/secrets/kubernetes.io/serviceaccount/token" % pid


def _status(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as handle:
        return dict(line.split(":", 1) for line in handle if ":" in line)


def test_a_controller_talks_to_the_api_server_as_its_service_account(living):
    """The application controller's token is its own ServiceAccount's (a TokenRequest the runtime
    projected), so what it may do is its RBAC, not admin's."""
    pod, pid = _container_pid(living, "argocd", "argocd-application-controller")
    spec = living.labkit.kubectl_json("-n", "argocd", "get", "pod", pod["name"])["spec"]
    with open(_token_path(pid), encoding="ascii") as handle:
        token = handle.read().strip()
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    out = json.loads(living.labkit.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(review)).stdout)
    assert out["status"]["authenticated"] is True
    assert out["status"]["user"]["username"] == "system:serviceaccount:argocd:%s" % spec["serviceAccountName"]
    assert int(_status(pid)["Uid"].split()[0]) == 999  # the image's USER


def test_litellm_runs_with_its_pod_identity_and_no_api_token(living):
    """The chart gives LiteLLM no API access (automountServiceAccountToken false) and drops every
    capability: the process has no token file and an empty capability set."""
    pods = living.labkit.kubectl_json("-n", "litellm", "get", "pods", "-l", "app.kubernetes.io/name=litellm")["items"]
    pod = pods[0]
    assert pod["spec"].get("automountServiceAccountToken") is False
    _backed, pid = _container_pid(living, "litellm", pod["metadata"]["name"], "litellm")
    assert os.path.isdir("/proc/%d/root/run" % pid) and not os.path.exists(_token_path(pid))
    status = _status(pid)
    assert int(status["CapEff"].strip(), 16) == 0 and int(status["CapBnd"].strip(), 16) == 0, status["CapEff"]
    assert status["NoNewPrivs"].strip() == "1"  # allowPrivilegeEscalation: false


def test_a_readiness_probe_decides_ready(living):
    """A backed pod whose readiness probe fails is not Ready; when it passes, it is."""
    name = "living-probe-" + uuid.uuid4().hex[:6]
    kubectl = living.labkit.kubectl
    kubectl("create", "namespace", name)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": name},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "docker.io/library/busybox:1.37",
                    "command": ["sh", "-c", "sleep 12; touch /tmp/ready; sleep 600"],
                    "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1},
                }
            ]
        },
    }
    try:
        kubectl("apply", "-f", "-", input=json.dumps(pod))

        def conditions():
            got = living.labkit.kubectl_json("-n", name, "get", "pod", "probe").get("status", {})
            return {c["type"]: c["status"] for c in got.get("conditions", [])}

        living.labkit.wait_for(
            lambda: conditions().get("ContainersReady") == "False" and living.find_backed(name, "probe"), 60, 1, "a running, unready pod"
        )
        assert conditions()["Ready"] == "False"
        living.labkit.wait_for(lambda: conditions().get("Ready") == "True", 60, 1, "the probe to pass")
    finally:
        kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_a_tenant_key_minted_by_the_tenants_role_is_accepted_by_the_litellm_pod(living):
    proc = living.labkit.ansible_playbook("playbooks/tenants.yml")
    assert proc.returncode == 0, proc.stdout[-6000:]
    key = living.secret_value("team-a", "litellm-key-default", "api-key")
    with living.port_forward("litellm", "svc/litellm", 4000) as url:
        req = urllib.request.Request(url + "/v1/models", headers={"Authorization": "Bearer " + key})  # noqa: S310 - loopback
        with urllib.request.urlopen(req, timeout=30) as reply:  # noqa: S310 - loopback port-forward
            assert json.load(reply)["data"]


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
        assert addr.startswith(("127.", "[::ffff:127.")) or addr in ("[::1]", "::1"), addr
