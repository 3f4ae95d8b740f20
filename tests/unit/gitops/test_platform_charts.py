"""The platform layer's charts with every inventory's values: the ClusterSecretStore per backend,
the Kueue queue sized from the fleet, the secret contract wiring, and the upstream Kueue chart's
webhooks scoped by our values."""

from __future__ import annotations

import os

import pytest
import yaml

from .gitops_render import (
    GITOPS,
    INVENTORIES,
    applications,
    helm_template,
    module_dir,
    render_app,
    tool,
    values_for,
    with_stand_ins,
)

pytestmark = pytest.mark.skipif(tool("helm") is None, reason="helm not built (lab/build.sh helm)")
ALL_ON = {"observability": True, "autoscaling": True, "gpu_quota": True, "kserve": True, "inference_routing": True}


def _objects(inventory, app, **secrets):
    values = values_for(inventory, "full", ALL_ON)
    values["secrets"].update(secrets)
    return render_app(applications(values)[app])


def _one(objs, kind):
    (obj,) = [o for o in objs if o["kind"] == kind]
    return obj


@pytest.mark.parametrize("inventory,overrides,provider,auth", [
    ("gke", {}, "gcpsm", None),
    # The Hetzner sample keeps its secrets in the cluster (no GCP needed) ...
    ("hetzner", {}, "kubernetes", None),
    # ... and can still use Secret Manager with a service-account key off GKE.
    ("hetzner", {"backend": "gcpsm", "auth": "sa-key", "gcpProjectId": "my-gcp-project"}, "gcpsm",
     {"secretRef": {"secretAccessKeySecretRef": {"name": "secret-store-key", "key": "sa-key.json", "namespace": "external-secrets"}}}),
    ("byo", {}, "kubernetes", None),
    ("lab", {}, "kubernetes", None),
])
def test_one_cluster_secret_store_named_alike_per_backend(inventory, overrides, provider, auth):
    store = _one(_objects(inventory, "secret-store", **overrides), "ClusterSecretStore")
    assert store["metadata"]["name"] == "secret-store"
    assert list(store["spec"]["provider"]) == [provider]
    spec = store["spec"]["provider"][provider]
    if provider == "gcpsm":
        assert spec["projectID"] == "my-gcp-project"
        assert spec.get("auth") == auth  # workload identity: keyless, no auth block
    else:
        assert spec["remoteNamespace"] == "platform-secrets"
        assert spec["auth"] == {"serviceAccount": {"name": "secret-store-reader", "namespace": "external-secrets"}}


@pytest.mark.parametrize("auth,expected", [
    ("token", {"tokenSecretRef": {"name": "vault-token", "key": "token", "namespace": "external-secrets"}}),
    ("kubernetes", {"kubernetes": {"mountPath": "kubernetes", "role": "external-secrets",
                                   "serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"}}}),
])
def test_vault_store(auth, expected):
    vault = {"server": "https://bao.example.com:8200", "path": "secret", "role": "external-secrets"}
    store = _one(_objects("byo", "secret-store", backend="vault", auth=auth, vault=vault), "ClusterSecretStore")
    spec = store["spec"]["provider"]["vault"]
    assert spec["server"] == "https://bao.example.com:8200"
    assert spec["version"] == "v2"
    assert spec["auth"] == expected


def test_kubernetes_provider_reader_can_only_read_the_source_namespace():
    objs = _objects("lab", "secret-store")
    role = _one(objs, "Role")
    assert role["metadata"]["namespace"] == "platform-secrets"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]
    ns = _one(objs, "Namespace")
    assert "Prune=false" in ns["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_cluster_queue_quota_is_the_physical_gpu_count(inventory):
    objs = _objects(inventory, "kueue-config")
    gpus = sum(p["gpus_per_node"] * p["max_nodes"] for p in values_for(inventory)["cluster"]["gpuPools"])
    cq = _one(objs, "ClusterQueue")
    quota = {r["name"]: r["nominalQuota"] for r in cq["spec"]["resourceGroups"][0]["flavors"][0]["resources"]}
    assert quota == {"cpu": str(8 * gpus), "memory": "%dGi" % (32 * gpus) if gpus else "0", "nvidia.com/gpu": str(gpus)}
    # Explicit defaults: what the ClusterQueue CRD/webhook would add otherwise (no Argo drift).
    assert cq["spec"]["queueingStrategy"] == "BestEffortFIFO"
    assert cq["spec"]["stopPolicy"] == "None"
    assert cq["spec"]["flavorFungibility"] == {"whenCanBorrow": "MayStopSearch", "whenCanPreempt": "TryNextFlavor"}
    assert cq["spec"]["preemption"] == {"withinClusterQueue": "LowerPriority", "reclaimWithinCohort": "Any",
                                        "borrowWithinCohort": {"policy": "Never"}}
    flavor = _one(objs, "ResourceFlavor")
    assert flavor["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    classes = {o["metadata"]["name"]: o["value"] for o in objs if o["kind"] == "WorkloadPriorityClass"}
    assert classes == {"low-priority": 100, "high-priority": 1000}


def test_gpu_quota_override_and_its_bound():
    chart = os.path.join(GITOPS, "charts", "kueue-config")
    pools = [{"name": "a", "gpus_per_node": 2, "max_nodes": 2}]
    cq = _one(helm_template(chart, "k", "kueue-system", {"gpuPools": pools, "gpuQuota": 3}), "ClusterQueue")
    assert cq["spec"]["resourceGroups"][0]["flavors"][0]["resources"][2] == {"name": "nvidia.com/gpu", "nominalQuota": "3"}
    with pytest.raises(RuntimeError, match="larger than the fleet"):
        helm_template(chart, "k", "kueue-system", {"gpuPools": pools, "gpuQuota": 5})


def test_secret_contract_reaches_its_consumers():
    with open(os.path.join(GITOPS, "secret-contract.yml"), encoding="utf-8") as fh:
        contract = yaml.safe_load(fh)["secrets"]
    apps = applications(values_for("lab", "full", ALL_ON))
    for entry in contract:
        assert entry["app"] in apps, "contract entry %s names no Application" % entry["secret"]
        given = apps[entry["app"]]["spec"]["source"]["helm"]["valuesObject"]["externalSecrets"]
        (es,) = [e for e in given if e["name"] == entry["secret"] and e["namespace"] == entry["namespace"]]
        remote = {d["secretKey"]: d["remoteRef"] for d in es["spec"]["data"]}
        for key in entry["keys"]:
            if "literal" in key:
                assert es["spec"]["target"]["template"]["data"][key["key"]] == key["literal"]
            else:
                assert remote[key["key"]]["key"] == key["remote"]
                assert remote[key["key"]]["property"] == "value"  # kubernetes provider
        assert es["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "secret-store"}
    # gcpsm: plain values, no property.
    gke = applications(values_for("gke", "full", ALL_ON))["secret-store"]["spec"]["source"]["helm"]["valuesObject"]
    assert all("property" not in d["remoteRef"] for e in gke["externalSecrets"] for d in e["spec"]["data"])


def test_grafana_admin_secret_only_with_observability():
    on = _objects("lab", "secret-store")
    assert [o["metadata"]["name"] for o in on if o["kind"] == "ExternalSecret"] == ["grafana-admin"]
    values = values_for("lab", "full", {"observability": False, "autoscaling": False})
    off = render_app(applications(values)["secret-store"])
    assert not [o for o in off if o["kind"] == "ExternalSecret"]


KUEUE = module_dir("sigs.k8s.io/kueue", "v0.19.2")


@pytest.mark.skipif(KUEUE is None, reason="Go module sigs.k8s.io/kueue@v0.19.2 not downloaded (lab/build.sh crds)")
def test_upstream_kueue_webhooks_are_scoped_to_kueue_managed_namespaces():
    """Our kueue Application values, rendered by the real upstream chart of the pinned version:
    every job/pod webhook only sees namespaces labelled llm-platform/kueue-managed=true."""
    app = applications(values_for("lab", "platform"))["kueue"]
    assert app["spec"]["source"]["targetRevision"] == "0.19.2"
    objs = helm_template(os.path.join(KUEUE, "charts", "kueue"), "kueue", "kueue-system", app["spec"]["source"]["helm"]["valuesObject"])
    hooks = {}
    for cfg in objs:
        if cfg["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            for hook in cfg["webhooks"]:
                hooks[hook["name"]] = hook
    for name in ("mpod.kb.io", "vpod.kb.io", "mjob.kb.io", "vjob.kb.io", "mdeployment.kb.io", "mstatefulset.kb.io"):
        assert hooks[name]["namespaceSelector"] == {"matchLabels": {"llm-platform/kueue-managed": "true"}}, name
    unscoped = [n for n, h in hooks.items() if "namespaceSelector" not in h and any(
        r.get("apiGroups") in ([""], ["batch"], ["apps"]) for r in h.get("rules", []))]
    assert unscoped == []
    deploy = next(o for o in objs if o["kind"] == "Deployment")
    assert deploy["spec"]["replicas"] == 1


def test_gke_models_admit_the_proxy_only_subnet_of_the_gateway():
    """On GKE the managed gateway's proxies come from the region's proxy-only subnet (created by
    substrate_gke): the inventory hands its range to the routing chart, so the models' policy renders."""
    objs = render_app(applications(with_stand_ins(values_for("gke", "full", ALL_ON)))["inference-routing"])
    (policy,) = [o for o in objs if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "models-from-gateway"]
    cidrs = [p["ipBlock"]["cidr"] for rule in policy["spec"]["ingress"] for p in rule["from"] if "ipBlock" in p]
    assert cidrs == ["10.129.0.0/23"]
