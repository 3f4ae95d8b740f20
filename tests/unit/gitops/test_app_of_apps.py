"""The app-of-apps: which Applications every inventory x profile x feature combination yields
(golden), the invariants every child Application keeps, and that the bootstrap roles write the
same AppProject and Argo CD settings that git keeps afterwards.

Regenerate the golden file after an intended change:
    UPDATE_GOLDEN=1 pytest tests/unit/gitops/test_app_of_apps.py -k golden
"""

from __future__ import annotations

import itertools
import os
import re

import pytest
import yaml

from .gitops_render import (
    INVENTORIES,
    PROFILES,
    app_line,
    applications,
    combinations,
    dump_yaml,
    inventory_values,
    render_root,
    tool,
    values_for,
)

pytestmark = pytest.mark.skipif(tool("helm") is None, reason="helm not built (lab/build.sh helm)")

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "apps.yml")
CRD_HEAVY = {"argo-cd", "gateway-api-crds", "inference-extension-crds", "external-secrets", "kueue", "keda",
             "kube-prometheus-stack", "gpu-operator"}
UNPINNED = re.compile(r"^(|HEAD|latest|main|master|\*.*|.*\*)$")


def _rendered_combinations():
    out = {}
    for key, inv, profile, features in combinations():
        apps = applications(values_for(inv, profile, features))
        out[key] = sorted((app_line(a) for a in apps.values()), key=lambda s: (int(s.split()[0]), s.split()[1]))
    return out


def test_golden_apps_per_profile_and_feature():
    got = _rendered_combinations()
    if os.environ.get("UPDATE_GOLDEN"):
        os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
        with open(GOLDEN, "w", encoding="utf-8") as fh:
            fh.write("---\n# <sync-wave> <Application> <auto|manual sync> per inventory/profile[/feature=value].\n")
            fh.write("# Regenerate: UPDATE_GOLDEN=1 pytest tests/unit/gitops/test_app_of_apps.py -k golden\n")
            dump_yaml(got, fh)
    with open(GOLDEN, encoding="utf-8") as fh:
        want = yaml.safe_load(fh)
    assert got == want


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_profiles_are_cumulative(inventory):
    names = [set(applications(values_for(inventory, p))) for p in PROFILES]
    for narrow, wide in itertools.pairwise(names):
        assert narrow <= wide, "a wider profile dropped %s" % sorted(narrow - wide)
    assert names[0] < names[-1]


@pytest.mark.parametrize("feature,apps", [
    ("observability", {"kube-prometheus-stack"}),
    ("autoscaling", {"keda"}),
    ("gpu_quota", {"kueue", "kueue-config"}),
])
def test_switching_a_feature_off_removes_its_apps(feature, apps):
    # autoscaling needs observability: switch it off with it (preflight enforces that pairing).
    base = {"autoscaling": False} if feature == "observability" else {}
    on = set(applications(values_for("lab", "full", {**base, feature: True})))
    off = set(applications(values_for("lab", "full", {**base, feature: False})))
    assert apps <= on
    assert not apps & off
    assert on - off >= apps


def test_gpu_operator_only_with_gpu_stack_operator():
    for inv in INVENTORIES:
        apps = applications(values_for(inv, "platform"))
        stack = inventory_values(inv)["values"]["cluster"]["gpuStack"]
        assert ("gpu-operator" in apps) == (stack == "operator"), inv


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_child_application_invariants(inventory):
    values = values_for(inventory, "full", {f: True for f in ("observability", "autoscaling", "gpu_quota", "kserve")})
    docs = render_root(values)
    project = next(d for d in docs if d["kind"] == "AppProject")
    apps = [d for d in docs if d["kind"] == "Application"]
    assert apps
    waves = {}
    for app in apps:
        name, spec = app["metadata"]["name"], app["spec"]
        waves[name] = int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        assert app["metadata"]["namespace"] == "argocd"
        assert "resources-finalizer.argocd.argoproj.io" in app["metadata"]["finalizers"], name
        assert spec["project"] == project["metadata"]["name"], name
        assert spec["source"]["repoURL"] in project["spec"]["sourceRepos"], name
        assert not UNPINNED.match(str(spec["source"].get("targetRevision", ""))) or spec["source"]["repoURL"] == values["repo"]["url"], (
            "%s: unpinned %r" % (name, spec["source"].get("targetRevision"))
        )
        policy = spec["syncPolicy"]
        opts = policy["syncOptions"]
        assert policy["retry"]["limit"] >= 3, name
        assert "CreateNamespace=true" in opts, name
        manual = app["metadata"]["annotations"]["llm-platform/sync"] == "manual"
        assert ("automated" in policy) != manual, name
        if not manual:
            assert policy["automated"] == {"prune": True, "selfHeal": True}, name
        if name in CRD_HEAVY:
            assert "ServerSideApply=true" in opts, name
        if spec.get("ignoreDifferences"):
            assert "RespectIgnoreDifferences=true" in opts, name
    # CRDs before operators before their config.
    assert waves["argo-cd"] < waves["gateway-api-crds"] == waves["inference-extension-crds"]
    assert waves["gateway-api-crds"] < waves["external-secrets"] < waves["secret-store"]
    assert waves["kueue"] < waves["kueue-config"]
    for op in ("keda", "kube-prometheus-stack"):
        assert waves["gateway-api-crds"] < waves[op] < waves["secret-store"]


def test_replicas_owned_by_autoscaling_are_ignored_and_respected():
    """Every ignoreDifferences on /spec/replicas comes with RespectIgnoreDifferences."""
    apps = applications(values_for("lab", "full", {"kserve": True}))
    found = 0
    for app in apps.values():
        for entry in app["spec"].get("ignoreDifferences", []):
            if "/spec/replicas" in entry.get("jsonPointers", []):
                found += 1
                assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
    # The platform layer itself has none; the serving layer's model servers have them.
    assert found >= 1


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_role_applies_the_same_appproject_as_git(inventory):
    dumped = inventory_values(inventory)
    chart_project = next(d for d in render_root(dumped["values"]) if d["kind"] == "AppProject")
    assert dumped["project"] == chart_project


def test_the_gpu_operator_gets_the_settings_the_hetzner_substrate_computes():
    """substrate_hetzner's GPU Operator values (k3s's containerd config read from the file, the
    toleration of the GPU taint) never reached the Application that deploys the Operator (issue
    16); the substrate fact substrate_app_values carries them there."""
    defaults = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "substrate_hetzner", "defaults", "main.yml")
    with open(defaults, encoding="utf-8") as fh:
        computed = yaml.safe_load(fh)["substrate_hetzner_gpu_operator_values"]
    values = applications(inventory_values("hetzner")["values"])["gpu-operator"]["spec"]["source"]["helm"]["valuesObject"]
    env = {e["name"]: e["value"] for e in values["toolkit"]["env"]}
    assert env == {e["name"]: e["value"] for e in computed["toolkit"]["env"]}
    assert env["RUNTIME_CONFIG_SOURCE"] == "file"
    assert values["daemonsets"]["tolerations"] == computed["daemonsets"]["tolerations"]
    # The platform still decides what depends on its features (observability: dcgm's ServiceMonitor).
    assert values["dcgmExporter"]["serviceMonitor"]["enabled"] is True


def test_self_managed_argocd_keeps_the_version_platform_argocd_installs():
    """Raising platform_argocd_version installed the new Argo CD, whose own Application then synced
    it back to the chart's pin (issue 16). The version is handed to that Application instead."""
    pinned = applications(inventory_values("gke")["values"])["argo-cd"]["spec"]["source"]["targetRevision"]
    raised = applications(inventory_values("gke", "platform_argocd_version=v3.6.9")["values"])["argo-cd"]
    assert pinned == "v3.6.2"
    assert raised["spec"]["source"]["targetRevision"] == "v3.6.9"


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_self_managed_argocd_keeps_the_bootstrap_settings(inventory):
    """The argo-cd Application patches argocd-cm & co. with exactly the data platform_argocd wrote."""
    dumped = inventory_values(inventory)
    app = applications(dumped["values"])["argo-cd"]
    patched = {}
    for patch in app["spec"]["source"]["kustomize"]["patches"]:
        obj = yaml.safe_load(patch["patch"])
        patched[obj["metadata"]["name"]] = obj["data"]
    assert patched == dumped["argocd_config"]
    assert patched["argocd-cmd-params-cm"]["server.insecure"] == "true"
    assert patched["argocd-cm"]["kustomize.buildOptions"] == "--enable-helm"
    assert "resource.customizations.health.postgresql.cnpg.io_Cluster" in patched["argocd-cm"]


def test_admin_is_off_when_sso_is_configured():
    values = values_for("lab", "platform")
    values["argocd"]["oidcConfig"] = "name: Dex\nissuer: https://auth.example.com\nclientID: argocd\n"
    app = applications(values)["argo-cd"]
    cm = next(yaml.safe_load(p["patch"]) for p in app["spec"]["source"]["kustomize"]["patches"] if p["target"]["name"] == "argocd-cm")
    assert cm["data"]["admin.enabled"] == "false"
    assert cm["data"]["oidc.config"].startswith("name: Dex")


def test_workload_identity_annotates_the_eso_service_account():
    gke = applications(values_for("gke", "platform"))["external-secrets"]["spec"]["source"]["helm"]["valuesObject"]
    assert gke["serviceAccount"]["annotations"] == {
        "iam.gke.io/gcp-service-account": "external-secrets@my-gcp-project.iam.gserviceaccount.com"
    }
    het = applications(values_for("hetzner", "platform"))["external-secrets"]["spec"]["source"]["helm"]["valuesObject"]
    assert "annotations" not in het["serviceAccount"]


def test_gpu_metrics_scraping_per_gpu_stack():
    gke = applications(values_for("gke", "platform"))["kube-prometheus-stack"]["spec"]["source"]["helm"]["valuesObject"]
    (monitor,) = gke["prometheus"]["additionalPodMonitors"]
    assert monitor["namespaceSelector"] == {"matchNames": ["gke-managed-system"]}
    assert monitor["selector"]["matchLabels"] == {"app.kubernetes.io/name": "gke-managed-dcgm-exporter"}
    het = applications(values_for("hetzner", "platform"))
    assert "additionalPodMonitors" not in het["kube-prometheus-stack"]["spec"]["source"]["helm"]["valuesObject"]["prometheus"]
    gpu_op = het["gpu-operator"]["spec"]["source"]["helm"]["valuesObject"]
    assert gpu_op["dcgmExporter"]["serviceMonitor"]["enabled"] is True
    assert {"name": "CONTAINERD_SOCKET", "value": "/run/k3s/containerd/containerd.sock"} in gpu_op["toolkit"]["env"]


def test_keda_is_sized_for_a_small_cluster():
    keda = applications(values_for("lab", "platform"))["keda"]["spec"]["source"]["helm"]["valuesObject"]
    for part in ("operator", "metricServer", "webhooks"):
        res = keda["resources"][part]
        assert res["requests"] == {"cpu": "100m", "memory": "128Mi"}
        assert res["limits"] == {"memory": "256Mi"}


def test_unknown_profile_fails_to_render():
    with pytest.raises(RuntimeError, match="profile"):
        render_root(values_for("lab", "everything"))
