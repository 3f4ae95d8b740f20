"""The harness against llm-d-inference-sim v0.10.2 and a real Prometheus (2 cores, loopback only).

Simulator: TTFT 50 ms, inter-token latency 10 ms, no std-dev, max-num-seqs 4, dummy tokenizer.

Tolerance of the client medians (justified): the simulator sleeps exactly the set latency, so a
client can never see a token earlier than set (lower bound: the setting minus 1 ms of timer
granularity). Above it sit the loopback HTTP round trip, the simulator's own per-chunk work and
SSE flush, and the client's event-loop wake-up, all on the same 2 shared cores: measured at
0.3-1.5 ms per request / per chunk. The bounds are TTFT <= setting + max(5 ms, 10 %) and ITL
<= setting + 1.5 ms (15 %), which leaves room for CI noise yet fails on any real mis-measure
(counting the role-only chunk as the first token would read ~0 ms TTFT; pooling the TTFT into
ITL or dividing by chunks instead of gaps would be off by tens of ms)."""

import json
import os

import pytest
from conftest import SIM_ITL_MS, SIM_MAX_NUM_SEQS, SIM_TTFT_MS

pytestmark = pytest.mark.bench

OUT_TOKENS = 16


@pytest.fixture(scope="module")
def queue_run(bench, sim, prometheus, workdir):
    """Closed loop at 2 (below max-num-seqs) and 12 (3x above) concurrent streams."""
    rc, _out, err, res = bench(
        "run",
        "--endpoint",
        sim,
        "--model",
        "bench-model",
        "--profile",
        "concurrency",
        "--concurrencies",
        "2,12",
        "--duration",
        "8",
        "--max-requests",
        "400",
        "--output-tokens",
        str(OUT_TOKENS),
        "--input-tokens",
        "64",
        "--warmup",
        "4",
        "--prometheus-url",
        prometheus,
        "--reports-dir",
        os.path.join(workdir, "reports"),
        "--context",
        "engine_version=llm-d-inference-sim v0.10.2",
        "gpu_type=none (simulator)",
    )
    assert rc == 0, err
    with open(res["report"], encoding="utf-8") as fh:
        return json.load(fh), res


def test_client_medians_match_simulator_settings(queue_run):
    report, _ = queue_run
    step = report["steps"][0]["client"]  # concurrency 2 < max-num-seqs: no queueing
    assert step["requests"]["failed"] == 0 and step["requests"]["completed"] > 20
    assert step["tokens_from"] == {"usage": step["requests"]["completed"]}
    assert step["output_tokens_mean"] == OUT_TOKENS
    ttft, itl = step["latency_ms"]["ttft"]["p50"], step["latency_ms"]["itl"]["p50"]
    assert SIM_TTFT_MS - 1 <= ttft <= SIM_TTFT_MS + max(5.0, 0.10 * SIM_TTFT_MS), ttft
    assert SIM_ITL_MS - 1 <= itl <= SIM_ITL_MS + 1.5, itl
    tpot = step["latency_ms"]["tpot"]["p50"]
    assert SIM_ITL_MS - 1 <= tpot <= SIM_ITL_MS + 1.5, tpot
    e2e = step["latency_ms"]["e2e"]["p50"]
    expected = SIM_TTFT_MS + (OUT_TOKENS - 1) * SIM_ITL_MS
    assert expected - 2 <= e2e <= expected * 1.15, e2e


def test_queue_depth_rises_in_the_same_step_as_ttft(queue_run):
    report, _ = queue_run
    low, high = report["steps"]
    assert low["server"]["status"] == "ok" and high["server"]["status"] == "ok"
    w_low, w_high = low["server"]["num_requests_waiting"], high["server"]["num_requests_waiting"]
    assert w_low["resolved_name"] == "vllm:num_requests_waiting"
    # Concurrency 12 over max-num-seqs 4: about 8 wait. At 2 nobody waits.
    assert w_high["max"] >= 12 - SIM_MAX_NUM_SEQS - 1
    assert w_high["mean"] > 0
    assert w_low["max"] == 0
    assert high["server"]["num_requests_running"]["max"] == SIM_MAX_NUM_SEQS
    # ... and TTFT rises in that same step (queueing adds ~2 service times).
    assert high["client"]["latency_ms"]["ttft"]["p50"] > 3 * low["client"]["latency_ms"]["ttft"]["p50"]
    # The waiting steps's window is exactly the step's: its start/end are the client's.
    assert high["window"]["start"] > low["window"]["end"]


def test_server_histograms_cross_check_the_client(queue_run):
    report, _ = queue_run
    srv = report["steps"][0]["server"]["server_ttft"]
    assert srv["status"] == "ok" and srv["resolved_name"] == "vllm:time_to_first_token_seconds"
    # The sim's TTFT histogram (buckets ... 0.04, 0.06 ...) brackets the 50 ms setting.
    assert 40 <= srv["quantiles_ms"]["p50"] <= 60
    # Same window, same medians below saturation; above it the simulator's TTFT histogram (which
    # starts its clock when a request is scheduled) misses the queueing the client sees: flagged.
    assert report["steps"][0]["cross_check"]["ttft"]["diverges"] is False
    assert report["steps"][1]["cross_check"]["ttft"]["diverges"] is True
    assert report["steps"][0]["server"]["server_itl"]["resolved_name"] in (
        "vllm:inter_token_latency_seconds",
        "vllm:time_per_output_token_seconds",
    )


def test_missing_dcgm_metric_is_reported_absent_not_zero(queue_run):
    report, res = queue_run
    for step in report["steps"]:
        for key in ("gpu_util", "gpu_fb_used", "gpu_engine_active"):
            m = step["server"][key]
            assert m["status"] == "absent", m
            assert "mean" not in m and "value" not in m
            assert m["tried"]
    with open(os.path.join(res["run_dir"], "report.md"), encoding="utf-8") as fh:
        md = fh.read()
    assert "gpu_util (tried DCGM_FI_DEV_GPU_UTIL)" in md
    assert "| absent | absent |" in md  # GPU util and FB columns of the server table


def test_report_schema_context_and_requests(queue_run, bench):
    report, res = queue_run
    assert report["schema_version"] == "1.0"
    assert report["context"]["engine_version"] == "llm-d-inference-sim v0.10.2"
    assert report["load"]["warmup"]["excluded"] is True
    assert report["context"]["served_models"][0]["id"] == "bench-model"
    assert report["context"]["engine_config"][0]["block_size"] == "16"  # vllm:cache_config_info labels
    assert report["context"]["gpu"]["status"] == "absent"
    rc, out, _, _ = bench("validate", res["report"])
    assert rc == 0 and out.strip() == "ok"
    with open(os.path.join(res["run_dir"], "requests.jsonl"), encoding="utf-8") as fh:
        rows = [json.loads(x) for x in fh]
    sent = sum(s["client"]["requests"]["sent"] for s in report["steps"])
    assert len(rows) == sent


def test_sweep_and_compare(bench, sim, prometheus, workdir, queue_run):
    rc, _, err, res = bench(
        "run",
        "--endpoint",
        sim,
        "--model",
        "bench-model",
        "--profile",
        "sweep",
        "--sweep-steps",
        "4",
        "--saturation-concurrency",
        "8",
        "--duration",
        "4",
        "--max-requests",
        "300",
        "--output-tokens",
        "8",
        "--input-tokens",
        "32",
        "--arrival",
        "constant",
        "--prometheus-url",
        prometheus,
        "--reports-dir",
        os.path.join(workdir, "reports"),
    )
    assert rc == 0, err
    with open(res["report"], encoding="utf-8") as fh:
        rep = json.load(fh)
    labels = [s["label"] for s in rep["steps"]]
    assert labels[0] == "synchronous" and labels[1].startswith("saturation")
    sync, sat = rep["load"]["sweep_measured"]["synchronous_rate"], rep["load"]["sweep_measured"]["saturation_rate"]
    rates = [s["offered"] for s in rep["steps"][2:]]
    assert len(rates) == 2 and sync < rates[0] < rates[1] < sat
    for s in rep["steps"][2:]:  # open loop: achieved ~ offered below saturation
        assert s["client"]["request_throughput"] == pytest.approx(s["offered"], rel=0.25)
    rc, out, _, _ = bench("compare", queue_run[1]["report"], res["report"])
    assert rc == 0 and "| TTFT p50 ms |" in out and "Delta" in out


def test_prometheus_not_answering_still_writes_client_results(bench, sim, workdir):
    rc, _, err, res = bench(
        "run",
        "--endpoint",
        sim,
        "--model",
        "bench-model",
        "--profile",
        "concurrency",
        "--concurrencies",
        "2",
        "--duration",
        "2",
        "--output-tokens",
        "4",
        "--input-tokens",
        "8",
        "--prometheus-url",
        "http://127.0.0.1:1",
        "--reports-dir",
        os.path.join(workdir, "reports"),
    )
    assert rc == 3
    assert "Prometheus at http://127.0.0.1:1 did not answer" in err
    assert "client results are still written" in err
    with open(res["report"], encoding="utf-8") as fh:
        rep = json.load(fh)
    assert rep["prometheus"]["status"] == "error"
    assert rep["steps"][0]["client"]["requests"]["completed"] > 0
    assert rep["steps"][0]["server"]["status"] == "error"


def test_endpoint_returning_401_stops_before_load(bench, ns, workdir):
    import benchkit

    proc = benchkit.start_sim(
        ns, 18001, workdir, max_num_seqs=4, extra=["--failure-injection-rate", "100", "--failure-types", "invalid_api_key"]
    )
    try:
        reports = os.path.join(workdir, "reports-401")
        rc, _out, err, _ = bench(
            "run",
            "--endpoint",
            "http://127.0.0.1:18001/v1",
            "--model",
            "bench-model",
            "--profile",
            "concurrency",
            "--concurrencies",
            "2",
            "--duration",
            "2",
            "--reports-dir",
            reports,
        )
    finally:
        proc.stop()
    assert rc == 2
    assert "rejected the API key (HTTP 401)" in err
    assert not os.path.exists(reports)
