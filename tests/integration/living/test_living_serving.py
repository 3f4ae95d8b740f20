"""serving.yml on the living lab: it syncs the model servers' Application through Argo CD (the
manual GPU cost gate), scales the model on the GPU fleet and back to zero, and pauses or resumes
its KEDA autoscaling, each rerun reporting changed=0."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.living, pytest.mark.serving]
NS = "serving"
MODEL = "qwen-local"


def _serving(living, *args: str) -> dict:
    proc = living.labkit.serving(MODEL, *args)
    assert proc.returncode == 0, proc.stdout[-6000:]
    return living.labkit.recap(proc.stdout)["localhost"]


def _pods(living) -> list[dict]:
    return living.labkit.model_pods(MODEL, NS)


def test_the_serving_playbook_brings_the_model_up_on_a_gpu_node_and_down(living):
    # Autoscaling paused: a resumed ScaledObject would own the replica count.
    assert _serving(living, "-e", "autoscaling=paused", "-e", "replicas=1")["failed"] == 0
    pods = _pods(living)
    assert len(pods) == 1
    nodes = {n["metadata"]["name"]: n for n in living.labkit.kubectl_json("get", "nodes")["items"]}
    for pod in pods:
        node = nodes[pod["spec"]["nodeName"]]
        assert int(node["status"]["allocatable"].get("nvidia.com/gpu", "0")) >= 1  # a GPU node
        assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert any(t["key"] == "nvidia.com/gpu" for t in node["spec"].get("taints", []))
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert ready.get("Ready") == "True", pod["status"]  # the simulator's own readiness probe
    assert living.find_backed(NS, pods[0]["metadata"]["name"]), "the model pod is a process the runtime backs"
    assert _serving(living, "-e", "autoscaling=paused", "-e", "replicas=1")["changed"] == 0

    down = _serving(living, "-e", "autoscaling=paused", "-e", "replicas=0")
    assert down["changed"] >= 1
    living.labkit.wait_for(lambda: _pods(living) == [], timeout=180, interval=2, what="the model pods to be gone")
    assert _serving(living, "-e", "autoscaling=paused", "-e", "replicas=0")["changed"] == 0


@pytest.mark.controllers
def test_the_serving_playbook_resumes_and_pauses_autoscaling(living):
    def paused():
        so = living.labkit.kubectl_json("-n", NS, "get", "scaledobject", MODEL)
        return (so["metadata"].get("annotations") or {}).get("autoscaling.keda.sh/paused")

    def keda_paused():
        so = living.labkit.kubectl_json("-n", NS, "get", "scaledobject", MODEL)
        return {c["type"]: c["status"] for c in so["status"]["conditions"]}["Paused"]

    _serving(living, "-e", "autoscaling=paused")
    assert paused() == "true"
    assert keda_paused() == "True"  # KEDA's own report, waited for by the playbook
    assert _serving(living, "-e", "autoscaling=resumed")["changed"] >= 1
    assert paused() is None
    # KEDA's report too (kedacore/keda#6421 left it Paused=True after a resume), and Argo CD's
    # health assessment of the ScaledObject with it: the Application is Healthy, not Suspended.
    assert keda_paused() == "False"
    living.labkit.kubectl_json("-n", NS, "get", "hpa", "keda-hpa-%s" % MODEL)
    living.labkit.wait_for(
        lambda: living.applications()["model-serving"]["status"]["health"]["status"] == "Healthy",
        120,
        3,
        "Argo CD to assess model-serving Healthy after the resume",
    )
    assert _serving(living, "-e", "autoscaling=resumed")["changed"] == 0
    assert _serving(living, "-e", "autoscaling=paused")["changed"] >= 1
    assert paused() == "true"
    assert _serving(living, "-e", "autoscaling=paused")["changed"] == 0
