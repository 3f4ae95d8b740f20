"""Metric formulas on hand-built requests (no network)."""

import pytest

from bench.client import Result
from bench.load import Step
from bench.metrics import parse_slo, percentile, stats, summarize


def _req(start, chunks, tokens, step=0, error=None):
    r = Result(step, None)
    r.start = start
    r.chunk_times = list(chunks)
    r.output_tokens = tokens
    r.error = error
    return r


def _step(results, dur=1.0):
    s = Step(0, "concurrency", 1, "closed", "c1")
    s.perf_start, s.perf_end = 0.0, dur
    s.results = results
    return s


def test_vllm_worked_example_tpot_vs_itl():
    """bench-notes §1: TTFT 100 ms, E2E 180 ms, 5 tokens in 3 chunks (two 40 ms gaps):
    ITL 40 ms but TPOT (180-100)/(5-1) = 20 ms."""
    r = _req(0.0, [0.100, 0.140, 0.180], 5)
    assert r.ttft == pytest.approx(0.100)
    assert r.e2e == pytest.approx(0.180)
    assert r.tpot == pytest.approx(0.020)
    assert r.itls == pytest.approx([0.040, 0.040])
    s = summarize(_step([r]), {}, None)
    assert s["latency_ms"]["itl"]["p50"] == pytest.approx(40.0)
    assert s["latency_ms"]["tpot"]["p50"] == pytest.approx(20.0)
    assert s["latency_ms"]["ntpot"]["p50"] == pytest.approx(36.0)


def test_tpot_undefined_for_single_token():
    assert _req(0, [0.05], 1).tpot is None


def test_percentile_linear_interpolation_matches_numpy_default():
    v = [1.0, 2.0, 3.0, 4.0]
    assert percentile(v, 50) == pytest.approx(2.5)
    assert percentile(v, 90) == pytest.approx(3.7)
    assert stats([]) is None


def test_throughput_errors_goodput_and_cost():
    ok_fast = [_req(0, [0.05, 0.06, 0.07], 3) for _ in range(3)]
    ok_slow = [_req(0, [0.40, 0.41], 2)]  # TTFT 400 ms breaks a 250 ms TTFT SLO
    bad = [_req(0, [], 0, error="http_429"), _req(0, [], 0, error="timeout")]
    s = summarize(_step(ok_fast + ok_slow + bad, dur=2.0), {"ttft_p95_ms": 250}, gpu_cost_per_hour=3.6, gpus=2)
    assert s["requests"] == {"sent": 6, "completed": 4, "failed": 2}
    assert s["errors"] == {"http_429": 1, "timeout": 1}
    assert s["error_rate"] == pytest.approx(2 / 6, abs=1e-5)
    assert s["request_throughput"] == pytest.approx(2.0)  # 4 ok / 2 s
    assert s["output_token_throughput"] == pytest.approx(5.5)  # (3*3 + 2) / 2 s
    assert s["goodput"]["good_requests"] == 3
    assert s["goodput"]["requests_per_s"] == pytest.approx(1.5)
    # $/1k req = (3.6 USD/h * 2 GPUs / 3600) / 2 req/s * 1000 = 1.0
    assert s["cost_usd"]["per_1k_requests"] == pytest.approx(1.0)
    assert s["cost_usd"]["per_1m_output_tokens"] == pytest.approx(0.002 / 5.5 * 1e6, rel=1e-4)
    assert s["slo"]["ttft_p95_ms"]["pass"] is False


@pytest.mark.parametrize("key", ["tpot_p99_ms", "ttft_mean_ms", "e2e_p50_ms", "ntpot_p90_ms", "itl_p95_ms"])
def test_slo_keys_accepted(key):
    assert parse_slo({key: 10})[key][2] == pytest.approx(0.010)


@pytest.mark.parametrize("slo", [{"latency_p95_ms": 10}, {"ttft_p95": 10}, {"ttft_max_ms": 5}, {"ttft_p95_ms": 0}, {"ttft_p95_ms": "fast"}])
def test_slo_unknown_metric_or_bad_limit(slo):
    with pytest.raises(ValueError, match="SLO"):
        parse_slo(slo)
