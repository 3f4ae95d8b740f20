"""Which serving/routing/llm-gateway Applications the app-of-apps yields per profile, feature
and inventory, and how they are synced."""

from __future__ import annotations

import pytest
from serving_render import applications, helm_binary, load_models, root_values

pytestmark = pytest.mark.skipif(helm_binary() is None, reason="helm not built yet (lab/build.sh)")

SERVING_APPS = {
    "kserve-crds",
    "kserve",
    "model-serving",
    "agentgateway-crds",
    "agentgateway",
    "inference-routing",
    "cloudnative-pg",
    "litellm",
}


def _apps(**kwargs):
    features = kwargs.pop("features", None)
    values = root_values(load_models(), **kwargs)
    if features:
        values["features"].update(features)
    return applications(values)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"profile": "platform"}, set()),
        ({"profile": "serving", "kserve": False}, {"model-serving"}),
        ({"profile": "serving"}, {"kserve-crds", "kserve", "model-serving"}),
        ({"profile": "llm-gateway"}, {"kserve-crds", "kserve", "model-serving", "inference-routing", "litellm"}),
        ({"profile": "llm-gateway", "kserve": False, "features": {"inference_routing": False}}, {"model-serving", "litellm"}),
        (
            {"profile": "full", "substrate": "hetzner", "kserve": False},
            {"model-serving", "agentgateway-crds", "agentgateway", "inference-routing", "cloudnative-pg", "litellm"},
        ),
        ({"profile": "full", "substrate": "gke", "kserve": False}, {"model-serving", "inference-routing", "cloudnative-pg", "litellm"}),
    ],
)
def test_apps_per_profile_feature_and_inventory(kwargs, expected):
    assert set(_apps(**kwargs)) & SERVING_APPS == expected


def test_model_serving_is_the_manual_gpu_cost_gate_and_keeps_replicas():
    app = _apps(profile="serving")["model-serving"]
    spec = app["spec"]
    assert "automated" not in spec["syncPolicy"]
    assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]
    pointers = {(i["kind"], p) for i in spec["ignoreDifferences"] for p in i["jsonPointers"]}
    assert ("Deployment", "/spec/replicas") in pointers
    assert ("ScaledObject", "/metadata/annotations/autoscaling.keda.sh~1paused") in pointers
    values = spec["source"]["helm"]["valuesObject"]
    assert values["models"] == load_models()
    assert {e["name"] for e in values["externalSecrets"]} == {"vllm-api-key", "hf-token"}


def test_waves_workloads_before_routes():
    apps = _apps(profile="llm-gateway")
    wave = {n: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for n, a in apps.items()}
    assert wave["kserve-crds"] < wave["kserve"] < wave["model-serving"] < wave["inference-routing"]
    assert wave["litellm"] >= wave["model-serving"]
