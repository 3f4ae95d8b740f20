#!/usr/bin/env python3
"""Benchmark: inference-aware routing against round-robin, on the same model pods, in one run.

    $(scripts/venv.sh)/bin/python tests/perf/routing/bench_routing.py [--duration 15] [--fractions 0.5,0.8,1.0,1.2]

Needs a living lab with the platform synced (`make lab` leaves one: lab name `lab`;
LLM_PLATFORM_LAB_NAME picks another, e.g. the tests' `living` kept with LLM_PLATFORM_LAB_KEEP=1).
Runs as root (the load generator runs inside the lab's network namespace, where the pods'
127.x addresses live).

What it does, all bounded in requests and time:
1. The example model at 2 replicas with autoscaling paused (playbooks/serving.yml), both Ready.
2. Side A, the picker: the Gateway's Envoy (rendered by the lab's Gateway controller from the
   objects Argo CD applied), body-based routing, the InferencePool's endpoint picker.
   Side B, round-robin: a second Envoy, the same binary, with one static cluster of the same two
   pod addresses and lb_policy ROUND_ROBIN, on a loopback port inside the namespace.
3. Capacity: a closed-loop step at --saturation-concurrency through the picker; the open-loop
   rates are --fractions of that throughput (up to past saturation).
4. For each dataset (random prompts; shared-prefix prompts, 4 groups) and each side, the same
   seeded Poisson rate steps with `python -m bench` (the bench harness of this repository):
   TTFT p50/p90/p99, ITL p50/p90, throughput, goodput against group_vars/all/bench.yml's SLOs,
   errors and sheds (HTTP 429/503), and the prefix-cache hit rate from the pods' own counters.
5. The gateway's added latency at concurrency 1: direct to one pod vs through Envoy + picker.

The last line: `routing A/B at saturation: TTFT p90 round-robin/picker = <ratio>` (the highest
offered rate with the random dataset). Figures, not assertions: RESULTS.md says what they show.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration", "lab"))

import labkit  # noqa: E402

MODEL = "qwen-local"
SERVING_NS = "serving"
GATEWAY_NS = "inference"
GATEWAY = "inference-gateway"
RR_PORT = 18089
RR_ADMIN_PORT = 18090


def group_vars(name: str) -> dict:
    with open(os.path.join(REPO_ROOT, "group_vars", "all", name), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def served_name() -> str:
    models = group_vars("models.yml")["models"]
    model = next(m for m in models if m["name"] == MODEL)
    return model.get("served_name") or model["name"]


def slos() -> dict:
    return group_vars("bench.yml")["bench_slo"]


def two_ready_pods() -> list[tuple[str, int]]:
    pods = labkit.scale_model(MODEL, 2, SERVING_NS)
    return sorted((p["status"]["podIP"], int(p["spec"]["containers"][0]["ports"][0]["containerPort"])) for p in pods)


def round_robin_config(pods: list[tuple[str, int]]) -> dict:
    """Envoy's own round-robin over the pods: what a plain HTTP load balancer would do."""
    endpoints = [{"endpoint": {"address": {"socket_address": {"address": ip, "port_value": port}}}} for ip, port in pods]
    router = {
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    }
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "rr",
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "all",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "pods", "timeout": "300s", "idle_timeout": "3600s"}}],
                }
            ]
        },
        "http_filters": [router],
    }
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": RR_ADMIN_PORT}}},
        "static_resources": {
            "listeners": [
                {
                    "name": "rr",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": RR_PORT}},
                    "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}],
                }
            ],
            "clusters": [
                {
                    "name": "pods",
                    "type": "STATIC",
                    "connect_timeout": "5s",
                    "lb_policy": "ROUND_ROBIN",
                    "load_assignment": {"cluster_name": "pods", "endpoints": [{"lb_endpoints": endpoints}]},
                    "circuit_breakers": {"thresholds": [{"max_connections": 40000, "max_pending_requests": 40000, "max_requests": 40000}]},
                }
            ],
        },
    }


def start_round_robin(pods, workdir: str) -> subprocess.Popen:
    path = os.path.join(workdir, "rr-envoy.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(round_robin_config(pods), fh)
    envoy = labkit.binary("envoy")
    argv = [
        envoy,
        "-c",
        path,
        "--base-id",
        "47",
        "--concurrency",
        "1",
        "-l",
        "warning",
        "--log-path",
        os.path.join(workdir, "rr-envoy.log"),
    ]
    proc = subprocess.Popen(["ip", "netns", "exec", labkit.NETNS, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    labkit.wait_for(
        lambda: labkit.netns_run("curl", "-fsS", "-m", "2", "http://127.0.0.1:%d/ready" % RR_ADMIN_PORT, check=False).returncode == 0,
        timeout=60,
        interval=0.5,
        what="the round-robin Envoy",
    )
    return proc


def prefix_counters(pods) -> tuple[float, float]:
    hits = queries = 0.0
    for ip, port in pods:
        for line in labkit.netns_run("curl", "-sS", "-m", "5", "http://%s:%d/metrics" % (ip, port), check=False).stdout.splitlines():
            if line.startswith("vllm:prefix_cache_hits"):
                hits += float(line.rsplit(" ", 1)[1])
            elif line.startswith("vllm:prefix_cache_queries"):
                queries += float(line.rsplit(" ", 1)[1])
    return hits, queries


def bench(endpoint: str, run_id: str, workdir: str, cfg: dict) -> dict:
    """One `python -m bench run` inside the lab's namespace; its report.json."""
    path = os.path.join(workdir, run_id + ".json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(cfg, fh)
    env = dict(os.environ, BENCH_API_KEY="unused-by-the-simulator")
    argv = [sys.executable, "-m", "bench", "run", "--config", path, "--endpoint", endpoint, "--reports-dir", workdir, "--run-id", run_id]
    argv += ["--no-plots", "--no-progress", "--no-requests"]
    proc = subprocess.run(
        ["ip", "netns", "exec", labkit.NETNS, *argv], check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=3600
    )
    found = [
        os.path.join(d, "report.json") for d, _s, files in os.walk(workdir) if "report.json" in files and os.path.basename(d) == run_id
    ]
    if proc.returncode not in (0, 1) or not found:  # 1: an SLO failed, the report is written
        sys.exit("bench %s failed (rc %d):\n%s\n%s" % (run_id, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    with open(found[0], encoding="utf-8") as fh:
        return json.load(fh)


def step_row(step: dict) -> dict:
    c = step["client"]
    lat = c["latency_ms"]
    errors = c.get("errors") or {}
    sent = max(c["requests"]["sent"], 1)
    return {
        "offered": step.get("offered"),
        "ttft_p50": lat["ttft"]["p50"],
        "ttft_p90": lat["ttft"]["p90"],
        "ttft_p99": lat["ttft"]["p99"],
        "itl_p50": lat["itl"]["p50"],
        "itl_p90": lat["itl"]["p90"],
        "rps": c["request_throughput"],
        "tok_s": c["output_token_throughput"],
        "goodput": c["goodput"]["requests_per_s"],
        "errors": c["error_rate"],
        "shed": (errors.get("http_429", 0) + errors.get("http_503", 0)) / sent,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per step")
    ap.add_argument("--max-requests", type=int, default=1500, help="requests per step at most")
    ap.add_argument("--saturation-concurrency", type=int, default=32)
    ap.add_argument("--fractions", default="0.5,0.8,1.0,1.2", help="open-loop rates as fractions of the measured capacity")
    ap.add_argument("--input-tokens", type=int, default=256)
    ap.add_argument("--output-tokens", type=int, default=64)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the load runs inside the lab's network namespace")
    if not labkit.ready():
        sys.exit("lab %s is not running (make lab, or LLM_PLATFORM_LAB_NAME)" % labkit.LAB_NAME)
    served = served_name()
    pods = two_ready_pods()
    gateway = "http://%s:80/v1" % labkit.service_ip(GATEWAY_NS, GATEWAY)
    common = {
        "model": served,
        "api": "chat",
        "arrival": "poisson",
        "seed": 42,
        "input_tokens": args.input_tokens,
        "output_tokens": args.output_tokens,
        "duration_s": args.duration,
        "max_requests_per_step": args.max_requests,
        "warmup_requests": 8,
        "cooldown_s": 2.0,
        "slo": slos(),
        "timeout_s": 120.0,
    }
    datasets = {
        "random": {"kind": "random"},
        "shared_prefix": {"kind": "shared_prefix", "groups": 4, "prefix_tokens": 192, "suffix_tokens": args.input_tokens - 192},
    }
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as work:
        rr = start_round_robin(pods, work)
        try:
            sides = {"picker": gateway, "round-robin": "http://127.0.0.1:%d/v1" % RR_PORT}
            t0 = time.monotonic()
            cap = bench(gateway, "capacity", work, {**common, "profile": "concurrency", "concurrencies": [args.saturation_concurrency]})
            capacity = cap["steps"][0]["client"]["request_throughput"]
            rates = [round(capacity * float(f), 2) for f in args.fractions.split(",")]
            print("capacity through the picker at concurrency %d: %.1f req/s; rates %s" % (args.saturation_concurrency, capacity, rates))
            table: dict = {}
            for dname, dataset in datasets.items():
                for side, url in sides.items():
                    before = prefix_counters(pods)
                    report = bench(
                        url,
                        "%s-%s" % (dname, side.replace("-", "")),
                        work,
                        {**common, "profile": "rate", "rates": rates, "dataset": dataset},
                    )
                    after = prefix_counters(pods)
                    dq = after[1] - before[1]
                    table[(dname, side)] = ([step_row(s) for s in report["steps"]], (after[0] - before[0]) / dq if dq else None)
            direct_url = "http://%s:%d/v1" % pods[0]
            c1 = {**common, "profile": "concurrency", "concurrencies": [1], "max_requests_per_step": 200}
            direct = bench(direct_url, "c1-direct", work, c1)["steps"][0]["client"]["latency_ms"]
            via = bench(gateway, "c1-gateway", work, c1)["steps"][0]["client"]["latency_ms"]
            elapsed = time.monotonic() - t0
        finally:
            rr.terminate()
            rr.wait(timeout=30)

    print(
        "\n%d pods of %s (%s), %d input / %d output tokens, Poisson, %.0f s a step; %.0f s in all"
        % (len(pods), MODEL, served, args.input_tokens, args.output_tokens, args.duration, elapsed)
    )
    head = "| dataset | side | offered req/s | TTFT p50/p90/p99 ms | ITL p50/p90 ms | req/s | tok/s | goodput req/s | errors | shed | prefix hit |"  # noqa: E501
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for (dname, side), (rows, hit) in table.items():
        for r in rows:
            print(
                "| %s | %s | %.1f | %.0f / %.0f / %.0f | %.1f / %.1f | %.1f | %.0f | %.1f | %.1f%% | %.1f%% | %s |"
                % (
                    dname,
                    side,
                    r["offered"] or 0,
                    r["ttft_p50"],
                    r["ttft_p90"],
                    r["ttft_p99"],
                    r["itl_p50"],
                    r["itl_p90"],
                    r["rps"],
                    r["tok_s"],
                    r["goodput"],
                    100 * r["errors"],
                    100 * r["shed"],
                    "-" if hit is None else "%.0f%%" % (100 * hit),
                )
            )
    ratios = {}
    for dname in datasets:
        a, b = table[(dname, "picker")][0][-1], table[(dname, "round-robin")][0][-1]
        ratios[dname] = b["ttft_p90"] / a["ttft_p90"]
        print("%s at %.1f req/s: TTFT p90 round-robin/picker = %.2f" % (dname, a["offered"] or 0, ratios[dname]))
    print(
        "gateway added latency at concurrency 1: TTFT p50 %.1f ms (direct %.1f, via Envoy + picker %.1f), E2E p50 %.1f ms"
        % (via["ttft"]["p50"] - direct["ttft"]["p50"], direct["ttft"]["p50"], via["ttft"]["p50"], via["e2e"]["p50"] - direct["e2e"]["p50"])
    )
    print("routing A/B at saturation: TTFT p90 round-robin/picker = %.2f" % ratios["random"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
