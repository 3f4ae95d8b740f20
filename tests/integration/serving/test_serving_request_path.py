"""The smoke path: a real LiteLLM configured from the GENERATED model_list proxies chat
completions to llm-d-inference-sim (standing in for gateway + vLLM); spend rises by the
per-token prices; a key over budget is refused."""

from __future__ import annotations

import time

import pytest
from servinghelpers import load_models, playbook, recap
from servingkit import MASTER_KEY

pytestmark = [pytest.mark.serving, pytest.mark.litellm, pytest.mark.slow]

PRICES = {m["name"]: m["price"] for m in load_models()}


def _wait_spend(proxy, key, at_least, timeout=45):
    deadline = time.time() + timeout
    spend = 0.0
    while time.time() < deadline:
        spend = proxy.spend(key)
        if spend >= at_least:
            return spend
        time.sleep(1)
    return spend


def test_every_generated_model_is_served(request_path):
    _, _, proxy = request_path
    status, body = proxy.call("GET", "/v1/models")
    assert status == 200
    assert sorted(m["id"] for m in body["data"]) == ["qwen-local", "qwen-oci"]  # aliases, no canary


@pytest.mark.parametrize("model", ["qwen-local", "qwen-oci"])
def test_spend_rises_by_the_per_token_prices(request_path, model):
    _, _, proxy = request_path
    key = proxy.mint(model, 1.0, "spend-" + model)
    total = 0.0
    for _ in range(3):
        status, body = proxy.chat(key, model)
        assert status == 200, body
        assert body["choices"][0]["message"]["content"]
        usage = body["usage"]
        total += usage["prompt_tokens"] * PRICES[model]["input_per_token"] + usage["completion_tokens"] * PRICES[model]["output_per_token"]
    spend = _wait_spend(proxy, key, total * 0.999)
    assert spend == pytest.approx(total, rel=1e-6)


def test_a_key_over_budget_is_refused(request_path):
    _, _, proxy = request_path
    price = PRICES["qwen-local"]
    key = proxy.mint("qwen-local", price["input_per_token"], "over-budget")  # less than one call costs
    status, body = proxy.chat(key, "qwen-local")
    assert status == 200, body
    deadline, refused = time.time() + 30, None
    while time.time() < deadline:
        status, body = proxy.chat(key, "qwen-local")
        if status != 200:
            refused = (status, body)
            break
        time.sleep(0.5)
    assert refused is not None, "the key kept being served over its budget"
    status, body = refused
    assert status in (400, 422, 429)
    assert body["error"]["type"] == "budget_exceeded"


def test_a_key_cannot_reach_other_models(request_path):
    _, _, proxy = request_path
    key = proxy.mint("qwen-local", 1.0, "scoped")
    status, body = proxy.chat(key, "qwen-oci")
    assert status in (401, 403), body


def test_serving_playbook_smoke_through_litellm(request_path):
    ns, _, proxy = request_path
    env = {"LITELLM_API_URL": proxy.url, "LITELLM_MASTER_KEY": MASTER_KEY}
    res = playbook(["-e", "model=qwen-local", "-e", "smoke=true"], env=env, netns=ns)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "qwen-local replied" in res.stdout
    assert recap(res.stdout)["changed"] == 0  # the throwaway key is deleted again
    status, body = proxy.call("GET", "/key/list?key_alias=smoke-qwen-local&return_full_object=true")
    assert status == 200 and body["keys"] == []
