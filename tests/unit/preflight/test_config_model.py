"""Preflight rejects malformed configs and names the exact variable."""

from __future__ import annotations

import pytest

from ansible_collections.llm.platform.plugins.plugin_utils import preflight


def _set(cfg, path, value):
    """Set cfg[a][0][b] = value for a path such as 'models.0.price.input_per_token'."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = cfg
    for key in keys[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value


_DELETE = object()

# (what is broken, the value, the exact variable preflight must name)
MALFORMED = [
    ("substrate", "aws", "substrate"),
    ("substrate", _DELETE, "substrate"),
    ("platform_profile", "everything", "platform_profile"),
    ("cost_tier", "cheap", "cost_tier"),
    ("gpu_stack", "cuda", "gpu_stack"),
    ("tenants_prune", "false", "tenants_prune"),
    ("platform_features.autoscaling", "yes", "platform_features.autoscaling"),
    ("platform_features.autoscalling", True, "platform_features.autoscalling"),
    ("cluster_name", "Lab_Cluster", "cluster_name"),
    ("models.0.price", _DELETE, "models[0].price"),
    ("models.0.price.input_per_token", -0.1, "models[0].price.input_per_token"),
    ("models.0.price.output_per_token", "cheap", "models[0].price.output_per_token"),
    ("models.0.served_name", "Qwen/Qwen2.5", "models[0].served_name"),
    ("models.0.name", "Qwen_Local", "models[0].name"),
    ("models.0.engine", "tgi", "models[0].engine"),
    ("models.0.gpus", 4, "models[0].gpus"),
    ("models.0.source", "s3://bucket/model", "models[0].source"),
    ("models.0.storage_size", "20 gigs", "models[0].storage_size"),
    ("tenants.0.budget.max_usd", -5, "tenants[0].budget.max_usd"),
    ("tenants.0.budget.window", "30x", "tenants[0].budget.window"),
    ("tenants.0.models.0", "gpt-5", "tenants[0].models[0]"),
    ("tenants.1.name", "team-a", "tenants[1].name"),
    ("tenants.1.name", "Team B", "tenants[1].name"),
    ("tenants.0.rpm_limit", 0, "tenants[0].rpm_limit"),
    ("tenants.0.gpu_queue.gpus", 64, "tenants[0].gpu_queue.gpus"),
    ("gpu_pools.0.min_nodes", 3, "gpu_pools[0].max_nodes"),
    ("gpu_pools.0.gpus_per_node", 0, "gpu_pools[0].gpus_per_node"),
    ("cpu_pools.0.name", "gpu-l4", "gpu_pools[0].name"),  # the later duplicate is named
    ("secret_backend", "gcpsm", "secret_store_auth"),
    ("secret_kubernetes_namespace", "", "secret_kubernetes_namespace"),
    ("platform_repo_url", "github.com/example/repo", "platform_repo_url"),
    ("platform_features.kserve", "true", "platform_features.kserve"),
]


@pytest.mark.parametrize(("field", "value", "expected"), MALFORMED, ids=[f"{m[0]}={m[1]!r}" for m in MALFORMED])
def test_malformed_config_names_the_variable(cfg, paths, field, value, expected):
    _set(cfg, field, value)
    found = paths(cfg)
    assert expected in found, f"preflight named {found}, expected {expected}"


def test_valid_config_passes(cfg, paths):
    assert paths(cfg) == []


def test_all_failures_are_reported_together(cfg, paths):
    cfg["cost_tier"] = "cheap"
    cfg["tenants"][0]["budget"]["window"] = "30x"
    cfg["models"][0]["price"]["input_per_token"] = -1.0
    assert {"cost_tier", "tenants[0].budget.window", "models[0].price.input_per_token"} <= set(paths(cfg))


def test_message_names_value_and_what_is_allowed(cfg):
    cfg["tenants"][0]["budget"]["window"] = "30x"
    (failure,) = preflight.validate(cfg)
    assert failure.path == "tenants[0].budget.window"
    assert "'30x'" in str(failure)
    assert "30d" in failure.allowed


def test_type_failure_is_not_reported_twice(cfg, paths):
    cfg["tenants"][0]["budget"]["max_usd"] = "lots"
    assert paths(cfg) == ["tenants[0].budget.max_usd"]


def test_feature_needing_a_wider_profile(cfg, paths):
    cfg["platform_profile"] = "platform"
    cfg["platform_features"]["kserve"] = True
    assert "platform_features.kserve" in paths(cfg)


def test_feature_needing_another_feature(cfg, paths):
    cfg["platform_features"]["observability"] = False
    assert "platform_features.autoscaling" in paths(cfg)


def test_bool_given_as_string_on_the_command_line(cfg, paths):
    cfg["platform_features"]["gpu_quota"] = "false"
    assert paths(cfg) == ["platform_features.gpu_quota"]


def test_extra_role_spec_is_validated(cfg, paths):
    spec = {"substrate_gke_project_id": {"type": "str", "required": True}}
    assert paths(cfg, {"substrate_gke": spec}) == ["substrate_gke_project_id"]
