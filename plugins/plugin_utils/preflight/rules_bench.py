# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the bench playbook's inputs (PRIVATE to this collection).

Mirrors bench/config.py's validation so a bad bench config fails before any key is minted.
Each rule id is documented in config_model.yml."""

from __future__ import annotations

import os
import re

from .formats import DNS_LABEL, http_url_ok, is_digest_image, is_dns_label, is_int, is_num, is_quantity, names_of
from .registry import rule
from .view import P, skip_unknown

SLO_METRICS = ("ttft", "tpot", "itl", "e2e", "ntpot")
SLO_STATS = ("p50", "p90", "p95", "p99", "mean")
_SLO_KEY = re.compile(r"^(?P<metric>[a-z0-9]+)_(?P<stat>p\d+|mean)_ms$")
SLO_ALLOWED = "<metric>_<stat>_ms with metric one of %s and stat one of %s" % (", ".join(SLO_METRICS), ", ".join(SLO_STATS))
IMAGE_ALLOWED = "an image pinned by digest, <registry>/<repo>@sha256:<64 hex> (required when bench_runner is job)"


@rule("bench.steps")
def steps(cfg, err):
    profile = cfg.get("bench_profile", "sweep")
    if profile == "concurrency":
        values = cfg.get("bench_concurrencies")
        if isinstance(values, list) and not values:
            err(P("bench_concurrencies"), values, "at least one step: a non-empty list of concurrencies >= 1")
        for i, c in enumerate(values if isinstance(values, list) else []):
            if is_int(c) and c < 1:
                err(P("bench_concurrencies", i), c, "an integer >= 1")
    elif profile == "rate":
        rates = cfg.get("bench_rates")
        if (isinstance(rates, list) and not rates) or rates is None:
            err(P("bench_rates"), rates, "at least one step: a non-empty list of requests/s > 0 (bench_profile rate)")
        for i, r in enumerate(rates if isinstance(rates, list) else []):
            if is_num(r) and r <= 0:
                err(P("bench_rates", i), r, "requests/s > 0")
    elif profile == "sweep":
        count = cfg.get("bench_sweep_steps", 6)
        if is_int(count) and count < 2:
            err(P("bench_sweep_steps"), count, "at least 2 steps (synchronous, saturation, then rates between)")
        sat = cfg.get("bench_saturation_concurrency", 32)
        if is_int(sat) and sat < 2:
            err(P("bench_saturation_concurrency"), sat, "an integer >= 2")


@rule("bench.counts")
def counts(cfg, err):
    for key in ("bench_duration_seconds", "bench_max_requests_per_step", "bench_input_tokens", "bench_output_tokens", "bench_gpus"):
        value = cfg.get(key)
        if is_int(value) and value < 1:
            err(P(key), value, "an integer >= 1")
    warmup = cfg.get("bench_warmup_requests")
    if is_int(warmup) and warmup < 0:
        err(P("bench_warmup_requests"), warmup, "an integer >= 0")
    cost = cfg.get("bench_gpu_cost_per_hour")
    if is_num(cost) and cost < 0:
        err(P("bench_gpu_cost_per_hour"), cost, "USD per hour >= 0")


@rule("bench.slo")
def slo(cfg, err):
    values = cfg.get("bench_slo")
    if not isinstance(values, dict):
        return
    for key, limit in values.items():
        with skip_unknown:
            match = _SLO_KEY.match(str(key))
            if not match or match["metric"] not in SLO_METRICS or match["stat"] not in SLO_STATS:
                err(P("bench_slo", str(key)), limit, SLO_ALLOWED)
            elif not is_num(limit) or limit <= 0:
                err(P("bench_slo", str(key)), limit, "a latency in milliseconds > 0")


@rule("bench.urls")
def urls(cfg, err):
    for key in ("bench_endpoint", "bench_litellm_url", "bench_prometheus_url", "bench_job_endpoint", "bench_job_prometheus_url"):
        value = cfg.get(key)
        if isinstance(value, str) and value and not http_url_ok(value):
            err(P(key), value, "an http(s) URL" + (" or empty" if "prometheus" in key else ""))


@rule("bench.dataset")
def dataset(cfg, err):
    if cfg.get("bench_dataset") != "jsonl":
        return
    path = cfg.get("bench_dataset_path")
    exists = cfg.context.get("exists", os.path.exists)
    if not isinstance(path, str):
        return
    if not path:
        err(P("bench_dataset_path"), path, "a JSONL prompts file (bench_dataset is jsonl)")
    elif not path.endswith(".jsonl") and not path.endswith(".json"):
        err(P("bench_dataset_path"), path, "a JSONL prompts file (*.jsonl) for bench_dataset jsonl")
    elif not exists(os.path.expanduser(path)):
        err(P("bench_dataset_path"), path, "a JSONL prompts file that exists on the controller (relative paths start at the repo root)")


@rule("bench.model_exists")
def model_exists(cfg, err):
    names, complete = names_of(cfg, "models")
    model = cfg.get("bench_model")
    if names and complete and isinstance(model, str) and model not in names:
        err(P("bench_model"), model, "a model name from models: %s" % ", ".join(sorted(names)))


@rule("bench.job_runner")
def job_runner(cfg, err):
    """Inputs of the in-cluster Job runner."""
    if cfg.get("bench_runner") != "job":
        return
    image = cfg.get("bench_job_image")
    if not is_digest_image(image):
        err(P("bench_job_image"), image, IMAGE_ALLOWED)
    ns = cfg.get("bench_job_namespace", "bench")
    if isinstance(ns, str) and not is_dns_label(ns):
        err(P("bench_job_namespace"), ns, DNS_LABEL)
    if cfg.values.get("bench_job_endpoint") == "":
        err(P("bench_job_endpoint"), "", "the platform's /v1 as seen from inside the cluster, an http(s) URL")
    run_id = cfg.get("bench_run_id", "")
    if isinstance(run_id, str) and run_id and not is_dns_label(run_id, 50):
        err(P("bench_run_id"), run_id, "empty or a DNS-1123 label of at most 50 characters (it names the Job's objects)")
    selector = cfg.get("bench_job_node_selector")
    if isinstance(selector, dict):
        for k, v in selector.items():
            if not isinstance(v, str):
                err(P("bench_job_node_selector", str(k)), v, "a string label value")
    for i, tol in enumerate(cfg.get("bench_job_tolerations") or []):
        with skip_unknown:
            if isinstance(tol, dict) and tol.get("operator", "Equal") not in ("Equal", "Exists"):
                err(P("bench_job_tolerations", i, "operator"), tol.get("operator"), "Equal or Exists")
    resources = cfg.get("bench_job_resources")
    if isinstance(resources, dict):
        for part, amounts in resources.items():
            if part not in ("requests", "limits"):
                err(P("bench_job_resources", str(part)), amounts, "requests or limits")
            elif not isinstance(amounts, dict):
                err(P("bench_job_resources", part), amounts, "a mapping of resource name to quantity")
            else:
                for name, q in amounts.items():
                    text = str(q)
                    if not is_quantity(text[:-1] if name == "cpu" and text.endswith("m") else text):
                        err(P("bench_job_resources", part, str(name)), q, "a Kubernetes quantity like 500m, 2 or 1Gi")
