"""The tenants playbook against a real LiteLLM 1.108.7 + PostgreSQL: create, rerun with
changed=0, a budget change that touches only that field, check mode that leaves the
database byte-for-byte unchanged, orphans reported without prune and offboarded with it.
Every assertion reads LiteLLM's database or API, not only the playbook's output."""

from __future__ import annotations

import pytest
from conftest import rows, run_playbook, snapshot, tenant, tenants_vars

pytestmark = pytest.mark.litellm


def _ids(litellm, sql):
    return sorted(r[0] for r in litellm.psql(sql))


def test_create_rerun_and_budget_change(db, tmp_path):
    tenants = [
        tenant("it-acme", 10.0, "30d", rpm_limit=60, tpm_limit=100000, keys=[{"name": "default"}, {"name": "ci", "max_usd": 1.0}]),
        tenant("it-beta", 5.0, "7d"),
    ]
    run = run_playbook(db, tmp_path, tenants_vars(db, tenants))
    assert run.rc == 0, run
    assert run.changed == 3  # budgets, teams, keys (one batch task each)

    teams = {t["team_id"]: t for t in rows(db, "LiteLLM_TeamTable", "team_id")}
    assert sorted(teams) == ["it-acme", "it-beta"]
    assert teams["it-acme"]["max_budget"] == 10.0 and teams["it-acme"]["budget_duration"] == "30d"
    assert teams["it-acme"]["rpm_limit"] == 60 and teams["it-acme"]["tpm_limit"] == 100000
    assert teams["it-acme"]["models"] == ["qwen-local"]
    assert teams["it-acme"]["metadata"] == {"tenant": "it-acme", "tenant_set": "it", "managed_by": "llm-platform"}
    budgets = {b["budget_id"]: b for b in rows(db, "LiteLLM_BudgetTable", "budget_id")}
    assert budgets["it-beta"]["max_budget"] == 5.0 and budgets["it-beta"]["budget_duration"] == "7d"
    keys = {k["key_alias"]: k for k in rows(db, "LiteLLM_VerificationToken", "token")}
    assert sorted(keys) == ["it-acme-ci", "it-acme-default", "it-beta-default"]
    assert keys["it-acme-ci"]["max_budget"] == 1.0 and keys["it-acme-ci"]["team_id"] == "it-acme"
    assert keys["it-acme-default"]["max_budget"] is None

    # The API agrees with the database.
    status, info = db.api("GET", "/team/info?team_id=it-beta")
    assert status == 200 and info["team_info"]["max_budget"] == 5.0

    before = snapshot(db, exclude=())
    rerun = run_playbook(db, tmp_path, tenants_vars(db, tenants))
    assert rerun.rc == 0 and rerun.changed == 0, rerun
    assert snapshot(db, exclude=()) == before  # not even updated_at moved

    tenants[1]["budget"]["max_usd"] = 7.5
    change = run_playbook(db, tmp_path, tenants_vars(db, tenants), "--diff")
    assert change.rc == 0 and change.changed == 2, change  # the budget row and the team
    assert "-    max_budget: 5.0\n+    max_budget: 7.5" in change.out
    after = snapshot(db)
    old = snapshot_without_volatile(before)
    for kind in ("teams", "budgets", "keys"):
        for b_row, a_row in zip(old[kind], after[kind], strict=True):
            diff = {k for k in set(b_row) | set(a_row) if b_row.get(k) != a_row.get(k)}
            is_beta = "it-beta" in (a_row.get("team_id"), a_row.get("budget_id")) and kind != "keys"
            assert diff == ({"max_budget"} if is_beta else set()), (kind, a_row.get("team_id") or a_row.get("budget_id"), diff)
    assert run_playbook(db, tmp_path, tenants_vars(db, tenants)).changed == 0


def snapshot_without_volatile(snap):
    drop = ("updated_at", "created_at", "budget_reset_at", "spend")
    return {k: [{c: v for c, v in r.items() if c not in drop} for r in v] for k, v in snap.items()}


def test_check_mode_leaves_the_database_unchanged(db, tmp_path):
    tenants = [tenant("it-chk-a"), tenant("it-chk-b", 5.0, "7d")]
    assert run_playbook(db, tmp_path, tenants_vars(db, tenants)).rc == 0
    before = snapshot(db, exclude=())
    assert before["teams"] and before["keys"] and before["budgets"]

    # Change a budget, add a tenant, drop one with prune: all of it only previewed.
    changed = [tenant("it-chk-a", 20.0), tenant("it-chk-c")]
    check = run_playbook(db, tmp_path, tenants_vars(db, changed, tenants_prune=True), "--check", "--diff")
    assert check.rc == 0, check
    assert check.changed >= 4, check
    assert "+    max_budget: 20.0" in check.out
    assert snapshot(db, exclude=()) == before


def test_orphans_reported_without_prune_and_offboarded_with_it(db, tmp_path):
    tenants = [tenant("it-keep"), tenant("it-gone", keys=[{"name": "default"}, {"name": "batch", "max_usd": 2.0}])]
    assert run_playbook(db, tmp_path, tenants_vars(db, tenants)).rc == 0
    # A team of another tenant set and one nobody manages are never orphans of ours.
    db.api("POST", "/team/new", {"team_id": "foreign", "team_alias": "foreign"})
    assert run_playbook(db, tmp_path, tenants_vars(db, [tenant("it-other")], tenants_set="other")).rc == 0
    before = snapshot(db, exclude=())

    report = run_playbook(db, tmp_path, tenants_vars(db, tenants[:1]))
    assert report.rc == 0 and report.changed == 0, report
    assert "orphan_teams:\n        - it-gone" in report.out
    assert "- it-gone-batch" in report.out and "- it-gone-default" in report.out
    assert snapshot(db, exclude=()) == before  # reported, never touched

    prune = run_playbook(db, tmp_path, tenants_vars(db, tenants[:1], tenants_prune=True))
    assert prune.rc == 0, prune
    order = [prune.out.index(t) for t in ("revoke the keys of orphan teams", "delete orphan teams", "delete orphan budgets")]
    assert order == sorted(order)
    assert _ids(db, 'SELECT team_id FROM "LiteLLM_TeamTable"') == ["foreign", "it-keep", "it-other"]
    assert _ids(db, 'SELECT budget_id FROM "LiteLLM_BudgetTable"') == ["it-keep", "it-other"]
    assert _ids(db, 'SELECT key_alias FROM "LiteLLM_VerificationToken"') == ["it-keep-default", "it-other-default"]
    revoked = _ids(db, "SELECT key_alias FROM \"LiteLLM_DeletedVerificationToken\" WHERE team_id = 'it-gone'")
    assert revoked == ["it-gone-batch", "it-gone-default"]
    status, _ = db.api("GET", "/team/info?team_id=it-gone")
    assert status == 404
    again = run_playbook(db, tmp_path, tenants_vars(db, tenants[:1], tenants_prune=True))
    assert again.rc == 0 and again.changed == 0, again


def test_removed_key_of_a_listed_tenant_is_an_orphan(db, tmp_path):
    t = tenant("it-keys", keys=[{"name": "default"}, {"name": "old"}])
    assert run_playbook(db, tmp_path, tenants_vars(db, [t])).rc == 0
    t["keys"] = [{"name": "default"}]
    assert run_playbook(db, tmp_path, tenants_vars(db, [t])).changed == 0
    assert "it-keys-old" in _ids(db, 'SELECT key_alias FROM "LiteLLM_VerificationToken"')
    assert run_playbook(db, tmp_path, tenants_vars(db, [t], tenants_prune=True)).rc == 0
    assert _ids(db, 'SELECT key_alias FROM "LiteLLM_VerificationToken"') == ["it-keys-default"]
