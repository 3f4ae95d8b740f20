"""Against a real LiteLLM 1.108.7 + PostgreSQL: a play that gives the connection once, as
module_defaults for the action group llm.platform.litellm, converges a tenant; and the tenants
playbook, with no LITELLM_MASTER_KEY anywhere, reads the master key from the secret backend the
platform seeded - Vault KV v2 and Secret Manager (test servers of their REST APIs, Secret Manager
through Application Default Credentials) - and never shows it, nor the backend's credential, at
-vvv. With the lab, test_master_key_lab.py covers the kubernetes backend."""

from __future__ import annotations

import os
import sys

import pytest
from conftest import REPO_ROOT, rows, tenant, tenants_vars
from masterkit import play

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration", "substrates"))

from fakegcp import FakeGcp
from fakevault import FakeVault
from substratekit import make_adc

pytestmark = pytest.mark.litellm


def teams(db, prefix):
    return sorted(r["team_id"] for r in rows(db, "LiteLLM_TeamTable", "team_id") if r["team_id"].startswith(prefix))


def test_a_play_with_module_defaults_for_the_litellm_group_converges_a_tenant(db, tmp_path):
    book = os.path.join(REPO_ROOT, "tests", "integration", "litellm", "playbooks", "group_defaults.yml")
    data = {"litellm_url": db.url, "tenant": "it-grp"}
    # The master key comes only from the group's defaults (IT_LITELLM_ADMIN_KEY), not from the
    # modules' own LITELLM_MASTER_KEY fallback, which play() removes.
    first = play(tmp_path, book, data, "-vvv", env={"IT_LITELLM_ADMIN_KEY": db.master_key})
    assert first.rc == 0 and first.changed == 3, first
    team = {r["team_id"]: r for r in rows(db, "LiteLLM_TeamTable", "team_id")}["it-grp"]
    assert team["models"] == ["qwen-local"] and team["max_budget"] == 5.0
    budget = {r["budget_id"]: r for r in rows(db, "LiteLLM_BudgetTable", "budget_id")}["it-grp"]
    assert budget["max_budget"] == 5.0 and budget["budget_duration"] == "30d"
    keys = {r["key_alias"]: r for r in rows(db, "LiteLLM_VerificationToken", "token")}
    assert keys["it-grp-default"]["team_id"] == "it-grp"
    assert db.master_key not in first.out
    rerun = play(tmp_path, book, data, env={"IT_LITELLM_ADMIN_KEY": db.master_key})
    assert rerun.rc == 0 and rerun.changed == 0, rerun
    # Without the group's api_key every module fails the same way: the defaults were what connected.
    bare = play(tmp_path, book, data, env={"IT_LITELLM_ADMIN_KEY": "sk-not-the-master-key"})
    assert bare.rc != 0 and "401" in bare.out, bare


def test_tenants_read_the_master_key_from_vault(db, tmp_path):
    token = "hvs.it-" + os.urandom(6).hex()
    vault = FakeVault(token).start()
    try:
        vault.kv["litellm-master-key"] = [{"value": db.master_key}]
        backend = {"secret_backend": "vault", "secret_store_auth": "token", "secret_vault_server": vault.url, "secret_vault_path": "secret"}
        data = dict(tenants_vars(db, [tenant("it-mk-vault")]), **backend)
        run = play(tmp_path, "playbooks/tenants.yml", data, "-vvv", env={"VAULT_TOKEN": token})
        assert run.rc == 0, run
        assert teams(db, "it-mk-vault") == ["it-mk-vault"]
        assert ("GET", "/v1/secret/data/litellm-master-key", 200) in vault.log
        assert db.master_key not in run.out and token not in run.out

        # A token Vault refuses: the run stops before LiteLLM is touched, says where it looked, shows no secret.
        denied = play(tmp_path, "playbooks/tenants.yml", dict(data, tenants=[tenant("it-mk-denied")]), env={"VAULT_TOKEN": "hvs.wrong"})
        assert denied.rc != 0 and "the vault backend has no value litellm-master-key" in denied.out and "HTTP 403" in denied.out, denied
        assert teams(db, "it-mk-denied") == [] and "hvs.wrong" not in denied.out and db.master_key not in denied.out

        # LITELLM_MASTER_KEY stays an explicit override: the backend is not even asked.
        mark = len(vault.log)
        override = play(
            tmp_path,
            "playbooks/tenants.yml",
            dict(data, tenants=[tenant("it-mk-override")]),
            env={"LITELLM_MASTER_KEY": db.master_key, "VAULT_TOKEN": "hvs.wrong"},
        )
        assert override.rc == 0 and teams(db, "it-mk-override") == ["it-mk-override"], override
        assert vault.log[mark:] == []
    finally:
        vault.stop()


def test_tenants_read_the_master_key_from_secret_manager_with_adc(db, tmp_path):
    fake = FakeGcp(op_polls=0).start()
    try:
        fake.secrets[("proj-1", "litellm-master-key")] = {"name": "projects/123456789012/secrets/litellm-master-key"}
        fake.versions[("proj-1", "litellm-master-key")] = [db.master_key.encode()]
        adc = make_adc(fake, tmp_path / "sa.json")
        backend = {
            "secret_backend": "gcpsm",
            "secret_store_auth": "sa-key",
            "secret_gcp_project_id": "proj-1",
            "tenants_master_key_gcp_api_endpoint": fake.endpoint,
        }
        data = dict(tenants_vars(db, [tenant("it-mk-gcp")]), **backend)
        run = play(tmp_path, "playbooks/tenants.yml", data, "-vvv", env={"GOOGLE_APPLICATION_CREDENTIALS": adc})
        assert run.rc == 0, run
        assert teams(db, "it-mk-gcp") == ["it-mk-gcp"]
        reads = [p for (m, s, p, _b, st) in fake.log if s == "secretmanager" and st == 200]
        assert reads == ["/v1/projects/proj-1/secrets/litellm-master-key/versions/latest:access"]
        out = run.out
        assert db.master_key not in out and not any(t in out for t in fake.tokens)

        # No version of the key yet (never seeded): the message says where, and to run the secrets playbook.
        fake.versions[("proj-1", "litellm-master-key")] = []
        missing = play(
            tmp_path, "playbooks/tenants.yml", dict(data, tenants=[tenant("it-mk-none")]), env={"GOOGLE_APPLICATION_CREDENTIALS": adc}
        )
        assert missing.rc != 0 and "secret litellm-master-key of project proj-1 has no readable version" in missing.out, missing
        assert teams(db, "it-mk-none") == []
    finally:
        fake.stop()
