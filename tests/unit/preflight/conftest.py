"""Helpers for preflight rule tests: a valid config and a way to list failing paths."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.llm.platform.plugins.plugin_utils import preflight

VALID = {
    "substrate": "lab",
    "cluster_name": "lab",
    "kubeconfig_path": "/tmp/lab/kubeconfig",
    "storage_class": "",
    "gateway_class": "lab-gateway",
    "cpu_pools": [{"name": "system", "min_nodes": 2, "max_nodes": 2}],
    "gpu_pools": [
        {"name": "gpu-l4", "accelerator": "nvidia-l4", "gpus_per_node": 1, "min_nodes": 2, "max_nodes": 2},
    ],
    "platform_profile": "llm-gateway",
    "platform_features": {"observability": True, "autoscaling": True, "gpu_quota": True, "kserve": False},
    "platform_domain": "",
    "platform_repo_url": "https://github.com/example/llm-platform.git",
    "platform_repo_revision": "main",
    "cost_tier": "dev",
    "gpu_stack": "none",
    "secret_backend": "kubernetes",
    "secret_store_auth": "service-account",
    "secret_store_name": "secret-store",
    "secret_kubernetes_namespace": "platform-secrets",
    "models": [
        {
            "name": "qwen-local",
            "served_name": "qwen2.5-0.5b-instruct",
            "source": "hf://Qwen/Qwen2.5-0.5B-Instruct",
            "engine": "vllm",
            "engine_args": ["--max-model-len=8192"],
            "gpus": 1,
            "price": {"input_per_token": 0.0000005, "output_per_token": 0.0000015},
            "max_replicas": 1,
            "storage_size": "20Gi",
        }
    ],
    "tenants": [
        {
            "name": "team-a",
            "models": ["qwen-local"],
            "budget": {"max_usd": 10.0, "window": "30d"},
            "rpm_limit": 60,
            "tpm_limit": 100000,
            "gpu_queue": {"gpus": 1},
        },
        {"name": "team-b", "models": ["qwen-local"], "budget": {"max_usd": 5.0, "window": "7d"}},
    ],
    "tenants_prune": False,
    "bench_model": "qwen-local",
    "bench_concurrencies": [1, 4],
}


def failing_paths(cfg, extra_specs=None):
    """The variable paths preflight names for ``cfg``."""
    return [f.path for f in preflight.validate(cfg, extra_specs)]


@pytest.fixture
def cfg():
    """A deep copy of a valid lab-like config to break in a test."""
    return copy.deepcopy(VALID)


@pytest.fixture
def paths():
    """``paths(cfg)`` lists the variable paths preflight names for a config."""
    return failing_paths
