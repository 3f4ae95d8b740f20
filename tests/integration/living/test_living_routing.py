"""Inference-aware routing really happens in the living lab: the Envoy the lab's Gateway
controller renders from the Gateway/HTTPRoute/InferencePool objects Argo CD applied, the
body-based router on the request's `model`, and the real endpoint picker choosing the model
pod from the pods' own vLLM metrics (llm-d-inference-sim with queue and KV-cache simulation)."""

from __future__ import annotations

import concurrent.futures
import json
import time

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.living, pytest.mark.serving]
SERVING_NS = "serving"
MODEL = "qwen-local"
SERVED = "qwen2.5-0.5b-instruct"


@pytest.fixture(scope="module")
def two_replicas(living):
    """The example model synced by the serving playbook (the manual GPU gate) with 2 replicas."""
    return {p["status"]["podIP"]: p["metadata"]["name"] for p in living.labkit.scale_model(MODEL, 2)}


def _gateway(living) -> str:
    return "http://%s:80" % living.service_ip(living.GATEWAY_NS, living.GATEWAY)


def _post(living, url, body, timeout=60):
    """(status, body) of a POST from inside the lab's namespace."""
    out = living.curl_post(url, body, "-o", "-", "-w", "\n%{http_code}", timeout=timeout)
    text, _sep, code = out.rpartition("\n")
    return int(code or 0), text


def _chat(model, max_tokens=8, **extra):
    return {"model": model, "messages": [{"role": "user", "content": "hello"}], "max_tokens": max_tokens, **extra}


def _waiting(living, ip, port) -> float:
    """vllm:num_requests_waiting as the pod itself reports it (what the picker scrapes)."""
    out = living.netns_run("curl", "-sS", "-m", "5", "http://%s:%d/metrics" % (ip, port), timeout=15, check=False).stdout
    values = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines() if line.startswith("vllm:num_requests_waiting")]
    return max(values, default=0.0)


def _picks(living) -> dict[str, float]:
    """The picker's own record of its decisions: inference_extension_scheduler_attempts_total
    per picked pod, read from its metrics endpoint with the reader's token (the picker
    authenticates and authorizes every scrape itself: templates/epp-metrics.yaml)."""
    pod = living.labkit.kubectl_json("-n", SERVING_NS, "get", "pods", "-l", "app.kubernetes.io/name=%s-epp" % MODEL)["items"][0]
    token = living.labkit.kubectl("-n", SERVING_NS, "create", "token", "epp-metrics-reader", "--duration=10m").stdout.strip()
    url = "http://%s:9090/metrics" % pod["status"]["podIP"]
    out = living.netns_run("curl", "-sS", "-f", "-m", "5", "-H", "Authorization: Bearer " + token, url, timeout=15)
    picks: dict[str, float] = {}
    for line in out.stdout.splitlines():
        if line.startswith("inference_extension_scheduler_attempts_total{") and 'status="success"' in line:
            labels = dict(kv.split("=", 1) for kv in line[line.index("{") + 1 : line.index("}")].split(","))
            name = labels.get("pod_name", '""').strip('"')
            picks[name] = picks.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return picks


def test_the_pickers_records_need_a_token_allowed_to_read_them(living):
    pod = living.labkit.kubectl_json("-n", SERVING_NS, "get", "pods", "-l", "app.kubernetes.io/name=%s-epp" % MODEL)["items"][0]
    url = "http://%s:9090/metrics" % pod["status"]["podIP"]
    anonymous = living.netns_run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", url, timeout=15).stdout
    assert anonymous in ("401", "403"), anonymous
    assert isinstance(_picks(living), dict)  # the reader's token is accepted (curl -f)


def test_the_gateway_is_programmed_by_the_lab_controller(living):
    gw = living.labkit.kubectl_json("-n", living.GATEWAY_NS, "get", "gateway", living.GATEWAY)
    conds = {c["type"]: c["status"] for c in gw["status"]["conditions"]}
    assert conds.get("Programmed") == "True" and conds.get("Accepted") == "True", gw["status"]


def test_a_request_reaches_a_pod_of_its_model_pool(living, two_replicas):
    status, body = _post(living, _gateway(living) + "/v1/chat/completions", _chat(SERVED))
    assert status == 200, body
    assert json.loads(body)["model"] == SERVED
    time.sleep(12)  # Envoy flushes its access log every 10 s (--file-flush-interval-msec)
    last = [e for e in living.gateway_access_log() if e["model"] == SERVED][-1]
    assert last["code"] == "200" and last["upstream"].rsplit(":", 1)[0] in two_replicas, last


def test_a_streamed_answer_comes_through_the_gateway_token_by_token(living, two_replicas):
    """The request processor sees no response events (GKE's GCPRoutingExtension declares request
    events only): given the response, the body-based router would hold the SSE stream back until
    its last token. 400 tokens at the simulator's 5 ms a token take 2 s or more; buffered, the
    first byte would come with the last."""
    body = dict(_chat(SERVED, max_tokens=400, ignore_eos=True), stream=True)
    timing = "%{http_code} %{time_starttransfer} %{time_total}"
    out = living.curl_post(_gateway(living) + "/v1/chat/completions", body, "-N", "-o", "/dev/null", "-w", timing).split()
    code, first_byte, total = int(out[0]), float(out[1]), float(out[2])
    assert code == 200 and total >= 2.0, out
    assert first_byte < total / 2, "first byte after %.2f s of %.2f s: the stream was held back" % (first_byte, total)


def test_a_model_no_route_knows_gets_404(living):
    status, _body = _post(living, _gateway(living) + "/v1/chat/completions", _chat("no-such-model"))
    assert status == 404


def test_the_picker_sends_new_requests_to_the_idle_replica(living, two_replicas):
    """Load one replica directly (its queue fills: max-num-seqs 8, generations of exactly 4000
    tokens at the lab's 5 ms a token, so it stays busy for the whole test), then send
    requests through the gateway: the picker, reading both pods' vllm:num_requests_waiting and
    KV-cache use, routes them to the other one."""
    busy_ip, idle_ip = sorted(two_replicas)
    port = living.labkit.kubectl_json("-n", SERVING_NS, "get", "pod", two_replicas[busy_ip])["spec"]["containers"][0]["ports"][0][
        "containerPort"
    ]
    direct = "http://%s:%d/v1/chat/completions" % (busy_ip, port)
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        # ignore_eos: without it the simulator samples the length (70 % of answers <= 60 tokens),
        # and the "busy" replica had drained before the first routed request (6 of 10 to idle).
        load = [pool.submit(_post, living, direct, _chat(SERVED, max_tokens=4000, ignore_eos=True), 120) for _ in range(24)]
        living.labkit.wait_for(
            lambda: _waiting(living, busy_ip, port) >= 8, timeout=90, interval=1, what="a queue of 8 on the busy pod %s" % busy_ip
        )
        time.sleep(1)  # the picker refreshes pod metrics every 50 ms
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        picked_before = _picks(living)
        for _ in range(10):
            status, body = _post(living, _gateway(living) + "/v1/chat/completions", _chat(SERVED))
            assert status == 200, body
        time.sleep(12)  # Envoy flushes its access log every 10 s (--file-flush-interval-msec)
        picked_after = _picks(living)
        mine = [e for e in living.gateway_access_log() if e["start"] >= since and e["model"] == SERVED]
        routed = [e["upstream"].rsplit(":", 1)[0] for e in mine]
        for f in load:
            f.cancel()
    assert len(routed) == 10, routed
    assert routed.count(idle_ip) >= 9, "the picker sent %d of 10 to the idle pod %s: %s" % (routed.count(idle_ip), idle_ip, routed)
    # The picker's own records say the same, pod by pod, as Envoy's access log.
    picked = {pod: picked_after.get(pod, 0) - picked_before.get(pod, 0) for pod in two_replicas.values()}
    assert picked == {name: float(routed.count(ip)) for ip, name in two_replicas.items()}, (picked, routed)


def test_a_pool_with_no_ready_endpoint_answers_503_and_recovers(living, two_replicas):
    """Last in this module: it takes the model down. With no Ready pod the pool has no endpoint,
    the picker has nothing to pick and the gateway answers 503 (lab/LIVING.md, section 4); once
    a pod is Ready again requests are answered, with nothing else done to the gateway."""

    living.labkit.scale_model(MODEL, 0)
    time.sleep(2)  # the picker's datastore follows the pods within its refresh interval
    status, body = _post(living, _gateway(living) + "/v1/chat/completions", _chat(SERVED), timeout=30)
    # The picker's own answer ("inference error: ServiceUnavailable - failed to find endpoint
    # candidates ..."), not Envoy's "no healthy upstream".
    assert status == 503 and "ServiceUnavailable" in body, (status, body[:500])

    living.labkit.scale_model(MODEL, 1)

    def answered():
        return _post(living, _gateway(living) + "/v1/chat/completions", _chat(SERVED), timeout=30)[0] == 200

    living.labkit.wait_for(answered, timeout=300, interval=3, what="an answer once a pod of %s is Ready again" % MODEL)
