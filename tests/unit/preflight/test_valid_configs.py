"""Realistic multi-model, multi-tenant configs (configs/, three or more per cloud) pass
preflight on their shipped inventory, in process and through ansible-playbook."""

from __future__ import annotations

import pytest
from kit import CLOUDS, NetworkGuard, build_config, config_files, run_playbook_cases, validate, write_kubeconfig

FILES = [(cloud, name) for cloud in CLOUDS for name in config_files(cloud)]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_three_or_more_per_cloud(cloud):
    assert len(config_files(cloud)) >= 3


@pytest.mark.parametrize(("cloud", "name"), FILES, ids=[n for _, n in FILES])
def test_valid_config_passes(cloud, name, tmp_path, monkeypatch):
    guard = NetworkGuard(monkeypatch)
    cfg = build_config(cloud, name, write_kubeconfig(tmp_path))
    assert len(cfg["models"]) >= 2 and len(cfg["tenants"]) >= 2, "multi-model, multi-tenant"
    assert [str(f) for f in validate(cloud, cfg)] == []
    assert guard.calls == []


@pytest.mark.parametrize("cloud", CLOUDS)
def test_valid_configs_pass_through_ansible_playbook(cloud, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path)
    cases = [(name.removesuffix(".yml"), build_config(cloud, name, kubeconfig)) for name in config_files(cloud)]
    results, out, calls = run_playbook_cases(cloud, cases, tmp_path)
    assert calls == []
    for case_id, _ in cases:
        assert results[case_id].get("failed") is not True, (case_id, out[-3000:])
        assert "Configuration valid" in results[case_id]["msg"]
