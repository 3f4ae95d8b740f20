"""Golden and invariant tests of the serving charts, rendered the way Argo CD renders them
(app-of-apps values -> child chart)."""

from __future__ import annotations

import os

import pytest
import yaml
from serving_render import HERE, by_kind, dump_golden, helm_binary, render_serving

pytestmark = pytest.mark.skipif(helm_binary() is None, reason="helm not built yet (lab/build.sh)")

GOLDEN_KINDS = {"ScaledObject": "scaledobjects.yml", "InferencePool": "inferencepools.yml", "HTTPRoute": "httproutes.yml"}
VLLM_IMAGE_DIGEST = "@sha256:6d8429e38e3747723ca07ee1b17972e09bb9c51c4032b266f24fb1cc3b22ed8f"


@pytest.fixture(scope="module")
def lab():
    return render_serving()


@pytest.fixture(scope="module")
def hetzner():
    return render_serving(substrate="hetzner", cost_tier="prod")


def _all(rendered):
    return [o for objs in rendered.values() for o in objs]


@pytest.mark.parametrize("kind", sorted(GOLDEN_KINDS))
def test_golden(lab, kind):
    got = by_kind(_all(lab), kind)
    path = os.path.join(HERE, "golden", GOLDEN_KINDS[kind])
    if os.environ.get("UPDATE_GOLDEN"):
        dump_golden(path, got)
    with open(path, encoding="utf-8") as fh:
        assert got == [d for d in yaml.safe_load_all(fh) if d]


def test_vllm_deployments_scale_to_zero_hardened_on_gpus(lab):
    deps = {d["metadata"]["name"]: d for d in by_kind(lab["model-serving"], "Deployment")}
    assert sorted(deps) == ["qwen-local", "qwen-local-canary"]  # the KServe model has no Deployment
    for d in deps.values():
        spec = d["spec"]
        assert spec["replicas"] == 0 and spec["strategy"]["type"] == "Recreate"
        pod = spec["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert "runtimeClassName" not in pod  # lab: no GPU stack, no runtime class
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        (c,) = pod["containers"]
        assert c["image"].endswith(VLLM_IMAGE_DIGEST)
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert c["resources"]["limits"]["nvidia.com/gpu"] == "1" == c["resources"]["requests"]["nvidia.com/gpu"]
        env = {e["name"]: e for e in c["env"]}
        assert env["HF_HUB_OFFLINE"]["value"] == "1"
        assert env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "vllm-api-key", "key": "api-key"}
        budget = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
        assert budget >= 600  # cold start: node + image + weights + CUDA graphs
        shm = next(v for v in pod["volumes"] if v["name"] == "dshm")
        assert shm["emptyDir"]["medium"] == "Memory"
        claim = next(v for v in pod["volumes"] if v["name"] == "weights")["persistentVolumeClaim"]["claimName"]
        assert claim == d["metadata"]["name"] + "-weights"
    canary_args = deps["qwen-local-canary"]["spec"]["template"]["spec"]["containers"][0]["args"]
    # the canary answers to its own name and to the stable model's (the route's) name
    assert canary_args[1:4] == ["--served-model-name", "qwen2.5-0.5b-instruct-canary", "qwen2.5-0.5b-instruct"]


def test_off_gke_with_the_gpu_operator_pods_get_the_nvidia_runtime(hetzner):
    for d in by_kind(hetzner["model-serving"], "Deployment"):
        assert d["spec"]["template"]["spec"]["runtimeClassName"] == "nvidia"
    gke = render_serving(substrate="gke")
    for d in by_kind(gke["model-serving"], "Deployment"):
        assert "runtimeClassName" not in d["spec"]["template"]["spec"]


def test_scaledobjects_paused_with_queue_and_kv_triggers_and_tier_floor(lab, hetzner):
    for rendered, floor in ((lab, 1), (hetzner, 2)):
        for so in by_kind(rendered["model-serving"], "ScaledObject"):
            assert so["metadata"]["annotations"]["autoscaling.keda.sh/paused"] == "true"
            assert so["spec"]["minReplicaCount"] == floor
            queries = [t["metadata"]["query"] for t in so["spec"]["triggers"]]
            assert queries[0].startswith("sum(vllm:num_requests_waiting{") and "kv_cache_usage_perc" in queries[1]
    # The living lab runs the platform's own Prometheus, so KEDA asks it everywhere.
    for rendered in (lab, hetzner):
        address = by_kind(rendered["model-serving"], "ScaledObject")[0]["spec"]["triggers"][0]["metadata"]["serverAddress"]
        assert address == "http://prometheus-operated.monitoring.svc:9090"


def test_kserve_inferenceservice(lab):
    (isvc,) = by_kind(lab["model-serving"], "InferenceService")
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    pred = isvc["spec"]["predictor"]
    assert pred["minReplicas"] == 0
    (c,) = pred["containers"]
    assert c["name"] == "kserve-container"
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["STORAGE_URI"].startswith("oci://") and "@sha256:" in env["STORAGE_URI"]
    assert "--model=/mnt/models" in c["args"] and "--port=8080" in c["args"]
    assert "serving.kserve.io/stop" not in isvc["metadata"]["annotations"]  # idle pause is an operator action


def test_routes_canary_and_no_catch_all(lab):
    routes = {r["metadata"]["name"]: r for r in by_kind(lab["inference-routing"], "HTTPRoute")}
    assert sorted(routes) == ["qwen-local", "qwen-oci"]
    for r in routes.values():
        for rule in r["spec"]["rules"]:
            assert rule["timeouts"]["request"] == "300s"
            for match in rule["matches"]:  # every rule needs the model header: unknown models get 404
                assert match["headers"][0]["name"] == "X-Gateway-Model-Name"
    weights = {b["name"]: b["weight"] for b in routes["qwen-local"]["spec"]["rules"][0]["backendRefs"]}
    assert weights == {"qwen-local": 90, "qwen-local-canary": 10}


def test_epp_right_sized_one_per_pool(lab):
    pools = by_kind(lab["inference-routing"], "InferencePool")
    epps = [d for d in by_kind(lab["inference-routing"], "Deployment") if d["metadata"]["name"].endswith("-epp")]
    assert len(pools) == len(epps) == 3
    for d in epps:
        res = d["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert res == {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}
    kserve_pool = next(p for p in pools if p["metadata"]["name"] == "qwen-oci")
    assert kserve_pool["spec"]["targetPorts"] == [{"number": 8080}]
    (objective,) = [o for o in by_kind(lab["inference-routing"], "InferenceObjective") if o["metadata"]["name"] == "qwen-oci-interactive"]
    assert objective["apiVersion"] == "inference.networking.x-k8s.io/v1alpha2"


def test_every_picker_may_authorize_its_scrapes_and_one_reader_may_scrape(lab):
    # GIE's EPP checks every /metrics request with TokenReview and SubjectAccessReview; without
    # the rights to ask, nobody could read the picker's own records.
    objs = lab["inference-routing"]
    epps = {
        d["spec"]["template"]["spec"]["serviceAccountName"] for d in by_kind(objs, "Deployment") if d["metadata"]["name"].endswith("-epp")
    }
    roles = {r["metadata"]["name"]: r for r in by_kind(objs, "ClusterRole")}
    bindings = {b["metadata"]["name"]: b for b in by_kind(objs, "ClusterRoleBinding")}
    auth = roles["llm-platform-epp-metrics-auth"]["rules"]
    assert {(r["apiGroups"][0], r["resources"][0], tuple(r["verbs"])) for r in auth} == {
        ("authentication.k8s.io", "tokenreviews", ("create",)),
        ("authorization.k8s.io", "subjectaccessreviews", ("create",)),
    }
    assert {s["name"] for s in bindings["llm-platform-epp-metrics-auth"]["subjects"]} == epps
    assert roles["llm-platform-epp-metrics-reader"]["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    assert [s["name"] for s in bindings["llm-platform-epp-metrics-reader"]["subjects"]] == ["epp-metrics-reader"]
    # The observability feature (on in these renders) scrapes every picker with the reader's token.
    (monitor,) = by_kind(objs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["authorization"]["credentials"] == {"name": "epp-metrics-reader-token", "key": "token"}
    services = [s for s in by_kind(objs, "Service") if s["metadata"]["name"].endswith("-epp")]
    assert services and all(s["metadata"]["labels"]["llm-platform/component"] == "endpoint-picker" for s in services)
    assert monitor["spec"]["selector"]["matchLabels"] == {"llm-platform/component": "endpoint-picker"}


def test_gateway_class_from_the_inventory():
    for substrate, cls in (("lab", "lab-gateway"), ("gke", "gke-l7-rilb"), ("hetzner", "agentgateway")):
        (gw,) = by_kind(render_serving(substrate=substrate)["inference-routing"], "Gateway")
        assert gw["spec"]["gatewayClassName"] == cls


def test_litellm_prod_tier(hetzner, lab):
    kinds = {o["kind"] for o in hetzner["litellm"]}
    assert {"PodDisruptionBudget", "Cluster", "ScheduledBackup"} <= kinds
    dep = next(d for d in by_kind(hetzner["litellm"], "Deployment") if d["metadata"]["name"] == "litellm")
    assert dep["spec"]["replicas"] == 2
    assert any(d["metadata"]["name"] == "litellm-redis" for d in by_kind(hetzner["litellm"], "Deployment"))
    kinds = {o["kind"] for o in lab["litellm"]}
    assert "Cluster" not in kinds and "StatefulSet" in kinds  # the lab has no CloudNativePG operator
    job = by_kind(lab["litellm"], "Job")[0]
    # A Sync hook of wave 0: after the credentials (-2) and the database (-1) it waits for.
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync"
    assert job["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "0"
    assert job["spec"]["template"]["spec"]["initContainers"][0]["name"] == "wait-for-db"
    secrets = {e["metadata"]["name"]: e for e in by_kind(lab["litellm"], "ExternalSecret")}
    keys = {d["secretKey"] for d in secrets["litellm-secrets"]["spec"]["data"]}
    assert keys == {"PROXY_MASTER_KEY", "LITELLM_SALT_KEY", "UPSTREAM_API_KEY"}


def test_models_are_reached_only_through_the_gateway(lab):
    cm = by_kind(lab["litellm"], "ConfigMap")[0]
    for entry in yaml.safe_load(cm["data"]["config.yaml"])["model_list"]:
        assert entry["litellm_params"]["api_base"].startswith("http://inference-gateway.inference.svc")
    pols = {p["metadata"]["name"]: p for p in by_kind(lab["inference-routing"], "NetworkPolicy")}
    sources = pols["models-from-gateway"]["spec"]["ingress"][0]["from"]
    names = {s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for s in sources if "namespaceSelector" in s}
    assert names == {"inference", "monitoring"}  # not litellm
