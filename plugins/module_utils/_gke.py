# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to the llm.platform collection: GKE request bodies and in-place/recreate
decisions shared by gke_cluster and gke_node_pool.

GKE accepts one change per update call, so each difference becomes its own call
(setAutoscaling, setManagement, or a PUT carrying one UpdateNodePoolRequest field).
"""

from __future__ import annotations

TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}

POOL_OPTIONS = {
    "machine_type": {"type": "str"},
    "disk_size_gb": {"type": "int"},
    "disk_type": {"type": "str"},
    "image_type": {"type": "str"},
    "min_nodes": {"type": "int"},
    "max_nodes": {"type": "int"},
    "autoscaling": {"type": "bool", "default": True},
    "location_policy": {"type": "str", "choices": ["BALANCED", "ANY"]},
    "initial_node_count": {"type": "int"},
    "spot": {"type": "bool"},
    "accelerator_type": {"type": "str"},
    "accelerator_count": {"type": "int"},
    "gpu_driver_version": {"type": "str", "choices": ["DEFAULT", "LATEST", "INSTALLATION_DISABLED"]},
    "taints": {
        "type": "list",
        "elements": "dict",
        "options": {
            "key": {"type": "str", "required": True, "no_log": False},
            "value": {"type": "str", "default": ""},
            "effect": {
                "type": "str",
                "default": "NO_SCHEDULE",
                "choices": ["NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE", "NoSchedule", "PreferNoSchedule", "NoExecute"],
            },
        },
    },
    "labels": {"type": "dict"},
    "service_account": {"type": "str"},
    "oauth_scopes": {"type": "list", "elements": "str"},
    "workload_metadata": {"type": "str", "choices": ["GKE_METADATA", "GCE_METADATA"]},
    "auto_repair": {"type": "bool"},
    "auto_upgrade": {"type": "bool"},
    "node_locations": {"type": "list", "elements": "str"},
}


def _taints(taints):
    return [
        {"key": t["key"], "value": t.get("value") or "", "effect": TAINT_EFFECTS.get(t.get("effect") or "NO_SCHEDULE", t.get("effect"))}
        for t in taints or []
    ]


def _taint_set(taints):
    return sorted((t.get("key"), t.get("value") or "", t.get("effect")) for t in taints or [])


def pool_body(name, p):
    """A NodePool resource for create calls, from module-style parameters ``p``."""
    config = {}
    for opt, field in (
        ("machine_type", "machineType"),
        ("disk_size_gb", "diskSizeGb"),
        ("disk_type", "diskType"),
        ("image_type", "imageType"),
        ("spot", "spot"),
        ("service_account", "serviceAccount"),
        ("oauth_scopes", "oauthScopes"),
        ("labels", "labels"),
    ):
        if p.get(opt) is not None:
            config[field] = p[opt]
    if p.get("accelerator_type"):
        acc = {"acceleratorType": p["accelerator_type"], "acceleratorCount": str(p.get("accelerator_count") or 1)}
        if p.get("gpu_driver_version"):
            acc["gpuDriverInstallationConfig"] = {"gpuDriverVersion": p["gpu_driver_version"]}
        config["accelerators"] = [acc]
    if p.get("taints") is not None:
        config["taints"] = _taints(p["taints"])
    if p.get("workload_metadata"):
        config["workloadMetadataConfig"] = {"mode": p["workload_metadata"]}
    body = {"name": name, "config": config}
    low = p.get("min_nodes")
    body["initialNodeCount"] = (
        p["initial_node_count"] if p.get("initial_node_count") is not None else max(low or 0, 1 if low is None else low)
    )
    if p.get("autoscaling", True) and p.get("max_nodes") is not None:
        auto = {"enabled": True, "minNodeCount": low or 0, "maxNodeCount": p["max_nodes"]}
        if p.get("location_policy"):
            auto["locationPolicy"] = p["location_policy"]
        body["autoscaling"] = auto
    mgmt = {k: p[o] for o, k in (("auto_repair", "autoRepair"), ("auto_upgrade", "autoUpgrade")) if p.get(o) is not None}
    if mgmt:
        body["management"] = mgmt
    if p.get("node_locations"):
        body["locations"] = p["node_locations"]
    return body


def pool_changes(current, p):
    """Compare a live NodePool with the parameters. Returns (updates, immutable, before, after).

    ``updates`` is a list of (field, method, suffix, body): method POST with suffix
    ``:setAutoscaling``/``:setManagement`` or PUT with suffix "". ``immutable`` lists fields
    GKE cannot change in place: {field, current, desired}.
    """
    config = current.get("config") or {}
    updates, immutable, before, after = [], [], {}, {}

    def track(field, have, want):
        before[field], after[field] = have, want
        return have != want

    # Autoscaling (setAutoscaling).
    if p.get("max_nodes") is not None or p.get("autoscaling") is False:
        have_auto = current.get("autoscaling") or {}
        have = {
            "enabled": bool(have_auto.get("enabled")),
            "min_nodes": int(have_auto.get("minNodeCount") or 0),
            "max_nodes": int(have_auto.get("maxNodeCount") or 0),
        }
        want = {"enabled": bool(p.get("autoscaling", True)), "min_nodes": p.get("min_nodes") or 0, "max_nodes": p.get("max_nodes") or 0}
        if not want["enabled"]:
            have = {"enabled": have["enabled"]}
            want = {"enabled": False}
        if p.get("location_policy"):
            have["location_policy"] = have_auto.get("locationPolicy")
            want["location_policy"] = p["location_policy"]
        if track("autoscaling", have, want):
            body = {"enabled": want["enabled"]}
            if want["enabled"]:
                body.update(minNodeCount=want["min_nodes"], maxNodeCount=want["max_nodes"])
                if p.get("location_policy"):
                    body["locationPolicy"] = p["location_policy"]
            updates.append(("autoscaling", "POST", ":setAutoscaling", {"autoscaling": body}))
    # Management (setManagement).
    mgmt_want = {o: p[o] for o in ("auto_repair", "auto_upgrade") if p.get(o) is not None}
    if mgmt_want:
        mgmt = current.get("management") or {}
        have = {"auto_repair": bool(mgmt.get("autoRepair")), "auto_upgrade": bool(mgmt.get("autoUpgrade"))}
        want = dict(have, **mgmt_want)
        if track("management", have, want):
            updates.append(
                (
                    "management",
                    "POST",
                    ":setManagement",
                    {"management": {"autoRepair": want["auto_repair"], "autoUpgrade": want["auto_upgrade"]}},
                )
            )
    # Fields GKE updates in place with UpdateNodePoolRequest (one field per call).
    if p.get("taints") is not None and track("taints", _taint_set(config.get("taints")), _taint_set(_taints(p["taints"]))):
        updates.append(("taints", "PUT", "", {"taints": {"taints": _taints(p["taints"])}}))
    if p.get("labels") is not None and track("labels", config.get("labels") or {}, p["labels"]):
        updates.append(("labels", "PUT", "", {"labels": {"labels": p["labels"]}}))
    if p.get("workload_metadata") and track(
        "workload_metadata", (config.get("workloadMetadataConfig") or {}).get("mode"), p["workload_metadata"]
    ):
        updates.append(("workload_metadata", "PUT", "", {"workloadMetadataConfig": {"mode": p["workload_metadata"]}}))
    for opt, field in (
        ("machine_type", "machineType"),
        ("disk_type", "diskType"),
        ("disk_size_gb", "diskSizeGb"),
        ("image_type", "imageType"),
    ):
        if p.get(opt) is not None:
            have = config.get(field)
            if opt == "disk_size_gb" and have is not None:
                have = int(have)
            if opt == "image_type" and have:
                have = have.upper()
            want = p[opt].upper() if opt == "image_type" else p[opt]
            if track(opt, have, want):
                updates.append((opt, "PUT", "", {field: p[opt]}))
    if p.get("node_locations") and track("node_locations", sorted(current.get("locations") or []), sorted(p["node_locations"])):
        updates.append(("node_locations", "PUT", "", {"locations": p["node_locations"]}))
    # Creation-time only.
    accs = config.get("accelerators") or []
    acc = accs[0] if accs else {}
    checks = []
    if p.get("accelerator_type") is not None:
        checks.append(("accelerator_type", acc.get("acceleratorType"), p["accelerator_type"] or None))
        checks.append(
            ("accelerator_count", int(acc["acceleratorCount"]) if acc.get("acceleratorCount") else None, p.get("accelerator_count") or 1)
        )
    if p.get("gpu_driver_version") is not None:
        checks.append(
            ("gpu_driver_version", (acc.get("gpuDriverInstallationConfig") or {}).get("gpuDriverVersion"), p["gpu_driver_version"])
        )
    if p.get("spot") is not None:
        checks.append(("spot", bool(config.get("spot")), p["spot"]))
    if p.get("service_account") is not None:
        checks.append(("service_account", config.get("serviceAccount"), p["service_account"]))
    if p.get("oauth_scopes") is not None:
        checks.append(("oauth_scopes", sorted(config.get("oauthScopes") or []), sorted(p["oauth_scopes"])))
    for field, have, want in checks:
        if track(field, have, want):
            immutable.append({"field": field, "current": have, "desired": want})
    return updates, immutable, before, after
