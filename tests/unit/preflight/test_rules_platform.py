"""Preflight rules of the platform core: each bad input fails naming its variable."""

from __future__ import annotations

import pytest


def test_valid_config_passes(cfg, paths):
    assert paths(cfg) == []


def test_unknown_profile(cfg, paths):
    cfg["platform_profile"] = "everything"
    assert "platform_profile" in paths(cfg)


def test_feature_that_needs_another_that_is_off(cfg, paths):
    cfg["platform_features"]["observability"] = False
    cfg["platform_features"]["autoscaling"] = True
    assert paths(cfg) == ["platform_features.autoscaling"]


def test_feature_outside_the_profile_switched_on_explicitly(cfg, paths):
    cfg["platform_profile"] = "platform"
    cfg["platform_features"]["kserve"] = True
    cfg["models"] = []
    cfg["tenants"] = []
    cfg["bench_model"] = "none"
    assert "platform_features.kserve" in paths(cfg)


def test_unknown_feature(cfg, paths):
    cfg["platform_features"]["gpu_magic"] = True
    assert any(p.startswith("platform_features") for p in paths(cfg))


def test_gpu_quota_larger_than_the_fleet(cfg, paths):
    # The lab fleet: one pool, 1 GPU per node x 2 nodes = 2 physical GPUs.
    cfg["platform_gpu_quota"] = 2
    assert paths(cfg) == []
    cfg["platform_gpu_quota"] = 3
    assert paths(cfg) == ["platform_gpu_quota"]


def test_gpu_quota_counts_every_pool(cfg, paths):
    cfg["gpu_pools"].append({"name": "gpu-big", "accelerator": "nvidia-h100", "gpus_per_node": 8, "min_nodes": 0, "max_nodes": 2})
    cfg["platform_gpu_quota"] = 18
    assert paths(cfg) == []
    cfg["platform_gpu_quota"] = 19
    assert paths(cfg) == ["platform_gpu_quota"]


def test_negative_gpu_quota(cfg, paths):
    cfg["platform_gpu_quota"] = -1
    assert "platform_gpu_quota" in paths(cfg)


def test_gpu_operator_on_gke(cfg, paths):
    cfg["substrate"] = "gke"
    cfg["gpu_stack"] = "operator"
    assert "gpu_stack" in paths(cfg)


def test_repo_url_scheme(cfg, paths):
    cfg["platform_repo_url"] = "github.com/example/llm-platform"
    assert paths(cfg) == ["platform_repo_url"]


@pytest.mark.parametrize(
    "backend,auth,missing",
    [
        ("gcpsm", "workload-identity", "secret_gcp_project_id"),
        ("vault", "token", "secret_vault_server"),
        ("kubernetes", "service-account", "secret_kubernetes_namespace"),
    ],
)
def test_secret_backend_without_its_required_field(cfg, paths, backend, auth, missing):
    cfg.update({"secret_backend": backend, "secret_store_auth": auth})
    cfg["substrate"] = "gke"
    cfg["gpu_stack"] = "gke-managed"
    cfg.update({"secret_gcp_project_id": "my-gcp-project", "secret_vault_server": "https://vault.example.com:8200"})
    cfg[missing] = ""
    assert missing in paths(cfg)


def test_secret_auth_that_does_not_fit_the_backend(cfg, paths):
    cfg["secret_store_auth"] = "workload-identity"
    assert paths(cfg) == ["secret_store_auth"]


def test_workload_identity_off_gke(cfg, paths):
    cfg.update({"secret_backend": "gcpsm", "secret_store_auth": "workload-identity", "secret_gcp_project_id": "my-gcp-project"})
    assert paths(cfg) == ["secret_store_auth"]
