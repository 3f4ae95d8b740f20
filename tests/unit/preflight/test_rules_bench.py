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


DIGEST = "ghcr.io/acme-corp/llm-platform-bench@sha256:" + "0123456789abcdef" * 4


def test_valid_job_runner_config_passes(cfg, paths):
    cfg.update(
        bench_runner="job",
        bench_job_image=DIGEST,
        bench_job_namespace="bench",
        bench_job_endpoint="http://litellm.litellm.svc:4000/v1",
        bench_job_node_selector={"cloud.google.com/gke-nodepool": "system"},
        bench_job_tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        bench_job_resources={"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"cpu": 2, "memory": "1Gi"}},
        bench_run_id="nightly-42",
    )
    assert paths(cfg) == []


def test_host_runner_ignores_the_job_image(cfg, paths):
    cfg.update(bench_runner="host", bench_job_image="")
    assert paths(cfg) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({}, "bench_job_image"),  # required: not set at all
        ({"bench_job_image": ""}, "bench_job_image"),
        ({"bench_job_image": "ghcr.io/acme-corp/bench:0.1.0"}, "bench_job_image"),  # a tag, not a digest
        ({"bench_job_image": "ghcr.io/acme-corp/bench@sha256:abc"}, "bench_job_image"),  # short digest
        ({"bench_job_image": "ghcr.io/acme-corp/bench@sha256:" + "0123456789ABCDEF" * 4}, "bench_job_image"),
        ({"bench_job_image": DIGEST, "bench_job_namespace": "Bench_NS"}, "bench_job_namespace"),
        ({"bench_job_image": DIGEST, "bench_job_endpoint": "litellm:4000/v1"}, "bench_job_endpoint"),
        ({"bench_job_image": DIGEST, "bench_job_endpoint": ""}, "bench_job_endpoint"),
        ({"bench_job_image": DIGEST, "bench_job_prometheus_url": "prometheus:9090"}, "bench_job_prometheus_url"),
        ({"bench_job_image": DIGEST, "bench_run_id": "Run_1"}, "bench_run_id"),
        ({"bench_job_image": DIGEST, "bench_run_id": "r" * 51}, "bench_run_id"),
        ({"bench_job_image": DIGEST, "bench_job_node_selector": {"pool": 3}}, "bench_job_node_selector.pool"),
        ({"bench_job_image": DIGEST, "bench_job_tolerations": [{"key": "k", "operator": "In"}]}, "bench_job_tolerations[0].operator"),
        ({"bench_job_image": DIGEST, "bench_job_resources": {"request": {"cpu": "1"}}}, "bench_job_resources.request"),
        ({"bench_job_image": DIGEST, "bench_job_resources": {"limits": {"memory": "1GB"}}}, "bench_job_resources.limits.memory"),
        ({"bench_job_image": DIGEST, "bench_runner": "pod"}, "bench_runner"),
    ],
)
def test_bad_job_runner_input_names_the_variable(cfg, paths, change, path):
    cfg.update(dict({"bench_runner": "job"}, **change))
    assert path in paths(cfg)


def test_job_image_message_says_digest(cfg):
    from ansible_collections.llm.platform.plugins.plugin_utils import preflight

    cfg.update(bench_runner="job", bench_job_image="bench:latest")
    (failure,) = [f for f in preflight.validate(cfg) if f.path == "bench_job_image"]
    assert "@sha256:<64 hex>" in failure.allowed and "bench_runner is job" in failure.allowed


def test_job_runner_with_only_the_image_set_passes(cfg, paths):
    """Preflight sees only what the inventory or -e sets; the role's defaults fill the rest."""
    cfg.update(bench_runner="job", bench_job_image=DIGEST)
    assert paths(cfg) == []


def test_job_image_from_a_documentation_host_off_the_lab(cfg, paths, tmp_path):
    """Off the lab a cluster pulls the image: a reserved example host cannot work (the lab's kwok pulls nothing)."""
    image = "registry.example.com/bench@sha256:" + "0123456789abcdef" * 4
    cfg.update(bench_runner="job", bench_job_image=image)
    assert paths(cfg) == []
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    cfg.update(substrate="byo", gateway_class="agentgateway", kubeconfig_path=str(kubeconfig))
    assert paths(cfg) == ["bench_job_image"]
