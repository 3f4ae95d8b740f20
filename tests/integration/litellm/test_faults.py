"""Faults: LiteLLM stopped mid-run, 500 twice then 200, a slow answer past the timeout.
The modules retry with backoff, then fail naming the call; a rerun converges with no
duplicate teams, budgets or keys."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import run_playbook, tenant, tenants_vars
from faultproxy import FaultProxy

pytestmark = pytest.mark.litellm


def counts(litellm):
    sql = (
        'SELECT (SELECT count(*) FROM "LiteLLM_TeamTable"), (SELECT count(*) FROM "LiteLLM_BudgetTable"), '
        '(SELECT count(*) FROM "LiteLLM_VerificationToken"), (SELECT count(DISTINCT key_alias) FROM "LiteLLM_VerificationToken")'
    )
    return tuple(int(x) for x in litellm.psql(sql)[0])


def test_500_twice_then_200_is_retried(db, tmp_path):
    with FaultProxy(db.url) as proxy:
        proxy.fail_next = 2
        run = run_playbook(db, tmp_path, tenants_vars(db, [tenant("it-flaky")], tenants_litellm_api_url=proxy.url), "-v")
    assert run.rc == 0, run
    assert proxy.failed == 2
    assert "retried: 2" in run.out
    assert counts(db) == (1, 1, 1, 1)


def test_slow_answer_past_timeout_fails_clearly_then_rerun_converges(db, tmp_path):
    tenants = [tenant("it-slow-%d" % i) for i in range(3)]
    with FaultProxy(db.url) as proxy:
        proxy.delay = 2.5
        t0 = time.monotonic()
        run = run_playbook(
            db, tmp_path, tenants_vars(db, tenants, tenants_litellm_api_url=proxy.url, tenants_litellm_timeout=1, tenants_litellm_retries=2)
        )
        took = time.monotonic() - t0
    assert run.rc != 0 and run.failed == 1, run
    assert "no answer within the 1.0 s timeout" in run.out and "failed after 3 attempt(s)" in run.out, run
    assert took < 120
    time.sleep(3)  # let the late requests land
    rerun = run_playbook(db, tmp_path, tenants_vars(db, tenants))
    assert rerun.rc == 0, rerun
    assert counts(db) == (3, 3, 3, 3)
    assert run_playbook(db, tmp_path, tenants_vars(db, tenants)).changed == 0


def test_litellm_stopped_mid_run_then_rerun_converges(litellm, tmp_path):
    litellm.reset_db()
    tenants = [tenant("it-stop-%02d" % i) for i in range(30)]
    killed = threading.Event()

    def kill_when_teams_appear():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if counts(litellm)[0] >= 5:
                litellm.kill_proxy()
                killed.set()
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_when_teams_appear)
    watcher.start()
    try:
        run = run_playbook(litellm, tmp_path, tenants_vars(litellm, tenants))
    finally:
        watcher.join()
        if killed.is_set():
            litellm.start()
    assert killed.is_set(), "the run finished before LiteLLM could be stopped"
    assert run.rc != 0, run
    assert "cannot reach LiteLLM at %s" % litellm.url in run.out and "after 3 attempt(s)" in run.out, run
    teams, _, keys, _ = counts(litellm)
    assert 5 <= teams < 30 and keys == 0

    rerun = run_playbook(litellm, tmp_path, tenants_vars(litellm, tenants))
    assert rerun.rc == 0, rerun
    assert counts(litellm) == (30, 30, 30, 30)
    assert run_playbook(litellm, tmp_path, tenants_vars(litellm, tenants)).changed == 0
