"""CLI bad input, Prometheus handling with a stub, report schema and Markdown."""

import json
import os

import pytest
from fakeserver import FakeServer

from bench import prom as prom_mod
from bench.__main__ import main
from bench.config import DEFAULTS, merge, validate
from bench.report import markdown, schema_errors


def _cfg(**over):
    return merge(DEFAULTS, dict({"model": "m"}, **over))


def test_defaults_with_a_model_are_valid():
    assert validate(_cfg()) == []


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"profile": "sweep", "sweep": {"steps": 0, "saturation_concurrency": 8}}, "sweep.steps=0"),
        ({"profile": "concurrency", "concurrencies": []}, "at least one step"),
        ({"profile": "rate", "rates": []}, "at least one step"),
        ({"slo": {"latency_p95_ms": 100}}, "unknown SLO 'latency_p95_ms'"),
        ({"prometheus": {"url": "localhost:9090"}}, "prometheus.url"),
        ({"dataset": {"kind": "jsonl", "path": "/nonexistent.jsonl"}}, "dataset.path"),
        ({"endpoint": "127.0.0.1:8000"}, "endpoint"),
    ],
)
def test_bad_config_is_reported(over, needle):
    problems = validate(_cfg(**over))
    assert any(needle in p for p in problems), problems


def test_cli_sweep_without_steps_exits_2_before_any_request(capsys, tmp_path):
    with FakeServer() as s:
        rc = main(["run", "--endpoint", s.url, "--model", "m", "--profile", "sweep", "--sweep-steps", "0", "--reports-dir", str(tmp_path)])
        assert s.requests == []
    assert rc == 2
    assert "sweep.steps=0" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_cli_unknown_slo_metric_exits_2(capsys, tmp_path):
    rc = main(["run", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--slo", "latency_p95_ms=100", "--reports-dir", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "unknown SLO 'latency_p95_ms'" in err and "ttft" in err


def test_cli_401_exits_2_with_a_clear_message(capsys, tmp_path):
    with FakeServer(status=401) as s:
        rc = main(
            [
                "run",
                "--endpoint",
                s.url,
                "--model",
                "m",
                "--profile",
                "concurrency",
                "--concurrencies",
                "1",
                "--duration",
                "1",
                "--reports-dir",
                str(tmp_path),
            ]
        )
        assert len(s.requests) == 1  # the check request only: no load was sent
    assert rc == 2
    assert "rejected the API key (HTTP 401)" in capsys.readouterr().err


class StubProm:
    """Answers like Prometheus for a fixed set of series names."""

    def __init__(self, present):
        self.present = set(present)
        self.queries = []

    def has_series(self, name, start, end):
        return name in self.present

    def resolve(self, names, start, end, suffix=""):
        return prom_mod.Prom.resolve(self, names, start, end, suffix)

    def series(self, q, start, end, step):
        self.queries.append(q)
        return [(start, 3.0), (start + 1, 5.0)]

    def instant(self, q, at):
        self.queries.append(q)
        return 0.25


def test_absent_metrics_are_absent_and_renamed_ones_resolve():
    stub = StubProm({"vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc", "vllm:time_to_first_token_seconds_bucket"})
    out = prom_mod.window_metrics(stub, 1000.0, 1010.0)
    assert out["num_requests_waiting"]["status"] == "ok" and out["num_requests_waiting"]["max"] == 5.0
    assert out["kv_cache_usage"]["resolved_name"] == "vllm:gpu_cache_usage_perc"  # the old name
    assert out["gpu_util"] == {"status": "absent", "tried": ["DCGM_FI_DEV_GPU_UTIL"], "unit": "% (duty cycle)"}
    assert out["num_requests_running"]["status"] == "absent"
    assert out["server_ttft"]["quantiles_ms"]["p50"] == 250.0
    assert "histogram_quantile(0.5, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket[10s])))" in stub.queries
    assert not any("DCGM" in q for q in stub.queries)  # an absent metric is never queried for a value


def test_prometheus_not_answering_is_a_clear_error():
    with pytest.raises(prom_mod.PromError, match="did not answer"):
        prom_mod.Prom("http://127.0.0.1:9", timeout_s=1).ping()


def test_report_schema_and_markdown(tmp_path):
    with FakeServer(tokens=3) as s:
        rc = main(
            [
                "run",
                "--endpoint",
                s.url,
                "--model",
                "m",
                "--profile",
                "concurrency",
                "--concurrencies",
                "1,2",
                "--duration",
                "0.5",
                "--output-tokens",
                "3",
                "--input-tokens",
                "4",
                "--reports-dir",
                str(tmp_path),
                "--run-id",
                "t1",
                "--gpu-cost-per-hour",
                "2.0",
                "--cooldown",
                "0",
            ]
        )
    assert rc == 0
    (day,) = os.listdir(tmp_path)
    d = tmp_path / day / "t1"
    rep = json.loads((d / "report.json").read_text())
    assert schema_errors(rep) == []
    assert rep["prometheus"]["status"] == "disabled"
    assert rep["steps"][0]["client"]["cost_usd"]["gpu_cost_per_hour"] == 2.0
    md = (d / "report.md").read_text()
    assert "TPOT = (E2E - TTFT) / (output_tokens - 1)" in md
    assert "| 1 concurrency 2 |" in md
    broken = dict(rep)
    del broken["context"]
    assert "$: missing 'context'" in schema_errors(broken)
    assert markdown(rep) == md
    rows = [json.loads(x) for x in (d / "requests.jsonl").read_text().splitlines()]
    assert rows and all(r["tokens_from"] == "usage" for r in rows if r["ok"])
