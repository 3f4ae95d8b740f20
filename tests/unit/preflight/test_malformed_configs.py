"""Realistic mistakes on every inventory (cases.py), each on top of a valid config of its cloud:
preflight names exactly the one variable, prints no secret, and contacts nothing.

In process, every socket connect and name lookup is refused and recorded; through
ansible-playbook (one run per inventory, a play per case, the real action plugin over the real
inventory) every Python process records its socket use, and the run has no network at all
when root (unshare --net). The byo kubeconfig points at https://127.0.0.1:9, where nothing
answers: preflight must not even try it."""

from __future__ import annotations

import collections

import pytest
from cases import BASE, CASES, KINDS
from kit import CLOUDS, NetworkGuard, apply, build_config, run_playbook_cases, validate, write_kubeconfig

IDS = [repr(c) for c in CASES]


@pytest.fixture
def guard(monkeypatch):
    return NetworkGuard(monkeypatch)


def case_config(case, kubeconfig):
    return apply(build_config(case.cloud, BASE[case.cloud], kubeconfig), case.patch)


def test_enough_cases_of_every_kind_on_every_inventory():
    per_cloud = collections.Counter(c.cloud for c in CASES)
    assert len(CASES) >= 40 and set(per_cloud) == set(CLOUDS), per_cloud
    assert {c.kind for c in CASES} == set(KINDS)
    assert len({repr(c) for c in CASES}) == len(CASES), "case ids are unique per cloud"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_base_configs_are_valid(cloud, tmp_path, guard):
    failures = validate(cloud, build_config(cloud, BASE[cloud], write_kubeconfig(tmp_path)))
    assert [str(f) for f in failures] == []
    assert guard.calls == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_mistake_is_named_exactly_and_nothing_is_contacted(case, tmp_path, guard):
    failures = validate(case.cloud, case_config(case, write_kubeconfig(tmp_path)), case.context)
    assert [f.path for f in failures] == [case.expected], "\n".join(map(str, failures))
    text = "\n".join(map(str, failures))
    if case.secret:
        assert case.secret not in text
    assert guard.calls == [], guard.calls


@pytest.mark.parametrize("cloud", CLOUDS)
def test_through_ansible_playbook_on_the_inventory(cloud, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path)
    cases = [c for c in CASES if c.cloud == cloud and c.e2e]
    results, out, calls = run_playbook_cases(cloud, [(c.id, case_config(c, kubeconfig)) for c in cases], tmp_path)
    assert calls == [], "network used during preflight:\n" + "\n".join(calls)
    for case in cases:
        assert case.id in results, "no result for %s:\n%s" % (case.id, out[-4000:])
        result = results[case.id]
        assert result.get("failed") is True, (case.id, result)
        assert result["failed_variables"] == [case.expected], (case.id, result)
        assert out.count("- %s: got" % case.expected) >= 1
        if case.secret:
            assert case.secret not in out and case.secret not in str(result)
    assert "TASK [write them]" in out
