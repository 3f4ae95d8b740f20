"""Session fixtures for the LiteLLM tier: a real LiteLLM 1.108.7 + PostgreSQL from the
shared offline kit (installed once into $LLM_PLATFORM_CACHE), on a free 127.0.0.1 port
with a master key made for this session; helpers to run the tenants playbook and to
read LiteLLM's database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import litellm_offline  # noqa: E402

REPO_ROOT = litellm_offline.REPO_ROOT
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="session")
def litellm():
    if not os.path.isdir(litellm_offline.kit_dir()):
        pytest.skip("LiteLLM offline kit not found at %s" % litellm_offline.kit_dir())
    proxy = litellm_offline.LiteLLM()
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def db(litellm):
    """An empty LiteLLM for the test."""
    litellm.reset_db()
    return litellm


class Run:
    def __init__(self, proc, vars_file):
        self.rc = proc.returncode
        self.out = proc.stdout + proc.stderr
        self.vars_file = vars_file
        recap = re.findall(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", self.out)
        self.ok, self.changed, self.failed = (int(x) for x in recap[-1]) if recap else (0, -1, -1)

    def __repr__(self):
        return "<Run rc=%s changed=%s failed=%s>\n%s" % (self.rc, self.changed, self.failed, self.out[-4000:])


def tenants_vars(litellm, tenants, **extra):
    data = {
        "tenants": tenants,
        "tenants_litellm_api_url": litellm.url,
        "tenants_manage_k8s": False,
        "tenants_set": "it",
        "tenants_litellm_retries": 2,
    }
    data.update(extra)
    return data


def run_playbook(litellm, tmp_path, data, *args, env=None, timeout=600):
    """ansible-playbook playbooks/tenants.yml with ``data`` as extra vars; the master key
    travels only in the environment (LITELLM_MASTER_KEY), never in a file."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    vars_file = tmp_path / ("vars-%d.json" % len(list(tmp_path.glob("vars-*.json"))))
    vars_file.write_text(json.dumps(data))
    e = dict(os.environ)
    e.update(
        ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"),
        LITELLM_MASTER_KEY=litellm.master_key,
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_FORCE_COLOR="0",
        NO_COLOR="1",
        PATH=BIN + os.pathsep + e.get("PATH", ""),
    )
    e.update(env or {})
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "playbooks/tenants.yml", "-e", "@%s" % vars_file, *args],
        cwd=REPO_ROOT,
        env=e,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc, vars_file)


def tenant(name, max_usd=10.0, window="30d", **kw):
    t = {"name": name, "models": ["qwen-local"], "budget": {"max_usd": max_usd, "window": window}}
    t.update(kw)
    return t


def rows(litellm, table, order, exclude=("updated_at", "created_at", "budget_reset_at", "spend")):
    """Rows of a LiteLLM table as dicts (volatile columns left out unless exclude=())."""
    out = litellm.psql('SELECT row_to_json(t) FROM "%s" t ORDER BY %s' % (table, order))  # noqa: S608 - fixed table names from the tests
    result = []
    for (raw,) in out:
        row = json.loads(raw)
        result.append({k: v for k, v in row.items() if k not in exclude})
    return result


def snapshot(litellm, exclude=("updated_at", "created_at", "budget_reset_at", "spend")):
    return {
        "teams": rows(litellm, "LiteLLM_TeamTable", "team_id", exclude),
        "keys": rows(litellm, "LiteLLM_VerificationToken", "token", exclude),
        "budgets": rows(litellm, "LiteLLM_BudgetTable", "budget_id", exclude),
    }
