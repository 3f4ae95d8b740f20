"""Every Prometheus metric name the harness queries, in one place.

Each logical metric lists its candidate names, newest first; the first one that has series in
the step's window is used and recorded in the report (``resolved_name``). Renamed vLLM metrics
(``gpu_cache_usage_perc`` -> ``kv_cache_usage_perc`` and friends, see bench-notes §3) are handled
by listing the old name after the new one. A logical metric with no series under any name is
reported as ``absent`` with the names tried: it is never read as zero.
"""

from __future__ import annotations

# kind: gauge (range query of the aggregate), counter_ratio (increase over the window of two
# counters), histogram (histogram_quantile over the window), dcgm gauges are gauges too.
METRICS: dict[str, dict] = {
    "num_requests_running": {
        "kind": "gauge",
        "agg": "sum",
        "names": ["vllm:num_requests_running"],
        "unit": "requests",
    },
    "num_requests_waiting": {
        "kind": "gauge",
        "agg": "sum",
        "names": ["vllm:num_requests_waiting"],
        "unit": "requests",
    },
    "kv_cache_usage": {
        "kind": "gauge",
        "agg": "avg",
        "names": ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
        "unit": "fraction 0-1",
    },
    "prefix_cache_hit_rate": {
        "kind": "counter_ratio",
        "numerator": [
            "vllm:prefix_cache_hits_total",
            "vllm:prefix_cache_hits",
            "vllm:gpu_prefix_cache_hits_total",
            "vllm:gpu_prefix_cache_hits",
        ],
        "denominator": [
            "vllm:prefix_cache_queries_total",
            "vllm:prefix_cache_queries",
            "vllm:gpu_prefix_cache_queries_total",
            "vllm:gpu_prefix_cache_queries",
        ],
        "unit": "fraction 0-1 (tokens hit / tokens queried)",
    },
    "server_ttft": {
        "kind": "histogram",
        "names": ["vllm:time_to_first_token_seconds"],
        "unit": "s",
    },
    "server_itl": {
        "kind": "histogram",
        "names": ["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"],
        "unit": "s",
    },
    "server_e2e": {
        "kind": "histogram",
        "names": ["vllm:e2e_request_latency_seconds"],
        "unit": "s",
    },
    "server_queue_time": {
        "kind": "histogram",
        "names": ["vllm:request_queue_time_seconds"],
        "unit": "s",
    },
    "gpu_util": {
        "kind": "gauge",
        "agg": "avg",
        "names": ["DCGM_FI_DEV_GPU_UTIL"],
        "unit": "% (duty cycle)",
    },
    "gpu_engine_active": {
        "kind": "gauge",
        "agg": "avg",
        "names": ["DCGM_FI_PROF_GR_ENGINE_ACTIVE"],
        "unit": "fraction 0-1",
    },
    "gpu_fb_used": {
        "kind": "gauge",
        "agg": "sum",
        "names": ["DCGM_FI_DEV_FB_USED"],
        "unit": "MiB",
    },
}

# Plotted per step against offered load (bench/report.py).
TIMESERIES = ("num_requests_running", "num_requests_waiting", "kv_cache_usage", "gpu_util")
HISTOGRAM_QUANTILES = (0.5, 0.9, 0.99)
