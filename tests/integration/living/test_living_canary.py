"""A weighted canary really splits the traffic: a canary of the example model added to `models`
(canary_of, canary_weight) is delivered by Argo CD (its pool, its picker, the stable route's
weights), brought up by serving.yml, and the real Envoy sends its share of a bounded number of
requests for the stable model's name to the canary's pod. Taking the canary out of `models`
again prunes its pool, its picker and (through serving.yml's sync) its servers.

Runs with the tests that reshape the platform (marker `reshapes`, last) and leaves the
inventory's models, with the example model at one replica."""

from __future__ import annotations

import concurrent.futures
import copy
import json
import math
import os
import time

import pytest
import yaml

pytestmark = [pytest.mark.lab, pytest.mark.living, pytest.mark.serving, pytest.mark.reshapes]
SERVING_NS = "serving"
STABLE = "qwen-local"
CANARY = "qwen-local-canary"
WEIGHT = 20
REQUESTS = 300
# Each request lands on the canary with probability WEIGHT/100 (Envoy's weighted clusters pick
# at random): the count is binomial; 4 standard deviations either side fail once in ~16,000 runs.
SIGMAS = 4


def _models(living) -> list[dict]:
    with open(os.path.join(living.labkit.REPO_ROOT, "group_vars", "all", "models.yml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)["models"]


def _with_canary(living) -> list[dict]:
    models = _models(living)
    stable = next(m for m in models if m["name"] == STABLE)
    canary = copy.deepcopy(stable)
    canary.update(name=CANARY, served_name=stable["served_name"] + "-canary", canary_of=STABLE, canary_weight=WEIGHT)
    for key in ("min_replicas", "max_replicas"):
        canary.pop(key, None)
    return [*models, canary]


def _converge(living, models: list[dict] | None) -> None:
    extra = {"platform_features": living.features()} | ({"models": models} if models is not None else {})
    proc = living.labkit.ansible_playbook("playbooks/platform.yml", "-e", json.dumps(extra))
    assert proc.returncode == 0, proc.stdout[-6000:]


def _served(living, models: list[dict], model: str, replicas: int) -> list[dict]:
    return living.labkit.scale_model(model, replicas, SERVING_NS, serving_args=("-e", json.dumps({"models": models})))


def _post(living, url: str, body: dict) -> str:
    return living.curl_post(url, body, "-o", "/dev/null", "-w", "%{http_code}", timeout=30)


def _exists(living, kind: str, name: str) -> bool:
    proc = living.labkit.kubectl("-n", SERVING_NS, "get", kind, name, "--ignore-not-found", "-o", "name", check=False)
    return bool(proc.stdout.strip())


def test_a_canary_gets_its_weight_of_the_requests_and_goes_with_its_model(living):
    models = _with_canary(living)
    served = next(m for m in models if m["name"] == STABLE)["served_name"]
    try:
        _converge(living, models)
        route = living.labkit.kubectl_json("-n", SERVING_NS, "get", "httproute", STABLE)
        weights = {b["name"]: b["weight"] for b in route["spec"]["rules"][0]["backendRefs"]}
        assert weights == {STABLE: 100 - WEIGHT, CANARY: WEIGHT}, weights
        stable_ips = {p["status"]["podIP"] for p in _served(living, models, STABLE, 1)}
        canary_ips = {p["status"]["podIP"] for p in _served(living, models, CANARY, 1)}
        living.labkit.wait_for(
            lambda: living.labkit.is_ready(
                living.labkit.kubectl_json("-n", SERVING_NS, "get", "pods", "-l", "app.kubernetes.io/name=%s-epp" % CANARY)["items"][0]
            ),
            timeout=180,
            interval=2,
            what="the canary's endpoint picker Ready",
        )
        url = "http://%s:80/v1/chat/completions" % living.service_ip(living.GATEWAY_NS, living.GATEWAY)
        body = {"model": served, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(lambda _i: _post(living, url, body), range(REQUESTS)))
        assert codes.count("200") == REQUESTS, {c: codes.count(c) for c in set(codes)}
        time.sleep(12)  # Envoy flushes its access log every 10 s (--file-flush-interval-msec)
        routed = [e for e in living.gateway_access_log(tail=5000) if e["start"] >= since and e["model"] == served]
        upstreams = [e["upstream"].rsplit(":", 1)[0] for e in routed]
        assert len(upstreams) == REQUESTS, len(upstreams)
        assert set(upstreams) <= stable_ips | canary_ips, set(upstreams) - stable_ips - canary_ips
        to_canary = sum(1 for ip in upstreams if ip in canary_ips)
        mean = REQUESTS * WEIGHT / 100
        spread = SIGMAS * math.sqrt(REQUESTS * WEIGHT / 100 * (1 - WEIGHT / 100))
        assert abs(to_canary - mean) <= spread, "%d of %d to the canary (weight %d%%: %.0f +- %.0f)" % (
            to_canary,
            REQUESTS,
            WEIGHT,
            mean,
            spread,
        )
        _served(living, models, CANARY, 0)
    finally:
        _converge(living, None)
        # serving.yml syncs the model servers' Application with prune: the canary's servers go.
        living.labkit.scale_model(STABLE, 1, SERVING_NS)
    assert not _exists(living, "inferencepool", CANARY)
    assert not _exists(living, "deployment", "%s-epp" % CANARY)
    assert not _exists(living, "deployment", CANARY)
    route = living.labkit.kubectl_json("-n", SERVING_NS, "get", "httproute", STABLE)
    assert [b["name"] for b in route["spec"]["rules"][0]["backendRefs"]] == [STABLE]
    status = living.applications()["model-serving"]["status"]
    assert status["sync"]["status"] == "Synced", status["sync"]
