"""Preflight rules for the tenants list: each bad input fails naming the exact variable."""

from __future__ import annotations

import pytest


def test_valid_tenants_pass(cfg, paths):
    assert paths(cfg) == []


def test_negative_budget(cfg, paths):
    cfg["tenants"][1]["budget"]["max_usd"] = -1.0
    assert paths(cfg) == ["tenants[1].budget.max_usd"]


def test_unknown_model(cfg, paths):
    cfg["tenants"][0]["models"] = ["qwen-local", "gpt-nope"]
    assert paths(cfg) == ["tenants[0].models[1]"]


def test_duplicate_tenant_names(cfg, paths):
    cfg["tenants"][1]["name"] = "team-a"
    assert paths(cfg) == ["tenants[1].name"]


@pytest.mark.parametrize("window", ["30x", "0d", "d", "30 d", "1w"])
def test_malformed_budget_window(cfg, paths, window):
    cfg["tenants"][0]["budget"]["window"] = window
    assert paths(cfg) == ["tenants[0].budget.window"]


@pytest.mark.parametrize("name", ["Team_A", "team.a", "-team", "team-", "a" * 41, "kube-system", "default"])
def test_tenant_name_not_dns_safe(cfg, paths, name):
    cfg["tenants"][0]["name"] = name
    assert paths(cfg) == ["tenants[0].name"]


def test_all_problems_reported_together(cfg, paths):
    cfg["tenants"][0]["budget"]["max_usd"] = -5
    cfg["tenants"][0]["budget"]["window"] = "30x"
    cfg["tenants"][1]["name"] = "Bad_Name"
    cfg["tenants"][1]["models"] = ["nope"]
    assert sorted(paths(cfg)) == ["tenants[0].budget.max_usd", "tenants[0].budget.window", "tenants[1].models[0]", "tenants[1].name"]


def test_limits_and_gpu_queue(cfg, paths):
    cfg["tenants"][0]["rpm_limit"] = 0
    cfg["tenants"][0]["gpu_queue"]["gpus"] = 99
    assert sorted(paths(cfg)) == ["tenants[0].gpu_queue.gpus", "tenants[0].rpm_limit"]


def test_keys_rules(cfg, paths):
    cfg["tenants"][0]["keys"] = [
        {"name": "default"},
        {"name": "default"},
        {"name": "CI", "models": ["other"], "max_usd": -1},
    ]
    assert sorted(paths(cfg)) == [
        "tenants[0].keys[1].name",
        "tenants[0].keys[2].max_usd",
        "tenants[0].keys[2].models[0]",
        "tenants[0].keys[2].name",
    ]
