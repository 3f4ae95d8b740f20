"""Run configuration: defaults, loading (YAML/JSON file + CLI overrides) and validation."""

from __future__ import annotations

import copy
import json
import os

from .metrics import parse_slo

DEFAULTS: dict = {
    "endpoint": "http://127.0.0.1:8000/v1",
    "model": "",
    "api": "chat",  # chat | completions
    "api_key_env": "BENCH_API_KEY",  # the key is read from this environment variable, never from a file
    "profile": "sweep",  # sweep | concurrency | rate
    "concurrencies": [1, 4, 16],
    "rates": [],
    "arrival": "poisson",  # constant | poisson (open-loop steps)
    "sweep": {"steps": 6, "saturation_concurrency": 32},
    "duration_s": 30.0,
    "max_requests_per_step": 5000,
    "max_concurrency": 0,  # open-loop cap on in-flight requests (0 = none)
    "cooldown_s": 2.0,
    "warmup_requests": 8,
    "input_tokens": 256,
    "output_tokens": 128,
    "seed": 42,
    "dataset": {"kind": "random"},
    "ignore_eos": True,
    "timeout_s": 600.0,
    "slo": {"ttft_p95_ms": 250, "itl_p95_ms": 20, "e2e_p95_ms": 1500},
    "gpu_cost_per_hour": 0.85,
    "gpus": 1,
    "prometheus": {"url": "", "step_s": 1.0, "scrape_wait_s": 3.0},
    "context": {},
    "reports_dir": "bench/reports",
    "run_id": "",
    "save_requests": True,
    "plots": True,  # False: no PNGs here (in-cluster Job; the control host renders them)
    "progress": None,
}

PROFILES = ("sweep", "concurrency", "rate")
ARRIVALS = ("constant", "poisson")
DATASETS = ("random", "shared_prefix", "jsonl")


class ConfigError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("invalid bench config:\n  - " + "\n  - ".join(problems))
        self.problems = problems


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_file(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".yml", ".yaml")):
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ConfigError(["%s: top level must be a mapping" % path])
    return data


def _pos_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def validate(cfg: dict) -> list[str]:
    """Every problem of ``cfg``, each naming the key, the value and what is allowed."""
    p = []
    if not str(cfg.get("endpoint", "")).startswith(("http://", "https://")):
        p.append("endpoint=%r: an http(s) URL of an OpenAI-compatible /v1" % cfg.get("endpoint"))
    if not cfg.get("model"):
        p.append("model: required (the served model name)")
    if cfg.get("api") not in ("chat", "completions"):
        p.append("api=%r: chat or completions" % cfg.get("api"))
    prof = cfg.get("profile")
    if prof not in PROFILES:
        p.append("profile=%r: one of %s" % (prof, ", ".join(PROFILES)))
    if prof == "concurrency":
        c = cfg.get("concurrencies")
        if not isinstance(c, list) or not c:
            p.append("concurrencies=%r: a sweep needs at least one step (a non-empty list of integers >= 1)" % (c,))
        elif not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in c):
            p.append("concurrencies=%r: integers >= 1" % (c,))
    if prof == "rate":
        r = cfg.get("rates")
        if not isinstance(r, list) or not r:
            p.append("rates=%r: a rate profile needs at least one step (a non-empty list of requests/s > 0)" % (r,))
        elif not all(_pos_num(x) for x in r):
            p.append("rates=%r: numbers > 0 (requests/s)" % (r,))
    if prof == "sweep":
        sw = cfg.get("sweep") or {}
        steps = sw.get("steps")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2:
            p.append("sweep.steps=%r: a sweep needs steps >= 2 (synchronous, saturation, then rates between)" % (steps,))
        sc = sw.get("saturation_concurrency")
        if not isinstance(sc, int) or isinstance(sc, bool) or sc < 2:
            p.append("sweep.saturation_concurrency=%r: an integer >= 2" % (sc,))
    if cfg.get("arrival") not in ARRIVALS:
        p.append("arrival=%r: constant or poisson" % cfg.get("arrival"))
    for key in ("duration_s", "timeout_s"):
        if not _pos_num(cfg.get(key)):
            p.append("%s=%r: a number of seconds > 0" % (key, cfg.get(key)))
    for key in ("max_requests_per_step",):
        if not isinstance(cfg.get(key), int) or cfg[key] < 1:
            p.append("%s=%r: an integer >= 1" % (key, cfg.get(key)))
    for key in ("warmup_requests", "max_concurrency"):
        if not isinstance(cfg.get(key), int) or cfg[key] < 0:
            p.append("%s=%r: an integer >= 0" % (key, cfg.get(key)))
    for key in ("input_tokens", "output_tokens"):
        if not isinstance(cfg.get(key), int) or cfg[key] < 1:
            p.append("%s=%r: an integer >= 1" % (key, cfg.get(key)))
    ds = cfg.get("dataset") or {}
    if ds.get("kind", "random") not in DATASETS:
        p.append("dataset.kind=%r: one of %s" % (ds.get("kind"), ", ".join(DATASETS)))
    if ds.get("kind") == "jsonl" and not (ds.get("path") and os.path.isfile(str(ds.get("path")))):
        p.append("dataset.path=%r: an existing JSONL file" % ds.get("path"))
    try:
        parse_slo(cfg.get("slo") or {})
    except ValueError as exc:
        p.append("slo: %s" % exc)
    cost = cfg.get("gpu_cost_per_hour")
    if cost is not None and (not isinstance(cost, (int, float)) or cost < 0):
        p.append("gpu_cost_per_hour=%r: USD per hour >= 0" % (cost,))
    url = (cfg.get("prometheus") or {}).get("url") or ""
    if url and not url.startswith(("http://", "https://")):
        p.append("prometheus.url=%r: an http(s) URL or empty (no server metrics)" % url)
    return p


def resolve(cfg_file: str | None, overrides: dict) -> dict:
    cfg = merge(DEFAULTS, load_file(cfg_file) if cfg_file else {})
    cfg = merge(cfg, {k: v for k, v in overrides.items() if v is not None})
    problems = validate(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg
