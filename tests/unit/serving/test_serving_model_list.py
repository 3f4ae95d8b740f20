"""The LiteLLM model_list generator (llm.platform.litellm_model_list) and its chart twin."""

from __future__ import annotations

import copy
import os

import pytest
import yaml
from serving_render import HERE, by_kind, dump_golden, helm_binary, load_models, render_serving

from ansible_collections.llm.platform.plugins.filter import models as f

GOLDEN = os.path.join(HERE, "golden", "litellm_model_list.yml")


def test_model_list_matches_golden():
    got = f.litellm_model_list(load_models())
    if os.environ.get("UPDATE_GOLDEN"):
        dump_golden(GOLDEN, [got])
    with open(GOLDEN, encoding="utf-8") as fh:
        assert got == yaml.safe_load(fh)


def test_every_entry_goes_through_the_gateway_with_the_shared_key_and_prices():
    entries = f.litellm_model_list(load_models())
    assert [e["model_name"] for e in entries] == ["qwen-local", "qwen-oci"]  # the canary has no alias
    for e in entries:
        assert e["litellm_params"]["api_base"] == "http://inference-gateway.inference.svc.cluster.local/v1"
        assert e["litellm_params"]["api_key"] == "os.environ/UPSTREAM_API_KEY"
        assert e["model_info"]["input_cost_per_token"] > 0 and e["model_info"]["output_cost_per_token"] > 0
    assert entries[0]["litellm_params"]["model"] == "openai/qwen2.5-0.5b-instruct"


@pytest.mark.parametrize("broken", [None, {}, {"input_per_token": 0.1}, {"input_per_token": -1, "output_per_token": 1}])
def test_a_model_without_prices_is_refused_naming_the_field(broken):
    models = load_models()
    if broken is None:
        del models[0]["price"]
    else:
        models[0]["price"] = broken
    with pytest.raises(Exception, match=r"models\[0\]\.price\.(input|output)_per_token"):
        f.litellm_model_list(models)


def test_replica_floor_follows_the_cost_tier_unless_set():
    model = {"name": "m"}
    assert [f.model_replica_floor(model, t) for t in ("cost", "dev", "prod")] == [0, 1, 2]
    assert f.model_replica_floor({"name": "m", "min_replicas": 3}, "cost") == 3
    with pytest.raises(Exception, match="cost_tier"):
        f.model_replica_floor(model, "cheap")


def test_model_by_name_and_workload():
    models = load_models()
    assert f.model_workload(f.model_by_name(models, "qwen-oci"))["kind"] == "InferenceService"
    assert f.model_workload(f.model_by_name(models, "qwen-local"))["kind"] == "Deployment"
    with pytest.raises(Exception, match="not in models"):
        f.model_by_name(models, "nope")


@pytest.mark.skipif(helm_binary() is None, reason="helm not built yet (lab/build.sh)")
@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_chart_model_list_equals_the_filter(tier):
    """The litellm chart renders the same model_list as the filter (one rule, two engines)."""
    models = load_models()
    cm = by_kind(render_serving(copy.deepcopy(models), cost_tier=tier)["litellm"], "ConfigMap")[0]
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert config["model_list"] == f.litellm_model_list(models)
    for entry in config["model_list"]:  # PyYAML reads the prices as floats, not strings
        assert isinstance(entry["model_info"]["input_cost_per_token"], float)
    assert config["general_settings"]["allow_requests_on_db_unavailable"] is (tier != "prod")


@pytest.mark.skipif(helm_binary() is None, reason="helm not built yet (lab/build.sh)")
def test_chart_refuses_a_model_without_prices():
    models = load_models()
    del models[1]["price"]
    with pytest.raises(RuntimeError, match=r"models\[1\]\.price is required"):
        render_serving(models)
