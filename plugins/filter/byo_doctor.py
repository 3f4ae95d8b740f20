# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the bring-your-own-cluster doctor (roles/substrate_byo): turn what
kubernetes.core.k8s_info gathered into pass/warn/fail findings, each failure with its fix."""

from __future__ import annotations

import re

STORAGE_DEFAULT = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")
SNAPSHOT_DEFAULT = "snapshot.storage.kubernetes.io/is-default-class"
LB_CRDS = ("ipaddresspools.metallb.io", "ciliumloadbalancerippools.cilium.io", "ippools.kube-vip.io")


def _version(text):
    found = re.match(r"v?(\d+)\.(\d+)", str(text or ""))
    return (int(found.group(1)), int(found.group(2))) if found else None


def _gpus(node):
    alloc = ((node.get("status") or {}).get("allocatable") or {}).get("nvidia.com/gpu", "0")
    try:
        return int(str(alloc))
    except ValueError:
        return 0


def _name(obj):
    return (obj.get("metadata") or {}).get("name", "?")


def _result(kind, data):
    """The resources list of a k8s_info result, or None when the call failed."""
    res = data.get(kind) or {}
    if res.get("failed"):
        return None
    return res.get("resources") or []


def byo_doctor_findings(data, settings):
    """Findings for the gathered ``data`` (k8s_cluster_info and k8s_info results) and ``settings``.

    Each finding: {check, status (pass|warn|fail|skip), detail, fix}.
    """
    out = []

    def add(check, status, detail, fix=""):
        out.append({"check": check, "status": status, "detail": detail, "fix": fix if status in ("fail", "warn") else ""})

    info = data.get("cluster_info") or {}
    if info.get("failed") or not (info.get("version") or {}).get("server"):
        msg = str(info.get("msg") or "no answer")[:200]
        add(
            "reachable",
            "fail",
            "the API server did not answer: %s" % msg,
            "Check kubeconfig_path (%s), its context and network access to the API server." % settings.get("kubeconfig"),
        )
        return out
    add("reachable", "pass", "API server answered")
    nodes = _result("nodes", data)
    if nodes is None:
        msg = str((data.get("nodes") or {}).get("msg") or "")[:200]
        add(
            "authorized",
            "fail",
            "cannot list nodes: %s" % msg,
            "Use credentials with cluster-admin (the platform installs CRDs, namespaces and cluster roles).",
        )
        return out
    add("authorized", "pass", "can list cluster-scoped resources (%d nodes)" % len(nodes))

    git = ((info.get("version") or {}).get("server") or {}).get("kubernetes", {}).get("gitVersion", "")
    have, low, high = _version(git), _version(settings.get("min_version")), _version(settings.get("max_version"))
    if have and low and high and low <= have <= high:
        add("version", "pass", "Kubernetes %s (supported %s to %s)" % (git, settings["min_version"], settings["max_version"]))
    else:
        add(
            "version",
            "fail",
            "Kubernetes %s is outside the supported range %s to %s"
            % (git or "?", settings.get("min_version"), settings.get("max_version")),
            "Upgrade (or use) a cluster running Kubernetes %s to %s." % (settings.get("min_version"), settings.get("max_version")),
        )

    want_gpus = int(settings.get("gpus_expected") or 0)
    stack = settings.get("gpu_stack") or "none"
    gpu_nodes = [n for n in nodes if _gpus(n) > 0]
    if want_gpus <= 0:
        add("gpu_nodes", "skip", "no gpu_pools declared: CPU only")
    elif gpu_nodes:
        total = sum(_gpus(n) for n in gpu_nodes)
        status = "pass" if total >= want_gpus else "warn"
        add(
            "gpu_nodes",
            status,
            "%d node(s) expose nvidia.com/gpu (%d GPUs; gpu_pools declare %d)" % (len(gpu_nodes), total, want_gpus),
            "gpu_pools declare more GPUs than the nodes expose: fix gpu_pools or add GPU nodes.",
        )
    elif stack == "operator":
        candidates = [
            n
            for n in nodes
            if ((n.get("metadata") or {}).get("labels") or {}).get("feature.node.kubernetes.io/pci-10de.present") == "true"
            or ((n.get("metadata") or {}).get("labels") or {}).get("nvidia.com/gpu.present") == "true"
        ]
        runtimes = {((n.get("status") or {}).get("nodeInfo") or {}).get("containerRuntimeVersion", "").split(":")[0] for n in candidates}
        if candidates and runtimes <= {"containerd", "cri-o"}:
            add("gpu_nodes", "pass", "%d node(s) carry NVIDIA PCI labels; the GPU Operator will expose nvidia.com/gpu" % len(candidates))
        else:
            add(
                "gpu_nodes",
                "fail",
                "no node exposes nvidia.com/gpu and none is labelled as having an NVIDIA GPU (feature.node.kubernetes.io/pci-10de.present)",
                "Join the GPU nodes (containerd runtime, kernel headers, Secure Boot off) and label them, or run Node Feature Discovery.",
            )
    else:
        add(
            "gpu_nodes",
            "fail",
            "no node exposes nvidia.com/gpu (gpu_pools declare %d GPUs, gpu_stack %s)" % (want_gpus, stack),
            "Install the NVIDIA device plugin (or set gpu_stack: operator so the platform installs the GPU Operator), or join GPU nodes.",
        )

    classes = _result("storage_classes", data) or []
    defaults = [c for c in classes if any(((c.get("metadata") or {}).get("annotations") or {}).get(a) == "true" for a in STORAGE_DEFAULT)]
    wanted_sc = settings.get("storage_class") or ""
    if len(defaults) == 1:
        add("default_storage_class", "pass", "default StorageClass %s" % _name(defaults[0]))
    elif not defaults:
        add(
            "default_storage_class",
            "fail",
            "no default StorageClass (%d StorageClasses)" % len(classes),
            "Annotate one StorageClass: kubectl annotate storageclass <name> storageclass.kubernetes.io/is-default-class=true",
        )
    else:
        add(
            "default_storage_class",
            "fail",
            "%d default StorageClasses: %s" % (len(defaults), ", ".join(sorted(_name(c) for c in defaults))),
            "Keep one: remove storageclass.kubernetes.io/is-default-class from the others.",
        )
    if wanted_sc and wanted_sc not in [_name(c) for c in classes]:
        add(
            "storage_class",
            "fail",
            "storage_class %s does not exist" % wanted_sc,
            "Create it or set storage_class to an existing class (empty = the default).",
        )

    if settings.get("require_lb"):
        services = _result("services", data) or []
        with_ip = [
            s
            for s in services
            if (s.get("spec") or {}).get("type") == "LoadBalancer" and ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress")
        ]
        crds = {_name(c) for c in (_result("crds", data) or [])}
        providers = sorted(crds & set(LB_CRDS))
        provider_ids = [str((n.get("spec") or {}).get("providerID") or "") for n in nodes]
        cloud = sorted({pid.split(":", maxsplit=1)[0] for pid in provider_ids if pid})
        probe = data.get("lb_probe")
        if probe is not None:
            ok = bool(((probe.get("status") or {}).get("loadBalancer") or {}).get("ingress"))
            add(
                "load_balancer",
                "pass" if ok else "fail",
                "probe Service %s an address" % ("got" if ok else "did not get"),
                "Install a LoadBalancer implementation (cloud controller manager, MetalLB, Cilium LB IPAM).",
            )
        elif with_ip or providers or cloud:
            what = ["%d LoadBalancer Service(s) with an address" % len(with_ip)] if with_ip else []
            what += ["CRDs %s" % ", ".join(providers)] if providers else []
            what += ["cloud provider %s" % ", ".join(cloud)] if cloud else []
            add("load_balancer", "pass", "; ".join(what))
        else:
            add(
                "load_balancer",
                "warn",
                "no LoadBalancer implementation detected (no cloud provider IDs, no MetalLB/Cilium pools, no LB Service with an address)",
                "Install one, or set substrate_byo_lb_probe: true to test with a probe Service.",
            )
    else:
        add("load_balancer", "skip", "platform not exposed (platform_domain empty)")

    if settings.get("require_snapshots"):
        snaps = _result("snapshot_classes", data) or []
        default_snaps = [s for s in snaps if ((s.get("metadata") or {}).get("annotations") or {}).get(SNAPSHOT_DEFAULT) == "true"]
        if default_snaps:
            add("volume_snapshot_class", "pass", "default VolumeSnapshotClass %s" % _name(default_snaps[0]))
        else:
            add(
                "volume_snapshot_class",
                "fail",
                "cost_tier prod needs a default VolumeSnapshotClass (%d found, none default)" % len(snaps),
                "Install the CSI external-snapshotter and annotate a VolumeSnapshotClass with "
                "snapshot.storage.kubernetes.io/is-default-class=true.",
            )
    else:
        add("volume_snapshot_class", "skip", "only required for cost_tier prod")

    crds = {_name(c): c for c in (_result("crds", data) or [])}
    conflicts = []
    for name, accepted in sorted((settings.get("crd_versions") or {}).items()):
        crd = crds.get(name)
        if not crd:
            continue
        served = sorted(v.get("name") for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served"))
        if not set(served) & set(accepted):
            conflicts.append("%s serves %s, the platform needs %s" % (name, ", ".join(served) or "nothing", " or ".join(accepted)))
    if conflicts:
        add(
            "crds",
            "fail",
            "; ".join(conflicts),
            "Upgrade the component that owns these CRDs (or delete the stale CRDs) before installing the platform.",
        )
    else:
        add(
            "crds",
            "pass",
            "%d platform CRD(s) already present, none at a conflicting version" % len(set(crds) & set(settings.get("crd_versions") or {})),
        )
    return out


def byo_doctor_table(findings):
    """One plain-text table of the findings (check | status | detail | fix)."""
    rows = [("CHECK", "STATUS", "DETAIL", "FIX")] + [(f["check"], f["status"].upper(), f["detail"], f.get("fix") or "") for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return ["%-*s  %-*s  %s%s" % (widths[0], r[0], widths[1], r[1], r[2], ("  -> " + r[3]) if r[3] else "") for r in rows]


class FilterModule:
    def filters(self):
        return {"byo_doctor_findings": byo_doctor_findings, "byo_doctor_table": byo_doctor_table}
