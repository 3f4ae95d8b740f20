"""The bench role end to end: playbooks/bench.yml through a real LiteLLM (offline kit, with
PostgreSQL) in front of llm-d-inference-sim, Prometheus scraping the simulator, all inside the
bench namespace. The role mints a bench tenant key (llm.platform.litellm_key), runs the harness
against LiteLLM's /v1, the report lands under <reports>/<date>/<run id>/, and the key is gone."""

import json
import os
import re
import secrets
import sys
import time

import benchkit
import pytest
from conftest import SIM_PORT
from litellm_stack import Stack

pytestmark = [pytest.mark.bench, pytest.mark.litellm, pytest.mark.slow]

LITELLM_PORT = 14100
PG_PORT = 15433
CONFIG = (
    """model_list:
  - model_name: bench-model
    litellm_params:
      model: openai/bench-model
      api_base: http://127.0.0.1:%d/v1
      api_key: sk-sim-backend
    model_info:
      input_cost_per_token: 0.0000005
      output_cost_per_token: 0.0000015
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  database_url: os.environ/DATABASE_URL
litellm_settings:
  telemetry: false
  drop_params: true
"""
    % SIM_PORT
)


@pytest.fixture(scope="module")
def litellm(ns, sim):
    stack = Stack(ns, LITELLM_PORT, PG_PORT, CONFIG, "sk-bench-master-" + secrets.token_hex(8))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def _playbook(ns, workdir, master_key, extra: dict):
    bindir = os.path.dirname(sys.executable)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(benchkit.REPO, "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        LITELLM_MASTER_KEY=master_key,
        PATH=bindir + os.pathsep + os.environ["PATH"],
    )
    env.pop("BENCH_API_KEY", None)
    varsfile = os.path.join(workdir, "bench-vars-%d.json" % time.time_ns())
    with open(varsfile, "w", encoding="utf-8") as fh:
        json.dump(extra, fh)
    r = ns.run(
        [os.path.join(bindir, "ansible-playbook"), "playbooks/bench.yml", "-i", "inventories/lab", "-e", "@" + varsfile],
        cwd=benchkit.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return r.returncode, r.stdout + r.stderr


def _redacted(text: str) -> str:
    return re.sub(r"sk-[A-Za-z0-9_-]+", "sk-***", text)


def _diagnostics(workdir, litellm) -> str:
    try:
        with open(os.path.join(workdir, "sim-%d.log" % SIM_PORT), "rb") as fh:
            sim_log = fh.read()[-2000:].decode("utf-8", "replace")
    except OSError:
        sim_log = ""
    return _redacted("--- proxy.log ---\n%s\n--- simulator log ---\n%s" % (litellm.log_tail(), sim_log))


def _vars(workdir, litellm, prometheus, run_id, **over):
    v = {
        "bench_endpoint": litellm.url + "/v1",
        "bench_litellm_url": litellm.url,
        "bench_served_model": "bench-model",
        "bench_profile": "concurrency",
        "bench_concurrencies": [2, 8],
        "bench_duration_seconds": 4,
        "bench_input_tokens": 32,
        "bench_output_tokens": 8,
        "bench_warmup_requests": 2,
        "bench_prometheus_url": prometheus,
        "bench_reports_dir": os.path.join(workdir, "role-reports"),
        "bench_run_id": run_id,
        "bench_context": {"engine_version": "llm-d-inference-sim v0.10.2"},
    }
    v.update(over)
    return v


@pytest.mark.parametrize("backend", ["module", "uri"])
def test_role_runs_end_to_end_through_litellm(ns, workdir, litellm, prometheus, backend):
    run_id = "e2e-%s-%d" % (backend, time.time())
    rc, out = _playbook(ns, workdir, litellm.master_key, _vars(workdir, litellm, prometheus, run_id, bench_key_backend=backend))
    assert rc == 0, out[-6000:]
    assert "sk-" not in out.replace(litellm.url, "")  # no key in the output (no_log)
    reports = [
        os.path.join(dp, f)
        for dp, _, fs in os.walk(os.path.join(workdir, "role-reports"))
        for f in fs
        if f == "report.json" and os.path.basename(dp) == run_id
    ]
    assert len(reports) == 1, reports
    day = os.path.basename(os.path.dirname(os.path.dirname(reports[0])))
    assert len(day) == 10 and day[4] == "-" and day[7] == "-"  # <reports>/<YYYY-MM-DD>/<run id>/
    rep = benchkit.read_json(reports[0])
    assert rep["context"]["endpoint"] == litellm.url + "/v1"
    assert rep["context"]["extra"]["tenant_key_alias"] == "bench-" + run_id
    for step in rep["steps"]:
        c = step["client"]
        failed = (c["errors"], c.get("error_examples"), _diagnostics(workdir, litellm)) if c["requests"]["failed"] else None
        assert c["requests"]["failed"] == 0 and c["requests"]["completed"] > 0, failed
        assert c["tokens_from"].get("usage") == c["requests"]["completed"]  # usage passes through LiteLLM
        assert step["server"]["status"] == "ok"
    # Server metrics of the same window are in. Their values through LiteLLM depend on its own
    # speed on this loaded machine (1 s samples of the simulator's gauges), so only presence is
    # asserted here; the queue/TTFT link is tested directly against the simulator.
    for key in ("num_requests_running", "num_requests_waiting"):
        m = rep["steps"][1]["server"][key]
        assert m["status"] == "ok" and m["samples"], m
    assert os.path.isfile(os.path.join(os.path.dirname(reports[0]), "report.md"))
    # The bench key is deleted at the end.
    code, body = litellm.api("GET", "/key/list?key_alias=bench-%s&return_full_object=true" % run_id)
    assert code == 200, body
    keys = json.loads(body).get("keys", [])
    assert not [k for k in keys if isinstance(k, dict) and k.get("key_alias") == "bench-" + run_id], keys


def test_bad_key_gets_401_through_litellm_and_a_clear_error(ns, workdir, litellm, bench):
    rc, _, err, _ = bench(
        "run",
        "--endpoint",
        litellm.url + "/v1",
        "--model",
        "bench-model",
        "--profile",
        "concurrency",
        "--concurrencies",
        "1",
        "--duration",
        "1",
        "--reports-dir",
        os.path.join(workdir, "reports-401b"),
        env={"BENCH_API_KEY": "sk-not-a-key"},
    )
    assert rc == 2
    assert "rejected the API key (HTTP 401)" in err


def test_role_with_existing_bad_key_fails_clearly_and_writes_nothing(ns, workdir, litellm, prometheus):
    run_id = "bad-%d" % time.time()
    v = _vars(
        workdir,
        litellm,
        prometheus,
        run_id,
        bench_key_mode="existing",
        bench_api_key="sk-not-a-key",
        bench_reports_dir=os.path.join(workdir, "role-reports-bad"),
    )
    rc, out = _playbook(ns, workdir, litellm.master_key, v)
    assert rc != 0
    assert "rejected the API key (HTTP 401)" in out
    assert "sk-not-a-key" not in out  # LiteLLM echoes the key; the harness redacts it
    assert not os.path.exists(os.path.join(workdir, "role-reports-bad"))
