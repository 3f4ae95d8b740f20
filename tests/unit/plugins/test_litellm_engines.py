"""Team, budget and key engines against the fake: create, no-op rerun, field updates,
check mode without writes, absent, retried creates, rotation."""

from __future__ import annotations

from ansible_collections.llm.platform.plugins.module_utils._litellm import ensure_budget, ensure_key, ensure_team, fingerprint


def team(**kw):
    spec = {
        "team_id": "acme",
        "team_alias": "acme",
        "models": ["qwen-local"],
        "max_budget": 10.0,
        "budget_duration": "30d",
        "rpm_limit": 60,
        "metadata": {"tenant": "acme"},
        "state": "present",
    }
    spec.update(kw)
    return spec


def test_team_create_then_noop(client, fake):
    res = ensure_team(client, team(), False)
    assert res["changed"] and res["action"] == "create"
    assert fake.teams["acme"]["metadata"] == {"tenant": "acme", "managed_by": "llm-platform"}
    fake.calls.clear()
    res = ensure_team(client, team(models=["qwen-local"], max_budget=10), False)
    assert not res["changed"] and res["action"] == "none"
    assert fake.writes() == []


def test_team_update_sends_only_the_changed_field(client, fake):
    ensure_team(client, team(), False)
    fake.teams["acme"]["metadata"]["ui"] = "kept"  # set on the server by someone else
    fake.calls.clear()
    res = ensure_team(client, team(max_budget=20.0), False)
    assert res["action"] == "update"
    assert res["diff"] == {"before": {"max_budget": 10.0}, "after": {"max_budget": 20.0}}
    assert [c for c in fake.writes()] == [("POST", "/team/update", {"max_budget": 20.0, "team_id": "acme"})]
    assert fake.teams["acme"]["metadata"]["ui"] == "kept"


def test_team_check_mode_writes_nothing(client, fake):
    res = ensure_team(client, team(), True)
    assert res["changed"] and fake.teams == {} and fake.writes() == []
    ensure_team(client, team(), False)
    fake.calls.clear()
    assert ensure_team(client, team(rpm_limit=5), True)["changed"]
    assert fake.writes() == [] and fake.teams["acme"]["rpm_limit"] == 60


def test_team_absent_is_idempotent_and_cascades_keys(client, fake):
    ensure_team(client, team(), False)
    ensure_key(client, {"key_alias": "acme-default", "team_id": "acme", "state": "present"}, False)
    assert ensure_team(client, team(state="absent"), False)["action"] == "delete"
    assert fake.teams == {} and fake.keys == {}
    assert ensure_team(client, team(state="absent"), False)["changed"] is False


def test_team_create_whose_answer_was_lost_converges(client, fake):
    fake.faults = [lambda m, u, d: fake.handle(m, u, {"Authorization": "Bearer " + fake.master_key}, d)]
    res = ensure_team(client, team(), False)
    assert len(fake.teams) == 1 and not res.get("failed")


def test_budget_create_update_null_and_absent(client, fake):
    spec = {"budget_id": "acme", "max_budget": 10.0, "budget_duration": "30d", "state": "present"}
    assert ensure_budget(client, spec, False)["action"] == "create"
    assert ensure_budget(client, spec, False)["changed"] is False
    res = ensure_budget(client, dict(spec, budget_duration="7d"), False)
    assert res["diff"]["after"] == {"budget_duration": "7d"}
    assert ensure_budget(client, dict(spec, state="absent"), False)["action"] == "delete"
    assert ensure_budget(client, dict(spec, state="absent"), False)["changed"] is False


def key(**kw):
    spec = {
        "key_alias": "acme-default",
        "team_id": "acme",
        "models": ["qwen-local"],
        "max_budget": 1.0,
        "state": "present",
        "grace_seconds": 60,
    }
    spec.update(kw)
    return spec


def test_key_raw_value_only_on_creation(client, fake):
    res = ensure_key(client, key(), False)
    assert res["action"] == "create" and res["key"].startswith("sk-")
    assert res["fingerprint"] == fingerprint(next(iter(fake.keys)))
    again = ensure_key(client, key(), False)
    assert again["changed"] is False and "key" not in again
    assert "token" not in again["existing"]


def test_key_update_in_place(client, fake):
    ensure_key(client, key(), False)
    tok = next(iter(fake.keys))
    res = ensure_key(client, key(max_budget=2.0), False)
    assert res["action"] == "update" and "key" not in res
    assert list(fake.keys) == [tok] and fake.keys[tok]["max_budget"] == 2.0


def test_key_rotation_keeps_old_key_for_the_grace_period(client, fake):
    first = ensure_key(client, key(), False, now=1000)
    rot = ensure_key(client, key(rotate=True), False, now=1000)
    assert rot["action"] == "rotate" and rot["key"] != first["key"]
    aliases = sorted(k["key_alias"] for k in fake.keys.values())
    assert aliases == ["acme-default", "acme-default--rotated-1000"]
    assert ensure_key(client, key(), False, now=1030)["pending_rotated"] == ["acme-default--rotated-1000"]
    late = ensure_key(client, key(), False, now=1061)
    assert late["deleted_rotated"] == ["acme-default--rotated-1000"] and late["changed"]
    assert [k["key_alias"] for k in fake.keys.values()] == ["acme-default"]


def test_key_consumer_without_the_key_gets_a_new_one(client, fake):
    created = ensure_key(client, key(), False)
    assert ensure_key(client, key(consumer_fingerprint=created["fingerprint"]), False)["changed"] is False
    res = ensure_key(client, key(consumer_fingerprint=""), False)
    assert res["action"] == "rotate" and res["reason"] == "consumer does not hold this key" and res["key"]


def test_key_generate_whose_answer_was_lost_is_recreated(client, fake):
    fake.faults = [lambda m, u, d: fake.handle(m, u, {"Authorization": "Bearer " + fake.master_key}, d)]
    res = ensure_key(client, key(), False)
    assert res["key"] and len(fake.keys) == 1
    assert fingerprint(next(iter(fake.keys))) == res["fingerprint"]


def test_key_check_mode_and_absent(client, fake):
    res = ensure_key(client, key(), True)
    assert res["changed"] and "key" not in res and fake.keys == {}
    ensure_key(client, key(), False)
    ensure_key(client, key(rotate=True), False)
    res = ensure_key(client, key(state="absent"), False)
    assert res["action"] == "delete" and fake.keys == {}
    assert ensure_key(client, key(state="absent"), False)["changed"] is False


def test_rotation_without_attributes_keeps_the_old_keys(client, fake):
    ensure_key(client, key(), False)
    ensure_key(client, {"key_alias": "acme-default", "team_id": "acme", "rotate": True, "state": "present"}, False, now=5)
    new = next(k for k in fake.keys.values() if k["key_alias"] == "acme-default")
    assert new["models"] == ["qwen-local"] and new["max_budget"] == 1.0 and "delete_after" not in new["metadata"]


def test_rotation_with_zero_grace_deletes_the_old_key_at_once(client, fake):
    ensure_key(client, key(), False)
    ensure_key(client, key(rotate=True, grace_seconds=0), False)
    assert [k["key_alias"] for k in fake.keys.values()] == ["acme-default"]
