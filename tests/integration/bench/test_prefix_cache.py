"""Shared-prefix prompts against the simulator's KV/prefix cache, and the prefix-cache hit rate
read from Prometheus over the step window (the simulator exposes the counters without the
``_total`` suffix: the name resolution in bench/names.py handles both)."""

import json
import os

import benchkit
import pytest

pytestmark = pytest.mark.bench

SIM_PORT, PROM_PORT = 18002, 19092


@pytest.fixture(scope="module")
def kv_lab(ns, workdir):
    sim = benchkit.start_sim(
        ns, SIM_PORT, workdir, ttft="20ms", itl="5ms", max_num_seqs=8, extra=["--enable-kvcache", "--kv-cache-size", "256"]
    )
    d = os.path.join(workdir, "kv")
    os.makedirs(d, exist_ok=True)
    prom = benchkit.start_prometheus(ns, PROM_PORT, d, ["127.0.0.1:%d" % SIM_PORT])
    try:
        benchkit.wait_scraped(ns, PROM_PORT)
        yield "http://127.0.0.1:%d/v1" % SIM_PORT, "http://127.0.0.1:%d" % PROM_PORT
    finally:
        prom.stop()
        sim.stop()


def _run(bench, workdir, endpoint, prom, dataset):
    cfg = os.path.join(workdir, "kv-%s.json" % dataset["kind"])
    with open(cfg, "w", encoding="utf-8") as fh:
        json.dump({"dataset": dataset}, fh)
    rc, _, err, res = bench(
        "run", "--config", cfg, "--endpoint", endpoint, "--model", "bench-model", "--profile", "concurrency",
        "--concurrencies", "4", "--duration", "5", "--output-tokens", "8", "--input-tokens", "144", "--seed", "7",
        "--prometheus-url", prom, "--reports-dir", os.path.join(workdir, "reports-kv"),
    )  # fmt: skip
    assert rc == 0, err
    return benchkit.read_json(res["report"])["steps"][0]["server"]


def test_shared_prefix_dataset_hits_the_prefix_cache(bench, workdir, kv_lab):
    endpoint, prom = kv_lab
    shared = _run(bench, workdir, endpoint, prom, {"kind": "shared_prefix", "groups": 2, "prefix_tokens": 128, "suffix_tokens": 16})
    rand = _run(bench, workdir, endpoint, prom, {"kind": "random"})
    hit_shared, hit_rand = shared["prefix_cache_hit_rate"], rand["prefix_cache_hit_rate"]
    assert hit_shared["status"] == "ok" and hit_rand["status"] == "ok"
    assert hit_shared["resolved_name"][0] in ("vllm:prefix_cache_hits", "vllm:prefix_cache_hits_total")
    # 128 of 144 words are one of 2 shared prefixes: most prompt tokens hit after the first ones.
    assert hit_shared["value"] > 0.6, hit_shared
    assert hit_rand["value"] < 0.3, hit_rand
    assert shared["kv_cache_usage"]["status"] == "ok" and shared["kv_cache_usage"]["max"] > 0
