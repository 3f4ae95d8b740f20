"""Run orchestration: check the endpoint, warm up, run the load steps, query Prometheus per step,
write the report."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import secrets
import socket
import sys
import time

from . import SCHEMA_VERSION, __version__, datasets
from .client import Client, Result
from .load import Progress, PromptFeed, Step, closed_loop, open_loop, sweep_rates
from .metrics import FORMULAS, summarize
from .prom import Prom, PromError, gpu_context, window_metrics


class EndpointError(RuntimeError):
    """The endpoint refused or failed the check request: no load was sent."""


def event_loop_runner():
    """uvloop when installed (about twice the request rate per core), else asyncio."""
    if os.environ.get("BENCH_EVENT_LOOP", "auto") != "asyncio":
        try:
            import uvloop

            return uvloop.run, "uvloop " + uvloop.__version__
        except ImportError:
            pass
    return asyncio.run, "asyncio"


def _new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%H%M%S") + "-" + secrets.token_hex(3)


def _platform_version() -> str:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(os.path.join(here, "galaxy.yml"), encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("version:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


async def _warmup(client: Client, feed: PromptFeed, n: int):
    if n <= 0:
        return
    sem = asyncio.Semaphore(min(4, n))

    async def one():
        async with sem:
            await client.request(feed.next(), Result(-1, None))

    await asyncio.gather(*(one() for _i in range(n)))


def planned_steps(cfg: dict) -> int:
    if cfg["profile"] == "sweep":
        return cfg["sweep"]["steps"]
    return len(cfg["concurrencies"] if cfg["profile"] == "concurrency" else cfg["rates"])


async def run_load(cfg: dict, api_key: str | None, log=print) -> tuple[list[Step], dict]:
    """Check, warm up and run every step. Raises EndpointError before any load when the check fails."""
    n_steps = planned_steps(cfg)
    budget = cfg["max_requests_per_step"]
    prompts = datasets.build(cfg, min(budget * n_steps + cfg["warmup_requests"], 4096))
    progress = Progress(cfg.get("progress"), n_steps)
    steps: list[Step] = []
    meta: dict = {}
    async with Client(cfg["endpoint"], cfg["model"], cfg["api"], api_key, cfg["timeout_s"], cfg["ignore_eos"]) as client:
        status, detail = await client.check()
        if status in (401, 403):
            raise EndpointError(
                "endpoint %s rejected the API key (HTTP %d): %s. Check the key in $%s."
                % (client.url, status, detail[:200], cfg["api_key_env"])
            )
        if status != 200:
            raise EndpointError(
                "endpoint %s failed the check request (%s): %s" % (client.url, "HTTP %d" % status if status else "no answer", detail[:300])
            )
        meta["served_models"] = await client.models()
        feed = PromptFeed(client, prompts)
        t = time.perf_counter()
        await _warmup(client, feed, cfg["warmup_requests"])
        meta["warmup"] = {"requests": cfg["warmup_requests"], "seconds": round(time.perf_counter() - t, 3), "excluded": True}
        dur = float(cfg["duration_s"])

        async def do(step: Step):
            log("step %d/%d: %s" % (step.index + 1, n_steps, step.label))
            if step.mode == "concurrency":
                await closed_loop(client, feed, step, dur, budget, progress)
            else:
                await open_loop(client, feed, step, dur, budget, int(cfg["seed"]), cfg["max_concurrency"], progress)
            progress.update(step, dur, force=True)
            steps.append(step)
            await asyncio.sleep(cfg["cooldown_s"])

        if cfg["profile"] == "concurrency":
            for i, c in enumerate(cfg["concurrencies"]):
                await do(Step(i, "concurrency", c, "closed", "concurrency %d" % c))
        elif cfg["profile"] == "rate":
            for i, r in enumerate(cfg["rates"]):
                await do(Step(i, "rate", float(r), cfg["arrival"], "%s %g req/s" % (cfg["arrival"], r)))
        else:
            sat = cfg["sweep"]["saturation_concurrency"]
            await do(Step(0, "concurrency", 1, "closed", "synchronous"))
            await do(Step(1, "concurrency", sat, "closed", "saturation (c=%d)" % sat))
            r_sync = sum(1 for r in steps[0].results if r.ok) / steps[0].duration
            r_max = sum(1 for r in steps[1].results if r.ok) / steps[1].duration
            meta["sweep"] = {"synchronous_rate": round(r_sync, 4), "saturation_rate": round(r_max, 4)}
            for j, r in enumerate(sweep_rates(r_sync, r_max, cfg["sweep"]["steps"] - 2)):
                await do(Step(2 + j, "rate", r, cfg["arrival"], "%s %g req/s" % (cfg["arrival"], r)))
    return steps, meta


def server_metrics(cfg: dict, steps: list[Step], log=print) -> dict:
    """Per-step Prometheus results, or an error block (the client results stand either way)."""
    pc = cfg.get("prometheus") or {}
    if not pc.get("url"):
        return {"status": "disabled", "steps": []}
    prom = Prom(pc["url"])
    try:
        prom.ping()
        wait = float(pc.get("scrape_wait_s", 3.0))
        time.sleep(max(0.0, steps[-1].wall_end + wait - time.time()) if steps else 0)
        per_step = [window_metrics(prom, s.wall_start, s.wall_end, float(pc.get("step_s", 1.0))) for s in steps]
        gpu = gpu_context(prom, steps[0].wall_start, steps[-1].wall_end) if steps else {"status": "absent"}
        engine = [
            {k: v for k, v in s.items() if k != "__name__"}
            for s in (prom.labels("vllm:cache_config_info", steps[0].wall_start, steps[-1].wall_end) if steps else [])
        ]
    except PromError as exc:
        log("ERROR: %s; the client results are still written." % exc)
        return {"status": "error", "url": pc["url"], "error": str(exc), "steps": []}
    return {
        "status": "ok",
        "url": pc["url"],
        "steps": per_step,
        "gpu": gpu,
        "engine_config": engine,
        "queries_note": "gauges: <agg>(name) over [step start, step end]; histograms and ratios over the "
        "step's window, evaluated at the step end",
    }


def _cross_check(client: dict, server: dict) -> dict:
    """Client vs server TTFT/ITL medians over the same window; a large gap means time spent
    outside the engine's own clock (proxy, network, queueing the engine does not count) or
    histogram buckets too coarse to resolve the value."""
    out = {}
    for key, metric in (("server_ttft", "ttft"), ("server_itl", "itl")):
        srv = server.get(key) or {}
        cl = (client["latency_ms"].get(metric) or {}).get("p50")
        sv = (srv.get("quantiles_ms") or {}).get("p50") if srv.get("status") == "ok" else None
        if cl is None or sv is None:
            out[metric] = {"status": "n/a"}
            continue
        ratio = cl / sv if sv else None
        out[metric] = {
            "client_p50_ms": cl,
            "server_p50_ms": sv,
            "ratio": None if ratio is None else round(ratio, 3),
            "diverges": ratio is None or not 0.8 <= ratio <= 1.25,
        }
    return out


def build_report(cfg: dict, steps: list[Step], meta: dict, server: dict, run_id: str, started: float) -> dict:
    ctx = dict(cfg.get("context") or {})
    gpu = server.get("gpu") or {}
    if "gpu_type" not in ctx and gpu.get("status") == "ok":
        ctx["gpu_type"] = ", ".join(gpu["models"])
    report = {
        "schema_version": SCHEMA_VERSION,
        "kind": "llm.platform.bench/report",
        "run": {
            "id": run_id,
            "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(),
            "finished": dt.datetime.now(dt.UTC).isoformat(),
            "harness_version": __version__,
            "host": socket.gethostname(),
            "python": platform.python_version(),
            "event_loop": meta.get("event_loop"),
        },
        "context": {
            "endpoint": cfg["endpoint"],
            "model": cfg["model"],
            "api": cfg["api"],
            "engine_version": ctx.pop("engine_version", None),
            "engine_args": ctx.pop("engine_args", None),
            "gpu_type": ctx.pop("gpu_type", None),
            "platform_version": ctx.pop("platform_version", _platform_version()),
            "served_models": meta.get("served_models") or [],
            "engine_config": server.get("engine_config") or [],
            "gpu": gpu or {"status": "absent"},
            "extra": ctx,
        },
        "load": {
            "profile": cfg["profile"],
            "arrival": cfg["arrival"],
            "duration_s": cfg["duration_s"],
            "max_requests_per_step": cfg["max_requests_per_step"],
            "concurrencies": cfg.get("concurrencies"),
            "rates": cfg.get("rates"),
            "sweep": cfg.get("sweep"),
            "seed": cfg["seed"],
            "dataset": dict(cfg.get("dataset") or {}, input_tokens=cfg["input_tokens"], output_tokens=cfg["output_tokens"]),
            "warmup": meta.get("warmup"),
            "sweep_measured": meta.get("sweep"),
        },
        "slo": cfg.get("slo") or {},
        "cost": {"gpu_cost_per_hour": cfg.get("gpu_cost_per_hour"), "gpus": cfg.get("gpus", 1)},
        "formulas": FORMULAS,
        "prometheus": {k: v for k, v in server.items() if k != "steps"},
        "steps": [],
    }
    for i, s in enumerate(steps):
        entry = {
            "index": s.index,
            "label": s.label,
            "mode": s.mode,
            "arrival": s.arrival,
            "offered": s.offered,
            "offered_unit": "concurrency" if s.mode == "concurrency" else "requests/s",
            "window": {"start": round(s.wall_start, 3), "end": round(s.wall_end, 3)},
            "client": summarize(s, cfg.get("slo") or {}, cfg.get("gpu_cost_per_hour"), cfg.get("gpus", 1)),
        }
        if server.get("status") == "ok":
            entry["server"] = server["steps"][i]
            entry["cross_check"] = _cross_check(entry["client"], entry["server"])
        else:
            entry["server"] = {"status": server.get("status"), "error": server.get("error")}
        report["steps"].append(entry)
    return report


def run(cfg: dict, log=None) -> tuple[dict, str, int]:
    """Run the benchmark; returns (report, run directory, exit code). Exit 3 = Prometheus failed
    (client results written)."""
    from .report import write_all

    log = log or (lambda m: print(m, file=sys.stderr))
    api_key = os.environ.get(cfg.get("api_key_env") or "BENCH_API_KEY") or None
    run_id = cfg.get("run_id") or _new_run_id()
    started = time.time()
    day = dt.datetime.fromtimestamp(started, dt.UTC).strftime("%Y-%m-%d")
    run_dir = os.path.join(cfg["reports_dir"], day, run_id)
    runner, loop_name = event_loop_runner()
    steps, meta = runner(run_load(cfg, api_key, log))
    meta["event_loop"] = loop_name
    server = server_metrics(cfg, steps, log)
    report = build_report(cfg, steps, meta, server, run_id, started)
    write_all(report, steps, run_dir, save_requests=cfg.get("save_requests", True), make_plots=cfg.get("plots", True))
    log("report: %s" % os.path.join(run_dir, "report.md"))
    return report, run_dir, (3 if server.get("status") == "error" else 0)
