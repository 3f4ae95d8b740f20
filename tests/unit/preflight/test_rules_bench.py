"""Preflight rules for the bench inputs: each bad input fails naming its variable."""

from __future__ import annotations

import pytest


def test_valid_bench_config_passes(cfg, paths):
    cfg.update(bench_profile="sweep", bench_sweep_steps=4, bench_slo={"ttft_p95_ms": 250, "tpot_p99_ms": 30})
    assert paths(cfg) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"bench_profile": "concurrency", "bench_concurrencies": []}, "bench_concurrencies"),
        ({"bench_profile": "concurrency", "bench_concurrencies": [4, 0]}, "bench_concurrencies[1]"),
        ({"bench_profile": "rate", "bench_rates": []}, "bench_rates"),
        ({"bench_profile": "rate", "bench_rates": [2.0, -1]}, "bench_rates[1]"),
        ({"bench_profile": "sweep", "bench_sweep_steps": 0}, "bench_sweep_steps"),
        ({"bench_profile": "sweep", "bench_sweep_steps": 1}, "bench_sweep_steps"),
        ({"bench_slo": {"latency_p95_ms": 100}}, "bench_slo.latency_p95_ms"),
        ({"bench_slo": {"ttft_p97_ms": 100}}, "bench_slo.ttft_p97_ms"),
        ({"bench_slo": {"ttft_p95_ms": 0}}, "bench_slo.ttft_p95_ms"),
        ({"bench_duration_seconds": 0}, "bench_duration_seconds"),
        ({"bench_gpu_cost_per_hour": -1.0}, "bench_gpu_cost_per_hour"),
        ({"bench_prometheus_url": "127.0.0.1:9090"}, "bench_prometheus_url"),
        ({"bench_endpoint": "localhost:4000/v1"}, "bench_endpoint"),
        ({"bench_dataset": "jsonl", "bench_dataset_path": ""}, "bench_dataset_path"),
        ({"bench_model": "no-such-model"}, "bench_model"),
        ({"bench_arrival": "bursty"}, "bench_arrival"),
        ({"bench_key_mode": "steal"}, "bench_key_mode"),
    ],
)
def test_bad_bench_input_names_the_variable(cfg, paths, change, path):
    cfg.update(change)
    assert path in paths(cfg)


def test_unknown_slo_metric_message_lists_the_allowed(cfg):
    from ansible_collections.llm.platform.plugins.plugin_utils import preflight

    cfg["bench_slo"] = {"latency_p95_ms": 100}
    failures = [f for f in preflight.validate(cfg) if f.path == "bench_slo.latency_p95_ms"]
    assert failures, "unknown SLO metric not reported"
    text = str(failures[0].allowed)
    assert "ttft" in text and "tpot" in text and "p95" in text
