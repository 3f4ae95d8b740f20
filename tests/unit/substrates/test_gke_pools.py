"""Unit tests of GKE node-pool bodies and in-place/recreate decisions (module_utils/_gke.py)."""

from __future__ import annotations

from ansible_collections.llm.platform.plugins.module_utils._gke import pool_body, pool_changes

GPU = {
    "machine_type": "g2-standard-4",
    "accelerator_type": "nvidia-l4",
    "accelerator_count": 1,
    "gpu_driver_version": "DEFAULT",
    "min_nodes": 0,
    "max_nodes": 1,
    "spot": True,
    "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
    "autoscaling": True,
}


def live(body):
    """What GKE returns for a created pool (defaults filled in, count as a string)."""
    config = dict(body["config"], diskSizeGb=100, imageType="COS_CONTAINERD", serviceAccount="default")
    config["accelerators"] = [dict(a, acceleratorCount=str(a["acceleratorCount"])) for a in config.get("accelerators", [])]
    return dict(body, config=config, management={"autoRepair": True, "autoUpgrade": True}, status="RUNNING")


def test_gpu_pool_body_scale_to_zero():
    body = pool_body("gpu-l4", GPU)
    assert body["initialNodeCount"] == 0 and body["autoscaling"] == {"enabled": True, "minNodeCount": 0, "maxNodeCount": 1}
    assert body["config"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert body["config"]["accelerators"][0]["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "DEFAULT"}


def test_identical_pool_has_no_changes():
    updates, immutable, before, after = pool_changes(live(pool_body("gpu-l4", GPU)), GPU)
    assert updates == [] and immutable == [] and before == after


def test_each_in_place_field_is_its_own_call():
    current = live(pool_body("gpu-l4", GPU))
    want = dict(GPU, max_nodes=3, labels={"a": "b"}, disk_size_gb=200, taints=[], auto_repair=False)
    updates, immutable, _b, _a = pool_changes(current, want)
    assert [(u[0], u[1], u[2]) for u in updates] == [
        ("autoscaling", "POST", ":setAutoscaling"),
        ("management", "POST", ":setManagement"),
        ("taints", "PUT", ""),
        ("labels", "PUT", ""),
        ("disk_size_gb", "PUT", ""),
    ]
    assert updates[2][3] == {"taints": {"taints": []}} and immutable == []


def test_creation_time_fields_need_recreation():
    current = live(pool_body("gpu-l4", GPU))
    _u, immutable, _b, _a = pool_changes(
        current, dict(GPU, accelerator_count=2, spot=False, service_account="sa@p.iam.gserviceaccount.com")
    )
    assert [i["field"] for i in immutable] == ["accelerator_count", "spot", "service_account"]
    assert immutable[0] == {"field": "accelerator_count", "current": 1, "desired": 2}


def test_unset_options_are_not_compared():
    current = live(pool_body("gpu-l4", GPU))
    updates, immutable, before, _a = pool_changes(current, {"autoscaling": True})
    assert updates == [] and immutable == [] and before == {}
