"""KEDA really scales the example model on queue depth: the ScaledObject the model-serving
Application renders, resumed by the serving playbook, reads the platform's Prometheus (which
scrapes the model pods' vllm:num_requests_waiting from llm-d-inference-sim), the metrics
adapter's APIService serves the HPA, and the Deployment grows under load and shrinks after it."""

from __future__ import annotations

import concurrent.futures
import json
import time

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.living, pytest.mark.controllers, pytest.mark.slow]
NS = "serving"
MODEL = "qwen-local"
SERVED = "qwen2.5-0.5b-instruct"


def _replicas(living) -> int:
    return living.labkit.kubectl_json("-n", NS, "get", "deployment", MODEL)["spec"].get("replicas", 0)


def _load(living, ip, port, seconds):
    """Back-to-back generations of ~10 s each (2000 tokens at the simulator's 5 ms per token,
    inside max-model-len) against one pod, for `seconds`."""
    body = json.dumps({"model": SERVED, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2000})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        living.netns_run(
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-m",
            "60",
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            "http://%s:%d/v1/chat/completions" % (ip, port),
            timeout=90,
            check=False,
        )


def test_the_metrics_apiservice_is_served_by_the_real_adapter(living):
    svc = living.labkit.kubectl_json("get", "apiservice", "v1beta1.external.metrics.k8s.io")
    conds = {c["type"]: c["status"] for c in svc["status"]["conditions"]}
    assert conds["Available"] == "True", svc["status"]
    living.backed_pod("keda", "keda-metrics-apiserver")


def test_queue_depth_scales_the_model_up_and_back(living):
    proc = living.labkit.ansible_playbook("playbooks/serving.yml", "-e", "model=%s" % MODEL, "-e", "autoscaling=resumed")
    assert proc.returncode == 0, proc.stdout[-6000:]
    so = living.labkit.kubectl_json("-n", NS, "get", "scaledobject", MODEL)
    floor, ceiling = so["spec"]["minReplicaCount"], so["spec"]["maxReplicaCount"]
    assert ceiling > floor >= 1, "the example model must be able to grow (models.yml)"
    living.labkit.wait_for(lambda: _replicas(living) == floor, 300, 5, "the model at its floor")
    pods = living.labkit.kubectl_json("-n", NS, "get", "pods", "-l", "llm-platform/model=%s" % MODEL)["items"]
    ip = pods[0]["status"]["podIP"]
    port = pods[0]["spec"]["containers"][0]["ports"][0]["containerPort"]
    # 32 long generations against max-num-seqs 8: ~24 waiting, far above the threshold of 5.
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        for _ in range(32):
            pool.submit(_load, living, ip, port, 120)
        living.labkit.wait_for(lambda: _replicas(living) > floor, 180, 5, "KEDA to scale the model up on queue depth")
    hpa = living.labkit.kubectl_json("-n", NS, "get", "hpa", "keda-hpa-%s" % MODEL)
    assert hpa["spec"]["metrics"][0]["type"] == "External"
    # Back down after the cooldown and the HPA's stabilisation window (5 min each at most).
    living.labkit.wait_for(lambda: _replicas(living) == floor, 900, 10, "the model to scale back to its floor")
