"""What the tenants role configures is enforced by the real proxy on /v1: a key over its
budget is refused, a model outside the tenant's list is refused, the rpm limit holds.
Backend: the kit's fake_openai.py (each call costs $0.05 with the test config)."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import BIN, REPO_ROOT, run_playbook, tenant, tenants_vars

pytestmark = pytest.mark.litellm

BUDGET_TYPES = {"budget_exceeded"}
MODEL_TYPES = {"key_model_access_denied", "team_model_access_denied"}


def tenant_key(litellm, tmp_path, alias, team):
    """A fresh raw key for a role-made key alias (rotated with the module, grace 0)."""
    out = tmp_path / ("%s.key" % alias)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), LITELLM_MASTER_KEY=litellm.master_key)
    proc = subprocess.run(
        [
            os.path.join(BIN, "ansible-playbook"),
            "tests/integration/litellm/playbooks/rotate_key.yml",
            "-e",
            "url=%s alias=%s team=%s out=%s" % (litellm.url, alias, team, out),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    raw = out.read_text()
    out.unlink()
    return raw


def chat(litellm, key, model="qwen-local"):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
    status, data = litellm.api("POST", "/v1/chat/completions", body, key=key)
    etype = (data.get("error") or {}).get("type") if isinstance(data, dict) else None
    return status, etype


@pytest.fixture(scope="module")
def onboarded(litellm, tmp_path_factory):
    litellm.reset_db()
    tmp = tmp_path_factory.mktemp("enforce")
    tenants = [
        tenant("it-budget", 0.1, "30d"),  # two calls' worth
        tenant("it-keybudget", 100.0, "30d", keys=[{"name": "default", "max_usd": 0.04}]),  # one call's worth
        tenant("it-rotate", 100.0, "30d"),
        tenant("it-rpm", 100.0, "30d", rpm_limit=2),
    ]
    run = run_playbook(litellm, tmp, tenants_vars(litellm, tenants))
    assert run.rc == 0, run
    return tmp


def test_team_over_budget_is_refused(litellm, onboarded):
    key = tenant_key(litellm, onboarded, "it-budget-default", "it-budget")
    results = [chat(litellm, key) for _ in range(8)]
    assert results[0] == (200, None)
    refused = [r for r in results if r[0] != 200]
    assert refused, results
    status, etype = refused[0]
    assert status in (400, 422, 429) and etype in BUDGET_TYPES, results
    assert all(r[0] != 200 for r in results[results.index(refused[0]) :])  # stays refused


def test_key_over_its_own_budget_is_refused(litellm, onboarded):
    key = tenant_key(litellm, onboarded, "it-keybudget-default", "it-keybudget")
    results = [chat(litellm, key) for _ in range(5)]
    assert results[0] == (200, None), results
    refused = [r for r in results if r[0] != 200]
    assert refused and refused[0][0] in (400, 422, 429) and refused[0][1] in BUDGET_TYPES, results


def test_model_outside_the_list_is_refused(litellm, onboarded):
    key = tenant_key(litellm, onboarded, "it-keybudget-default", "it-keybudget")
    status, etype = chat(litellm, key, model="other-model")
    assert status in (401, 403) and etype in MODEL_TYPES, (status, etype)


def test_rpm_limit_is_enforced(litellm, onboarded):
    key = tenant_key(litellm, onboarded, "it-rpm-default", "it-rpm")
    results = [chat(litellm, key) for _ in range(4)]
    assert results[0] == (200, None) and results[1] == (200, None), results
    assert (429, "throttling_error") in results[2:], results


def test_rotated_key_replaces_the_old_one(litellm, onboarded):
    old = tenant_key(litellm, onboarded, "it-rotate-default", "it-rotate")
    assert chat(litellm, old) == (200, None)
    new = tenant_key(litellm, onboarded, "it-rotate-default", "it-rotate")
    assert old != new
    assert chat(litellm, new) == (200, None)
    status, etype = chat(litellm, old)  # grace 0: the old key was deleted
    assert status == 401, (status, etype)
