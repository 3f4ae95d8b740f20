"""Kueue really enforces the platform's GPU quota (the kueue-config Application's ClusterQueue):
its webhook suspends a GPU Job of a managed namespace, its controller admits it when quota
allows and the pod runs (a real process) on a GPU node with the flavor's toleration; a Job
beyond the quota waits with Kueue's reason and is admitted when the first finishes; a namespace
without the label is left alone."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.living, pytest.mark.controllers]
MANAGED = {"llm-platform/kueue-managed": "true"}


def _job(name, namespace, gpus, seconds, queue="lq"):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": {"kueue.x-k8s.io/queue-name": queue}},
        "spec": {
            "parallelism": gpus,
            "completions": gpus,
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "work",
                            "image": "docker.io/library/busybox:1.37",
                            "command": ["sh", "-c", "sleep %d" % seconds],
                            "resources": {
                                "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
                                "limits": {"nvidia.com/gpu": "1"},
                            },
                        }
                    ],
                }
            },
        },
    }


@pytest.fixture
def namespace(living):
    kubectl = living.labkit.kubectl
    name = "living-kueue-" + uuid.uuid4().hex[:6]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": MANAGED}}
    lq = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "LocalQueue",
        "metadata": {"name": "lq", "namespace": name},
        "spec": {"clusterQueue": "gpu-cq"},
    }
    kubectl("apply", "-f", "-", input=json.dumps(ns))
    kubectl("apply", "-f", "-", input=json.dumps(lq))
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def _workload(living, namespace, job):
    items = living.labkit.kubectl_json("-n", namespace, "get", "workloads")["items"]
    mine = [w for w in items if any(o["name"] == job for o in w["metadata"].get("ownerReferences", []))]
    return mine[0] if mine else None


def _cond(obj, kind):
    return next((c for c in (obj or {}).get("status", {}).get("conditions", []) if c["type"] == kind), {})


def test_quota_admits_waits_and_releases(living, namespace):
    quota = living.labkit.kubectl_json("get", "clusterqueue", "gpu-cq")["spec"]["resourceGroups"][0]["flavors"][0]["resources"]
    gpus = int(next(r["nominalQuota"] for r in quota if r["name"] == "nvidia.com/gpu"))
    assert gpus >= 1
    kubectl = living.labkit.kubectl
    kubectl("apply", "-f", "-", input=json.dumps(_job("first", namespace, 1, 15)))
    admitted = living.labkit.wait_for(
        lambda: _cond(_workload(living, namespace, "first"), "Admitted").get("status") == "True", 120, 1, "the first Job to be admitted"
    )
    assert admitted
    # Beyond the quota: everything the first one leaves, plus one.
    kubectl("apply", "-f", "-", input=json.dumps(_job("second", namespace, gpus, 1)))

    def waiting():
        wl = _workload(living, namespace, "second")
        cond = _cond(wl, "QuotaReserved")
        return cond.get("status") == "False" and cond

    cond = living.labkit.wait_for(waiting, 60, 1, "the second Job to wait for quota")
    assert "insufficient unused quota for nvidia.com/gpu" in cond["message"], cond
    assert living.labkit.kubectl_json("-n", namespace, "get", "job", "second")["spec"]["suspend"] is True

    def first_pod():
        pods = living.labkit.kubectl_json("-n", namespace, "get", "pods", "-l", "job-name=first")["items"]
        return pods and pods[0].get("spec", {}).get("nodeName") and pods[0]

    pod = living.labkit.wait_for(first_pod, 120, 1, "the first Job's pod to be scheduled")
    tolerations = {(t.get("key"), t.get("effect")) for t in pod["spec"].get("tolerations", [])}
    assert ("nvidia.com/gpu", "NoSchedule") in tolerations  # injected from the ResourceFlavor
    node = living.labkit.kubectl_json("get", "node", pod["spec"]["nodeName"])
    assert int(node["status"]["allocatable"].get("nvidia.com/gpu", "0")) >= 1
    living.backed_pod(namespace, pod["metadata"]["name"])  # a real process, not a kwok status

    def second_admitted():
        return _cond(_workload(living, namespace, "second"), "Admitted").get("status") == "True"

    living.labkit.wait_for(second_admitted, 240, 2, "the second Job to be admitted after the first finished")
    first = living.labkit.kubectl_json("-n", namespace, "get", "job", "first")
    assert first["status"].get("succeeded") == 1, first["status"]


def test_a_namespace_without_the_label_is_untouched(living):
    kubectl = living.labkit.kubectl
    name = "living-plain-" + uuid.uuid4().hex[:6]
    kubectl("create", "namespace", name)
    try:
        kubectl("apply", "-f", "-", input=json.dumps(_job("plain", name, 1, 1)))
        job = living.labkit.kubectl_json("-n", name, "get", "job", "plain")
        assert not job["spec"].get("suspend"), "Kueue suspended a Job outside its managed namespaces"
        assert living.labkit.kubectl_json("-n", name, "get", "workloads")["items"] == []
    finally:
        kubectl("delete", "namespace", name, "--wait=false", check=False)
