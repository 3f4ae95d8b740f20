"""The modules end to end in-process: argument spec, single and batch forms, check mode,
diff, failures, and that neither the master key nor a raw key leaks where it must not."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.llm.platform.plugins.module_utils._litellm import LiteLLMClient
from ansible_collections.llm.platform.plugins.modules import litellm_budget, litellm_info, litellm_key, litellm_model, litellm_team


def run(mod, args, fake, monkeypatch, capsys, check=False, diff=False):
    monkeypatch.setattr(LiteLLMClient, "_send", lambda self, *a: fake.send(*a))
    monkeypatch.setattr(LiteLLMClient, "_wait", lambda self, attempt: None)
    args = dict(args, api_key=fake.master_key, api_url="http://127.0.0.1:4000", _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        mod.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def test_team_module_single_form_with_diff(fake, monkeypatch, capsys):
    rc, res, out = run(litellm_team, {"name": "acme", "models": ["m"], "max_budget": 3}, fake, monkeypatch, capsys, diff=True)
    assert rc == 0 and res["changed"] and res["team_id"] == "acme"
    assert res["diff"]["after"]["max_budget"] == 3.0
    assert fake.master_key not in out
    rc, res, _ = run(litellm_team, {"name": "acme", "models": ["m"], "max_budget": 3}, fake, monkeypatch, capsys)
    assert res["changed"] is False


def test_team_module_batch_and_check_mode(fake, monkeypatch, capsys):
    batch = [{"name": "a", "max_budget": 1.0}, {"name": "b", "max_budget": 2.0}]
    _rc, res, _ = run(litellm_team, {"batch": batch}, fake, monkeypatch, capsys, check=True, diff=True)
    assert res["changed"] and len(res["objects"]) == 2 and len(res["diff"]) == 2 and fake.teams == {}
    run(litellm_team, {"batch": batch}, fake, monkeypatch, capsys)
    assert sorted(fake.teams) == ["a", "b"]


def test_module_failure_names_the_call(fake, monkeypatch, capsys):
    fake.faults = [500] * 4
    rc, res, _ = run(litellm_budget, {"budget_id": "x", "max_budget": 1.0}, fake, monkeypatch, capsys)
    assert rc == 1 and res["failed"]
    assert res["msg"].startswith("LiteLLM API POST /budget/info failed: HTTP 500 server error (after 4 attempts)")
    assert res["failure"]["status"] == 500


def test_wrong_master_key_is_explained(fake, monkeypatch, capsys):
    fake.master_key = "sk-other"
    monkeypatch.setattr(LiteLLMClient, "_send", lambda self, *a: fake.send(*a))
    args = {"name": "a", "api_key": "sk-wrong", "api_url": "http://127.0.0.1:4000"}
    with patch_module_args(args), pytest.raises(SystemExit):
        litellm_team.main()
    res = json.loads(capsys.readouterr().out)
    assert "authentication failed" in res["msg"]


def test_key_module_returns_raw_key_once_and_info_hides_it(fake, monkeypatch, capsys):
    _rc, res, _ = run(litellm_key, {"key_alias": "a-default", "team_id": "a"}, fake, monkeypatch, capsys)
    raw = res["key"]
    assert raw.startswith("sk-")
    _rc, res, out = run(litellm_key, {"key_alias": "a-default", "team_id": "a"}, fake, monkeypatch, capsys)
    assert raw not in out and "key" not in res
    _rc, res, out = run(litellm_info, {"gather": ["keys", "teams"]}, fake, monkeypatch, capsys)
    token = next(iter(fake.keys))
    assert raw not in out and token not in out
    assert res["keys"][0]["key_alias"] == "a-default" and res["keys"][0]["fingerprint"]


def test_api_key_falls_back_to_environment(fake, monkeypatch, capsys):
    monkeypatch.setenv("LITELLM_MASTER_KEY", fake.master_key)
    monkeypatch.setattr(LiteLLMClient, "_send", lambda self, *a: fake.send(*a))
    with patch_module_args({"gather": ["teams"]}), pytest.raises(SystemExit):
        litellm_info.main()
    assert json.loads(capsys.readouterr().out)["teams"] == []


@pytest.mark.parametrize(
    ("mod", "item", "message"),
    [
        (litellm_key, {"team_id": "a"}, "each key needs a key_alias"),
        (litellm_budget, {"max_budget": 1.0}, "each budget needs a budget_id"),
        (litellm_model, {"model_name": "m"}, "each model needs a model_id"),
    ],
)
def test_batch_item_without_id_fails_cleanly(fake, monkeypatch, capsys, mod, item, message):
    rc, res, _ = run(mod, {"batch": [item]}, fake, monkeypatch, capsys)
    assert rc == 1 and message in res["msg"]


@pytest.mark.parametrize(
    ("mod", "items", "per_object"),
    [
        (litellm_team, [{"name": "t%d" % i, "max_budget": 1.0} for i in range(6)], "/team/info"),
        (litellm_budget, [{"budget_id": "b%d" % i, "max_budget": 1.0} for i in range(6)], "/budget/info"),
        (litellm_key, [{"key_alias": "k%d" % i, "team_id": "t", "max_budget": 1.0} for i in range(6)], "/key/list"),
    ],
)
def test_large_batches_read_one_listing_instead_of_a_get_each(fake, monkeypatch, capsys, mod, items, per_object):
    _, res, _ = run(mod, {"batch": items}, fake, monkeypatch, capsys)
    assert res["changed"] and len(res["objects"]) == 6
    fake.calls.clear()
    _, res, _ = run(mod, {"batch": items}, fake, monkeypatch, capsys)
    assert res["changed"] is False
    assert len(fake.calls) <= 2 and fake.writes() == [], fake.calls
    items[3] = dict(items[3], max_budget=9.0)
    _, res, _ = run(mod, {"batch": items}, fake, monkeypatch, capsys)
    assert [o["action"] for o in res["objects"]].count("update") == 1
