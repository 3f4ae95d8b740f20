# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the bench playbook's inputs (PRIVATE to this collection).

Mirrors bench/config.py's validation so a bad bench config fails before any key is minted."""

from __future__ import annotations

import re

from .formats import DNS_LABEL, is_dns_label, is_quantity, named

SLO_METRICS = ("ttft", "tpot", "itl", "e2e", "ntpot")
SLO_STATS = ("p50", "p90", "p95", "p99", "mean")
_SLO_KEY = re.compile(r"^(?P<metric>[a-z0-9]+)_(?P<stat>p\d+|mean)_ms$")
SLO_ALLOWED = "<metric>_<stat>_ms with metric one of %s and stat one of %s" % (", ".join(SLO_METRICS), ", ".join(SLO_STATS))
_DIGEST_IMAGE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
IMAGE_ALLOWED = "an image pinned by digest, <registry>/<repo>@sha256:<64 hex> (required when bench_runner is job)"


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check(cfg, err):
    profile = cfg.get("bench_profile", "sweep")
    if profile == "concurrency":
        steps = cfg.get("bench_concurrencies")
        if isinstance(steps, list) and not steps:
            err("bench_concurrencies", steps, "at least one step: a non-empty list of concurrencies >= 1")
        for i, c in enumerate(steps if isinstance(steps, list) else []):
            if _int(c) and c < 1:
                err("bench_concurrencies[%d]" % i, c, "an integer >= 1")
    if profile == "rate":
        rates = cfg.get("bench_rates")
        if not rates:
            err("bench_rates", rates, "at least one step: a non-empty list of requests/s > 0 (bench_profile rate)")
        for i, r in enumerate(rates if isinstance(rates, list) else []):
            if not _num(r) or r <= 0:
                err("bench_rates[%d]" % i, r, "requests/s > 0")
    if profile == "sweep":
        steps = cfg.get("bench_sweep_steps", 6)
        if not _int(steps) or steps < 2:
            err("bench_sweep_steps", steps, "at least 2 steps (synchronous, saturation, then rates between)")
        sat = cfg.get("bench_saturation_concurrency", 32)
        if _int(sat) and sat < 2:
            err("bench_saturation_concurrency", sat, "an integer >= 2")
    for key in ("bench_duration_seconds", "bench_max_requests_per_step", "bench_input_tokens", "bench_output_tokens", "bench_gpus"):
        v = cfg.get(key)
        if _int(v) and v < 1:
            err(key, v, "an integer >= 1")
    if _int(cfg.get("bench_warmup_requests")) and cfg["bench_warmup_requests"] < 0:
        err("bench_warmup_requests", cfg["bench_warmup_requests"], "an integer >= 0")
    cost = cfg.get("bench_gpu_cost_per_hour")
    if _num(cost) and cost < 0:
        err("bench_gpu_cost_per_hour", cost, "USD per hour >= 0")
    slo = cfg.get("bench_slo")
    if isinstance(slo, dict):
        for key, limit in slo.items():
            m = _SLO_KEY.match(str(key))
            if not m or m["metric"] not in SLO_METRICS or m["stat"] not in SLO_STATS:
                err("bench_slo.%s" % key, limit, SLO_ALLOWED)
            elif not _num(limit) or limit <= 0:
                err("bench_slo.%s" % key, limit, "a latency in milliseconds > 0")
    for key in ("bench_endpoint", "bench_litellm_url", "bench_prometheus_url", "bench_job_endpoint", "bench_job_prometheus_url"):
        v = cfg.get(key)
        if isinstance(v, str) and v and not v.startswith(("http://", "https://")):
            err(key, v, "an http(s) URL" + (" or empty" if "prometheus" in key else ""))
    if cfg.get("bench_runner") == "job":
        _check_job(cfg, err)
    if cfg.get("bench_dataset") == "jsonl" and not cfg.get("bench_dataset_path"):
        err("bench_dataset_path", cfg.get("bench_dataset_path"), "a JSONL prompts file (bench_dataset is jsonl)")
    models = [m.get("name") for _path, m in named(cfg, "models")]
    model = cfg.get("bench_model")
    if models and model is not None and model not in models:
        err("bench_model", model, "a model name from models: %s" % ", ".join(sorted(map(str, models))))


def _check_job(cfg, err):
    """Inputs of the in-cluster Job runner."""
    image = cfg.get("bench_job_image")
    if not isinstance(image, str) or not _DIGEST_IMAGE.match(image):
        err("bench_job_image", image, IMAGE_ALLOWED)
    ns = cfg.get("bench_job_namespace", "bench")
    if not is_dns_label(ns):
        err("bench_job_namespace", ns, DNS_LABEL)
    endpoint = cfg.get("bench_job_endpoint")
    if endpoint == "":
        err("bench_job_endpoint", endpoint, "the platform's /v1 as seen from inside the cluster, an http(s) URL")
    run_id = cfg.get("bench_run_id", "")
    if run_id and not is_dns_label(run_id, 50):
        err("bench_run_id", run_id, "empty or a DNS-1123 label of at most 50 characters (it names the Job's objects)")
    sel = cfg.get("bench_job_node_selector")
    if isinstance(sel, dict):
        for k, v in sel.items():
            if not isinstance(v, str):
                err("bench_job_node_selector.%s" % k, v, "a string label value")
    for i, tol in enumerate(cfg.get("bench_job_tolerations") or []):
        if isinstance(tol, dict) and tol.get("operator", "Equal") not in ("Equal", "Exists"):
            err("bench_job_tolerations[%d].operator" % i, tol.get("operator"), "Equal or Exists")
    res = cfg.get("bench_job_resources")
    if isinstance(res, dict):
        for part, amounts in res.items():
            if part not in ("requests", "limits"):
                err("bench_job_resources.%s" % part, amounts, "requests or limits")
            elif not isinstance(amounts, dict):
                err("bench_job_resources.%s" % part, amounts, "a mapping of resource name to quantity")
            else:
                for name, q in amounts.items():
                    if not is_quantity(str(q).replace("m", "", 1) if name == "cpu" and str(q).endswith("m") else str(q)):
                        err("bench_job_resources.%s.%s" % (part, name), q, "a Kubernetes quantity like 500m, 2 or 1Gi")
