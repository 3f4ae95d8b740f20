"""Client-side metrics of one load step. The formulas below are copied into every report."""

from __future__ import annotations

import math
import re
from collections import Counter

PERCENTILES = (50, 90, 95, 99)
LATENCY_METRICS = ("ttft", "tpot", "itl", "e2e", "ntpot")
SLO_STATS = ("p50", "p90", "p95", "p99", "mean")
SLO_KEY = re.compile(r"^(?P<metric>[a-z0-9]+)_(?P<stat>p\d+|mean)_ms$")

FORMULAS = {
    "start": "perf_counter() just before the HTTP POST is issued",
    "token_chunk": "an SSE message whose first choice carries non-empty text (delta.content for chat, text for "
    "completions); role-only and usage-only messages are not token chunks",
    "ttft": "TTFT = t(first token chunk) - start",
    "e2e": "E2E = t(last token chunk) - start (the trailing usage chunk and [DONE] excluded)",
    "tpot": "TPOT = (E2E - TTFT) / (output_tokens - 1), per request, only when output_tokens > 1 (GuideLLM and AIPerf call this ITL)",
    "itl": "ITL = every gap between successive token chunks, pooled over all gaps of all successful requests "
    "(vLLM bench's ITL; a chunk carrying several tokens is one sample)",
    "ntpot": "NTPOT = E2E / output_tokens (GuideLLM calls this TPOT)",
    "output_tokens": "usage.completion_tokens from the stream's usage chunk (stream_options.include_usage); "
    "when the server sends none, the number of token chunks (tokens_from=chunks)",
    "percentiles": "linear interpolation between closest ranks (numpy's default); mean is arithmetic",
    "request_throughput": "successful requests / step duration; duration = first dispatch to last completion",
    "output_token_throughput": "sum of output_tokens of successful requests / step duration",
    "error_rate": "failed requests / requests sent, by kind (http_<status>, timeout, connection, protocol, "
    "stream_error, empty_stream, incomplete_stream)",
    "goodput": "successful requests meeting every per-request SLO / step duration (DistServe); per request "
    "the SLO's metric is compared with that request's own value (itl: its mean chunk gap)",
    "slo_pass": "the step's percentile of the metric <= the SLO limit",
    "cost_per_1k_requests": "(gpu_cost_per_hour * gpus / 3600) / request_throughput * 1000",
    "cost_per_1m_output_tokens": "(gpu_cost_per_hour * gpus / 3600) / output_token_throughput * 1e6",
    "achieved_concurrency": "sum of E2E of successful requests / step duration (Little's law)",
    "client_cpu_ms_per_request": "CPU time (user + system) of the harness process during the step / requests sent",
    "dispatch_lag": "open loop only: actual send time - scheduled send time (client overhead and event-loop delay)",
}


def percentile(sorted_vals: list[float], p: float) -> float:
    n = len(sorted_vals)
    if n == 1:
        return sorted_vals[0]
    k = (n - 1) * p / 100.0
    f = math.floor(k)
    c = min(f + 1, n - 1)
    return sorted_vals[f] + (sorted_vals[c] - sorted_vals[f]) * (k - f)


def stats(values: list[float], scale: float = 1000.0) -> dict | None:
    """p50/p90/p95/p99/mean/min/max/count of ``values`` (seconds) in ms; None when empty."""
    if not values:
        return None
    v = sorted(values)
    out = {"p%d" % p: round(percentile(v, p) * scale, 4) for p in PERCENTILES}
    out.update(mean=round(sum(v) / len(v) * scale, 4), min=round(v[0] * scale, 4), max=round(v[-1] * scale, 4), count=len(v))
    return out


def parse_slo(slo: dict) -> dict[str, tuple[str, str, float]]:
    """``{"ttft_p95_ms": 250}`` -> ``{"ttft_p95_ms": ("ttft", "p95", 0.25)}``; ValueError on unknown
    metrics, statistics or non-positive limits."""
    out = {}
    for key, limit in (slo or {}).items():
        m = SLO_KEY.match(str(key))
        if not m or m["metric"] not in LATENCY_METRICS or m["stat"] not in SLO_STATS:
            raise ValueError(
                "unknown SLO %r: use <metric>_<stat>_ms with metric one of %s and stat one of %s"
                % (key, ", ".join(LATENCY_METRICS), ", ".join(SLO_STATS))
            )
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
            raise ValueError("SLO %s: limit must be a number of milliseconds > 0, got %r" % (key, limit))
        out[key] = (m["metric"], m["stat"], float(limit) / 1000.0)
    return out


def _per_request(r, metric):
    if metric == "ttft":
        return r.ttft
    if metric == "e2e":
        return r.e2e
    if metric in ("tpot", "itl"):
        return r.tpot
    if metric == "ntpot":
        return r.e2e / r.output_tokens if r.output_tokens else None
    return None


def summarize(step, slo: dict, gpu_cost_per_hour: float | None, gpus: int = 1) -> dict:
    results = step.results
    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    dur = step.duration
    errors = Counter(r.error for r in failed)
    samples = {
        "ttft": [r.ttft for r in ok],
        "e2e": [r.e2e for r in ok],
        "tpot": [t for t in (r.tpot for r in ok) if t is not None],
        "itl": [g for r in ok for g in r.itls],
        "ntpot": [r.e2e / r.output_tokens for r in ok if r.output_tokens],
    }
    out_tokens = sum(r.output_tokens or 0 for r in ok)
    in_tokens = sum(r.prompt_tokens or 0 for r in ok)
    req_tp = len(ok) / dur
    tok_tp = out_tokens / dur
    summary = {
        "requests": {"sent": len(results), "completed": len(ok), "failed": len(failed)},
        "errors": dict(sorted(errors.items())),
        "error_rate": round(len(failed) / len(results), 6) if results else None,
        "error_examples": {k: next(r.error_detail for r in failed if r.error == k)[:200] for k in errors},
        "duration_s": round(dur, 4),
        "request_throughput": round(req_tp, 4),
        "output_token_throughput": round(tok_tp, 3),
        "input_token_throughput": round(in_tokens / dur, 3),
        "output_tokens_mean": round(out_tokens / len(ok), 2) if ok else None,
        "input_tokens_mean": round(in_tokens / len(ok), 2) if ok else None,
        "tokens_from": dict(Counter(r.tokens_from for r in ok)),
        "achieved_concurrency": round(sum(samples["e2e"]) / dur, 3),
        "latency_ms": {m: stats(samples[m]) for m in LATENCY_METRICS},
    }
    if step.cpu_end > step.cpu_start and results:
        summary["client_cpu_ms_per_request"] = round((step.cpu_end - step.cpu_start) / len(results) * 1000, 4)
    lags = [r.dispatch_lag for r in results if r.scheduled is not None]
    summary["dispatch_lag_ms"] = stats(lags)
    parsed = parse_slo(slo)
    checks = {}
    for key, (metric, stat, limit) in parsed.items():
        st = summary["latency_ms"].get(metric)
        value = st[stat] if st else None
        checks[key] = {"limit_ms": limit * 1000, "value_ms": value, "pass": value is not None and value <= limit * 1000}
    summary["slo"] = checks
    good = 0
    for r in ok:
        if all(
            ((v := _per_request(r, metric)) is None and metric in ("tpot", "itl")) or (v is not None and v <= limit)
            for metric, _stat, limit in parsed.values()
        ):
            good += 1
    summary["goodput"] = {
        "requests_per_s": round(good / dur, 4),
        "good_requests": good,
        "fraction": round(good / len(results), 4) if results else None,
    }
    if gpu_cost_per_hour:
        per_s = gpu_cost_per_hour * gpus / 3600.0
        summary["cost_usd"] = {
            "per_1k_requests": round(per_s / req_tp * 1000, 6) if req_tp else None,
            "per_1m_output_tokens": round(per_s / tok_tp * 1e6, 6) if tok_tp else None,
            "gpu_cost_per_hour": gpu_cost_per_hour,
            "gpus": gpus,
        }
    return summary
