"""Unit tests of the BYO doctor's judgement (plugins/filter/byo_doctor.py) on gathered data."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.llm.platform.plugins.filter.byo_doctor import byo_doctor_findings, byo_doctor_table

SETTINGS = {
    "kubeconfig": "/k",
    "min_version": "1.30",
    "max_version": "1.36",
    "gpus_expected": 2,
    "gpu_stack": "none",
    "storage_class": "",
    "require_lb": False,
    "require_snapshots": False,
    "crd_versions": {"gateways.gateway.networking.k8s.io": ["v1"], "clusterqueues.kueue.x-k8s.io": ["v1beta1", "v1beta2"]},
}


def node(name, gpus=0, labels=None, provider=None):
    n = {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {},
        "status": {"allocatable": {}, "nodeInfo": {"containerRuntimeVersion": "containerd://2.1"}},
    }
    if gpus:
        n["status"]["allocatable"]["nvidia.com/gpu"] = str(gpus)
    if provider:
        n["spec"]["providerID"] = provider
    return n


def sc(name, default=False):
    ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {"metadata": {"name": name, "annotations": ann}}


def crd(name, *served):
    return {"metadata": {"name": name}, "spec": {"versions": [{"name": v, "served": True} for v in served]}}


DATA = {
    "cluster_info": {"version": {"server": {"kubernetes": {"gitVersion": "v1.33.4"}}}},
    "nodes": {"resources": [node("cpu-0"), node("gpu-0", 1), node("gpu-1", 1)]},
    "storage_classes": {"resources": [sc("standard", True), sc("fast")]},
    "snapshot_classes": {"resources": []},
    "crds": {"resources": [crd("gateways.gateway.networking.k8s.io", "v1", "v1beta1")]},
    "services": {"resources": []},
}


def judge(data=None, **settings):
    return {f["check"]: f for f in byo_doctor_findings(data or copy.deepcopy(DATA), dict(SETTINGS, **settings))}


def failed(findings):
    return sorted(k for k, f in findings.items() if f["status"] == "fail")


def test_healthy_cluster_passes():
    findings = judge()
    assert failed(findings) == []
    assert findings["gpu_nodes"]["status"] == "pass" and findings["load_balancer"]["status"] == "skip"


def test_unreachable_stops_early():
    findings = judge({"cluster_info": {"failed": True, "msg": "connection refused"}})
    assert list(findings) == ["reachable"] and findings["reachable"]["fix"]


def test_unauthorized():
    data = copy.deepcopy(DATA)
    data["nodes"] = {"failed": True, "msg": "Forbidden: nodes is forbidden"}
    assert failed(judge(data)) == ["authorized"]


@pytest.mark.parametrize("version", ["v1.29.9", "v1.37.0"])
def test_version_out_of_range(version):
    data = copy.deepcopy(DATA)
    data["cluster_info"]["version"]["server"]["kubernetes"]["gitVersion"] = version
    assert failed(judge(data)) == ["version"]


def test_no_gpu_nodes_and_two_defaults():
    data = copy.deepcopy(DATA)
    data["nodes"]["resources"] = [node("cpu-0")]
    data["storage_classes"]["resources"] = [sc("a", True), sc("b", True)]
    findings = judge(data)
    assert failed(findings) == ["default_storage_class", "gpu_nodes"]
    assert "2 default StorageClasses: a, b" in findings["default_storage_class"]["detail"]


def test_operator_prerequisites_accept_labelled_nodes():
    data = copy.deepcopy(DATA)
    data["nodes"]["resources"] = [node("cpu-0"), node("gpu-0", labels={"feature.node.kubernetes.io/pci-10de.present": "true"})]
    assert judge(data, gpu_stack="operator")["gpu_nodes"]["status"] == "pass"
    data["nodes"]["resources"] = [node("cpu-0")]
    assert judge(data, gpu_stack="operator")["gpu_nodes"]["status"] == "fail"


def test_cpu_only_skips_gpus():
    data = copy.deepcopy(DATA)
    data["nodes"]["resources"] = [node("cpu-0")]
    assert judge(data, gpus_expected=0)["gpu_nodes"]["status"] == "skip"


def test_load_balancer_detection_and_warning():
    data = copy.deepcopy(DATA)
    assert judge(data, require_lb=True)["load_balancer"]["status"] == "warn"
    data["nodes"]["resources"].append(node("cloud-0", provider="gce://p/z/n"))
    assert judge(data, require_lb=True)["load_balancer"]["status"] == "pass"
    assert judge(dict(DATA, lb_probe={"status": {"loadBalancer": {}}}), require_lb=True)["load_balancer"]["status"] == "fail"


def test_prod_needs_a_default_snapshot_class():
    assert failed(judge(require_snapshots=True)) == ["volume_snapshot_class"]
    data = copy.deepcopy(DATA)
    data["snapshot_classes"]["resources"] = [
        {"metadata": {"name": "pd", "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}}}
    ]
    assert failed(judge(data, require_snapshots=True)) == []


def test_conflicting_crd_versions():
    data = copy.deepcopy(DATA)
    data["crds"]["resources"] = [crd("gateways.gateway.networking.k8s.io", "v1beta1"), crd("clusterqueues.kueue.x-k8s.io", "v1beta2")]
    findings = judge(data)
    assert failed(findings) == ["crds"]
    assert "gateways.gateway.networking.k8s.io serves v1beta1, the platform needs v1" in findings["crds"]["detail"]


def test_missing_named_storage_class():
    assert failed(judge(storage_class="premium")) == ["storage_class"]


def test_table_has_one_row_per_finding_and_fixes():
    findings = byo_doctor_findings({"cluster_info": {"failed": True, "msg": "x"}}, SETTINGS)
    lines = byo_doctor_table(findings)
    assert lines[0].startswith("CHECK") and "FAIL" in lines[1] and "-> Check kubeconfig_path" in lines[1]
