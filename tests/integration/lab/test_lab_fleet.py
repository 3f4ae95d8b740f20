"""The simulated GPU fleet and the real scheduler placing pods on it."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.lab

GPU_LABEL = "cloud.google.com/gke-accelerator"


def _nodes(lab):
    return lab.kubectl_json("get", "nodes")["items"]


def _gpu_node_names(lab):
    return {n["metadata"]["name"] for n in _nodes(lab) if GPU_LABEL in n["metadata"].get("labels", {})}


def _pod(name, ns, gpu=False, toleration=False):
    container = {"name": "main", "image": "registry.invalid/none:0", "resources": {"requests": {"cpu": "100m"}}}
    if gpu:
        container["resources"]["limits"] = {"nvidia.com/gpu": "1"}
    spec = {"containers": [container]}
    if toleration:
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
                                "effect": "NoSchedule"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns}, "spec": spec}


@pytest.fixture
def namespace(lab):
    ns = lab.unique("labtest")
    lab.kubectl("create", "namespace", ns)
    yield ns
    lab.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_nodes_show_the_gpu_fleet(lab):
    nodes = _nodes(lab)
    gpu = [n for n in nodes if GPU_LABEL in n["metadata"]["labels"]]
    cpu = [n for n in nodes if GPU_LABEL not in n["metadata"]["labels"]]
    assert gpu and cpu, [n["metadata"]["name"] for n in nodes]
    for n in nodes:
        ready = next(c for c in n["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", n["metadata"]["name"]
    for n in gpu:
        labels = n["metadata"]["labels"]
        assert int(n["status"]["allocatable"]["nvidia.com/gpu"]) >= 1
        assert n["status"]["capacity"]["nvidia.com/gpu"] == n["status"]["allocatable"]["nvidia.com/gpu"]
        assert labels["cloud.google.com/gke-nodepool"]
        assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in n["spec"]["taints"]
    for n in cpu:
        assert "nvidia.com/gpu" not in n["status"]["allocatable"]
    # kubectl's own table shows them too.
    table = lab.kubectl("get", "nodes", "-L", GPU_LABEL).stdout
    assert any(n["metadata"]["name"] in table for n in gpu)


def test_inventory_pools_become_nodes(lab):
    pools = {n["metadata"]["labels"]["cloud.google.com/gke-nodepool"] for n in _nodes(lab)}
    # inventories/lab: cpu pool "system", gpu pool "gpu-l4", lab-only MIG and time-sharing pools.
    assert {"system", "gpu-l4", "gpu-a100-mig", "gpu-t4-shared"} <= pools, pools


def test_mig_and_time_slicing_counts(lab):
    by_pool = {}
    for n in _nodes(lab):
        by_pool.setdefault(n["metadata"]["labels"]["cloud.google.com/gke-nodepool"], []).append(n)
    mig = by_pool["gpu-a100-mig"][0]
    assert mig["metadata"]["labels"]["cloud.google.com/gke-gpu-partition-size"] == "1g.5gb"
    assert mig["status"]["allocatable"]["nvidia.com/gpu"] == "7"
    shared = by_pool["gpu-t4-shared"][0]
    assert shared["metadata"]["labels"]["cloud.google.com/gke-gpu-sharing-strategy"] == "time-sharing"
    assert shared["status"]["allocatable"]["nvidia.com/gpu"] == "4"


def test_gpu_pod_is_scheduled_onto_a_gpu_node_and_runs(lab, namespace):
    lab.kubectl("apply", "-f", "-", input=json.dumps(_pod("gpu-pod", namespace, gpu=True, toleration=True)))

    def running():
        pod = lab.kubectl_json("get", "pod", "gpu-pod", "-n", namespace)
        return pod if pod["status"].get("phase") == "Running" else None

    pod = lab.wait_for(running, 90, what="gpu-pod Running")
    assert pod["spec"]["nodeName"] in _gpu_node_names(lab)
    scheduled = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["status"] == "True"
    events = lab.kubectl_json("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=gpu-pod")
    assert any(e["reason"] == "Scheduled" and e.get("reportingComponent", e.get("source", {}).get("component"))
               == "default-scheduler" for e in events["items"]), events["items"]


def test_pods_without_toleration_stay_off_gpu_nodes(lab, namespace):
    for i in range(6):
        lab.kubectl("apply", "-f", "-", input=json.dumps(_pod(f"cpu-{i}", namespace)))
    lab.kubectl("apply", "-f", "-", input=json.dumps(_pod("gpu-no-toleration", namespace, gpu=True)))

    def placed():
        pods = lab.kubectl_json("get", "pods", "-n", namespace)["items"]
        cpu = [p for p in pods if p["metadata"]["name"].startswith("cpu-")]
        return pods if all(p["status"].get("phase") == "Running" for p in cpu) and len(cpu) == 6 else None

    pods = lab.wait_for(placed, 90, what="cpu pods Running")
    gpu_nodes = _gpu_node_names(lab)
    for p in pods:
        if p["metadata"]["name"].startswith("cpu-"):
            assert p["spec"]["nodeName"] not in gpu_nodes, p["spec"]["nodeName"]

    def unschedulable():
        p = lab.kubectl_json("get", "pod", "gpu-no-toleration", "-n", namespace)
        cond = [c for c in p["status"].get("conditions", []) if c["type"] == "PodScheduled"]
        return p if cond and cond[0]["status"] == "False" and cond[0].get("reason") == "Unschedulable" else None

    p = lab.wait_for(unschedulable, 60, what="gpu pod without toleration Unschedulable")
    assert not p["spec"].get("nodeName")
    assert "nvidia.com/gpu" in next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")["message"]
