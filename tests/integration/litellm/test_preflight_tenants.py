"""Bad tenants input stops the tenants playbook in preflight, naming each variable,
before LiteLLM is called (its database stays empty)."""

from __future__ import annotations

import pytest
from conftest import run_playbook, tenant, tenants_vars

pytestmark = pytest.mark.litellm


def test_bad_input_is_named_and_nothing_is_called(db, tmp_path):
    bad = [
        tenant("it-ok", -3.0),  # negative budget
        tenant("it-ok", 1.0, "30x"),  # duplicate name, malformed window
        tenant("Not_DNS", models=["qwen-local", "no-such-model"]),  # name, unknown model
    ]
    run = run_playbook(db, tmp_path, tenants_vars(db, bad))
    assert run.rc != 0, run
    for variable in (
        "tenants[0].budget.max_usd",
        "tenants[1].name",
        "tenants[1].budget.window",
        "tenants[2].name",
        "tenants[2].models[1]",
    ):
        assert "- %s: got" % variable in run.out, (variable, run)
    assert "Tenants |" not in run.out  # the role never started
    assert db.psql('SELECT count(*) FROM "LiteLLM_TeamTable"') == [["0"]]
