"""Preflight rules for the models list: each bad input fails naming its field."""

from __future__ import annotations

import copy

import pytest

KSERVE = {
    "name": "qwen-oci",
    "served_name": "qwen2.5-0.5b-oci",
    "source": "oci://ghcr.io/example/qwen@sha256:" + "a" * 64,
    "engine": "kserve",
    "storage": "oci",
    "gpus": 1,
    "min_replicas": 0,
    "price": {"input_per_token": 0.0000002, "output_per_token": 0.0000004},
}
CANARY = {
    "name": "qwen-canary",
    "served_name": "qwen-canary",
    "source": "hf://Qwen/Qwen2.5-0.5B-Instruct",
    "gpus": 1,
    "price": {"input_per_token": 0.0000005, "output_per_token": 0.0000015},
    "canary_of": "qwen-local",
    "canary_weight": 10,
    "min_replicas": 0,
}


@pytest.fixture
def three(cfg):
    cfg["platform_features"]["kserve"] = True
    cfg["models"] += [copy.deepcopy(KSERVE), copy.deepcopy(CANARY)]
    return cfg


def test_three_models_one_kserve_one_canary_pass(three, paths):
    assert paths(three) == []


def test_model_without_prices(three, paths):
    del three["models"][1]["price"]
    assert "models[1].price" in paths(three)


def test_model_with_half_a_price(three, paths):
    del three["models"][0]["price"]["output_per_token"]
    assert "models[0].price.output_per_token" in paths(three)


@pytest.mark.parametrize("name", ["Qwen/Qwen2.5", "qwen_local", "UPPER", "-dash", "a" * 254])
def test_served_name_not_dns_safe(three, paths, name):
    three["models"][2]["served_name"] = name
    assert "models[2].served_name" in paths(three)


def test_more_gpus_per_replica_than_any_pool_node(three, paths):
    three["gpu_pools"].append({"name": "gpu-big", "accelerator": "nvidia-l4", "gpus_per_node": 4, "min_nodes": 0, "max_nodes": 1})
    three["models"][0]["gpus"] = 4
    assert paths(three) == []
    three["models"][0]["gpus"] = 8
    assert paths(three) == ["models[0].gpus"]


def test_kserve_model_without_storage(three, paths):
    del three["models"][1]["storage"]
    assert "models[1].storage" in paths(three)


def test_kserve_model_with_kserve_off_is_named_once(three):
    from ansible_collections.llm.platform.plugins.plugin_utils import preflight

    three["platform_features"]["kserve"] = False
    (failure,) = preflight.validate(three)
    assert failure.path == "platform_features.kserve"
    assert "models[1] (qwen-oci)" in failure.allowed


def test_oci_source_needs_kserve(three, paths):
    three["models"][0]["source"] = KSERVE["source"]
    assert "models[0].source" in paths(three)


def test_duplicate_served_name(three, paths):
    three["models"][2]["served_name"] = three["models"][0]["served_name"]
    assert "models[2].served_name" in paths(three)


def test_canary_of_unknown_or_weight_out_of_range(three, paths):
    three["models"][2]["canary_of"] = "nope"
    assert "models[2].canary_of" in paths(three)
    three["models"][2]["canary_of"] = "qwen-local"
    three["models"][2]["canary_weight"] = 100
    assert "models[2].canary_weight" in paths(three)


def test_canaries_may_not_take_all_traffic(three, paths):
    second = copy.deepcopy(CANARY) | {"name": "qwen-canary-2", "served_name": "qwen-canary-2", "canary_weight": 95}
    three["models"].append(second)
    assert "models[3].canary_weight" in paths(three)


def test_canary_of_a_canary(three, paths):
    chained = copy.deepcopy(CANARY) | {"name": "qwen-canary-2", "served_name": "qwen-canary-2", "canary_of": "qwen-canary"}
    three["models"].append(chained)
    assert "models[3].canary_of" in paths(three)
