"""Report writers: report.json (versioned schema), report.md, PNG plots, requests.jsonl."""

from __future__ import annotations

import json
import os

from .names import METRICS

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "schema", "report-v1.schema.json")


def load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        return json.load(fh)


_TYPES = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float), "boolean": bool}


def schema_errors(doc, schema: dict | None = None, path: str = "$") -> list[str]:
    """A small JSON-Schema subset (type, required, properties, items, enum): enough for the report
    schema without a jsonschema dependency."""
    schema = load_schema() if schema is None else schema
    errs = []
    t = schema.get("type")
    if t and (not isinstance(doc, _TYPES[t]) or (t in ("integer", "number") and isinstance(doc, bool))):
        return ["%s: expected %s, got %s" % (path, t, type(doc).__name__)]
    if "enum" in schema and doc not in schema["enum"]:
        errs.append("%s: %r not in %s" % (path, doc, schema["enum"]))
    if isinstance(doc, dict):
        errs += ["%s: missing %r" % (path, k) for k in schema.get("required", []) if k not in doc]
        for k, sub in schema.get("properties", {}).items():
            if k in doc and doc[k] is not None:
                errs += schema_errors(doc[k], sub, "%s.%s" % (path, k))
    if isinstance(doc, list) and "items" in schema:
        for i, item in enumerate(doc):
            errs += schema_errors(item, schema["items"], "%s[%d]" % (path, i))
    return errs


def _f(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return ("%%.%df" % nd) % v
    return str(v)


def _server_cell(srv: dict, key: str, field: str = "max", nd: int = 2) -> str:
    if srv.get("status") != "ok":
        return "n/a"
    m = srv.get(key) or {}
    if m.get("status") == "absent":
        return "absent"
    if m.get("status") == "no_data":
        return "no data"
    if field == "value":
        return _f(m.get("value"), nd)
    return "%s / %s" % (_f(m.get("mean"), nd), _f(m.get("max"), nd))


def markdown(report: dict) -> str:
    r, c, ld = report["run"], report["context"], report["load"]
    lines = [
        "# Bench report %s" % r["id"],
        "",
        "- Started %s, finished %s; harness %s, schema %s" % (r["started"], r["finished"], r["harness_version"], report["schema_version"]),
        "- Endpoint `%s`, model `%s`, API %s" % (c["endpoint"], c["model"], c["api"]),
        "- Engine %s %s; GPU %s; platform %s"
        % (c.get("engine_version") or "unknown", c.get("engine_args") or "", c.get("gpu_type") or "unknown", c.get("platform_version")),
        "- Served models: %s; engine config (Prometheus `vllm:cache_config_info`): %s"
        % (json.dumps(c.get("served_models") or []), json.dumps(c.get("engine_config") or [])),
        "- Load: profile %s, arrival %s, %s s per step (at most %s requests), seed %s, dataset %s"
        % (
            ld["profile"],
            ld["arrival"],
            ld["duration_s"],
            ld.get("max_requests_per_step"),
            ld["seed"],
            json.dumps(ld["dataset"], sort_keys=True),
        ),
        "- Warm-up: %s (excluded from results)" % json.dumps(ld.get("warmup")),
        "- SLOs: %s; GPU cost %s USD/h x %s"
        % (json.dumps(report["slo"]), report["cost"].get("gpu_cost_per_hour"), report["cost"].get("gpus")),
        "- Prometheus: %s%s"
        % (
            report["prometheus"].get("status"),
            (" - **" + report["prometheus"]["error"] + "**") if report["prometheus"].get("error") else "",
        ),
        "",
        "## Client results",
        "",
        "| step | offered | req/s | out tok/s | TTFT p50/p95/p99 ms | TPOT p50/p95 ms | ITL p50/p95 ms | "
        "E2E p50/p95 ms | errors | goodput req/s | $/1k req | $/1M out tok |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in report["steps"]:
        cl = s["client"]
        lat = cl["latency_ms"]

        def pp(m, keys=("p50", "p95", "p99"), lat=lat):
            st = lat.get(m)
            return "/".join(_f(st[k]) for k in keys) if st else "-"

        cost = cl.get("cost_usd") or {}
        errs = ", ".join("%s %d" % kv for kv in cl["errors"].items()) or "0"
        lines.append(
            "| %d %s | %s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
            % (
                s["index"],
                s["label"],
                _f(s["offered"], 2),
                "c" if s["mode"] == "concurrency" else "req/s",
                _f(cl["request_throughput"], 2),
                _f(cl["output_token_throughput"], 0),
                pp("ttft"),
                pp("tpot", ("p50", "p95")),
                pp("itl", ("p50", "p95")),
                pp("e2e", ("p50", "p95")),
                errs,
                _f(cl["goodput"]["requests_per_s"], 2),
                _f(cost.get("per_1k_requests"), 4),
                _f(cost.get("per_1m_output_tokens"), 3),
            )
        )
    lines += ["", "## SLO checks", "", "| step | " + " | ".join(report["slo"]) + " |", "|---|" + "---|" * len(report["slo"])]
    for s in report["steps"]:
        cells = []
        for k in report["slo"]:
            ch = s["client"]["slo"].get(k) or {}
            cells.append("%s %s" % ("pass" if ch.get("pass") else "FAIL", _f(ch.get("value_ms"))))
        lines.append("| %d %s | %s |" % (s["index"], s["label"], " | ".join(cells)))
    lines += [
        "",
        "## Server metrics per step (Prometheus, over each step's window)",
        "",
        "Gauges show mean / max over the window; `absent` = no series under any known name (never read as 0).",
        "",
        "| step | running | waiting | KV usage | prefix hit rate | server TTFT p50/p99 ms | server ITL p50/p99 ms | "
        "GPU util % | GPU FB MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in report["steps"]:
        srv = s["server"]

        def hq(key, srv=srv):
            if srv.get("status") != "ok":
                return "n/a"
            m = srv.get(key) or {}
            if m.get("status") != "ok":
                return m.get("status", "n/a")
            q = m["quantiles_ms"]
            return "%s/%s" % (_f(q.get("p50")), _f(q.get("p99")))

        lines.append(
            "| %d %s | %s | %s | %s | %s | %s | %s | %s | %s |"
            % (
                s["index"],
                s["label"],
                _server_cell(srv, "num_requests_running"),
                _server_cell(srv, "num_requests_waiting"),
                _server_cell(srv, "kv_cache_usage", nd=3),
                _server_cell(srv, "prefix_cache_hit_rate", "value", 3),
                hq("server_ttft"),
                hq("server_itl"),
                _server_cell(srv, "gpu_util"),
                _server_cell(srv, "gpu_fb_used", nd=0),
            )
        )
    div = []
    for s in report["steps"]:
        for metric, c in (s.get("cross_check") or {}).items():
            if c.get("diverges"):
                div.append(
                    "step %d %s: client p50 %s ms vs server p50 %s ms"
                    % (s["index"], metric.upper(), _f(c["client_p50_ms"]), _f(c["server_p50_ms"]))
                )
    if div:
        lines += [
            "",
            "Client vs server medians diverge by more than 25 % (time outside the engine's clock, e.g. "
            "queueing, proxy, network, or histogram buckets too coarse): " + "; ".join(div),
        ]
    absent = sorted(
        {k for s in report["steps"] for k, m in (s["server"] or {}).items() if isinstance(m, dict) and m.get("status") == "absent"}
    )
    if absent:
        lines += [
            "",
            "Absent metrics (no series in the window): "
            + ", ".join("%s (tried %s)" % (k, ", ".join(METRICS[k].get("names") or METRICS[k].get("numerator", []))) for k in absent),
        ]
    lines += ["", "## Formulas", ""] + ["- **%s**: %s" % kv for kv in report["formulas"].items()]
    if report.get("plots"):
        lines += ["", "## Plots", ""] + ["![%s](%s)" % (os.path.splitext(p)[0], p) for p in report["plots"]]
    return "\n".join(lines) + "\n"


def _short_label(step: dict) -> str:
    """Offered load of a step: c=N (closed loop) or R req/s (open loop)."""
    if step["mode"] == "concurrency":
        return "c=%d" % step["offered"]
    return "%.3g req/s" % step["offered"]


def plots(report: dict, out_dir: str) -> list[str]:
    """PNG plots; [] when matplotlib is not installed (the report says so)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made = []
    steps = sorted(report["steps"], key=lambda s: s["client"]["request_throughput"])
    x = [s["client"]["request_throughput"] for s in steps]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, metric in zip(axes, ("ttft", "itl", "e2e"), strict=True):
        for p in ("p50", "p90", "p95", "p99"):
            y = [(s["client"]["latency_ms"].get(metric) or {}).get(p) for s in steps]
            ax.plot(x, [v if v is not None else float("nan") for v in y], marker="o", label=p)
        lim = next((v for k, v in report["slo"].items() if k.startswith(metric + "_")), None)
        if lim:
            ax.axhline(lim, color="red", linestyle="--", linewidth=1, label="SLO")
        ax.set_xlabel("achieved requests/s")
        ax.set_ylabel("%s (ms)" % metric.upper())
        ax.set_title("%s percentiles vs throughput" % metric.upper())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "latency_vs_throughput.png"), dpi=90)
    plt.close(fig)
    made.append("latency_vs_throughput.png")
    if report["prometheus"].get("status") == "ok":
        keys = [
            ("num_requests_waiting", "queue depth (waiting)"),
            ("num_requests_running", "running"),
            ("kv_cache_usage", "KV-cache usage (0-1)"),
            ("gpu_util", "GPU util (%)"),
        ]
        fig, axes = plt.subplots(len(keys), 1, figsize=(12, 2.3 * len(keys)), sharex=True)
        t0 = report["steps"][0]["window"]["start"] if report["steps"] else 0
        for ax, (key, title) in zip(axes, keys, strict=True):
            absent = True
            for s in report["steps"]:
                m = (s.get("server") or {}).get(key) or {}
                off = s["window"]["start"] - t0
                ax.axvspan(off, s["window"]["end"] - t0, alpha=0.06, color="gray")
                if m.get("samples"):
                    absent = False
                    ax.plot([off + t for t, _v in m["samples"]], [v for _t, v in m["samples"]], color="C0")
                ax.text(off, 1.0, _short_label(s), transform=ax.get_xaxis_transform(), fontsize=7, va="bottom")
            ax.set_ylabel(title, fontsize=8)
            if absent:
                ax.text(0.5, 0.5, "%s: absent (no series)" % key, transform=ax.transAxes, ha="center", color="red")
            ax.grid(alpha=0.3)
        axes[-1].set_xlabel("seconds since first step (shaded: load steps, labelled with offered load)")
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "server_timeseries.png"), dpi=90)
        plt.close(fig)
        made.append("server_timeseries.png")
    return made


PLOTS_ON_HOST = "plots are rendered on the control host from this report (python -m bench render)"


def _set_plots(report: dict, run_dir: str, make_plots: bool = True):
    if make_plots:
        report["plots"] = plots(report, run_dir)
        report.pop("plots_note", None)
        if not report["plots"]:
            report["plots_note"] = "matplotlib not installed: no PNG plots"
    else:
        report["plots"] = []
        report["plots_note"] = PLOTS_ON_HOST


def render(report_path: str, out_dir: str | None = None) -> list[str]:
    """report.md and the PNG plots from an existing report.json (e.g. one an in-cluster Job
    uploaded). The plots are drawn into ``out_dir`` (default: beside the report) and the report's
    ``plots`` list is updated to match; returns the files written."""
    with open(report_path, encoding="utf-8") as fh:
        report = json.load(fh)
    errs = schema_errors(report)
    if errs:
        raise ValueError("%s does not match its schema: %s" % (report_path, "; ".join(errs[:5])))
    out_dir = out_dir or os.path.dirname(os.path.abspath(report_path))
    os.makedirs(out_dir, exist_ok=True)
    before = (report.get("plots"), report.get("plots_note"))
    _set_plots(report, out_dir)
    written = list(report["plots"])
    out_report = os.path.join(out_dir, "report.json")
    if (report.get("plots"), report.get("plots_note")) != before or not os.path.exists(out_report):
        with open(out_report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1, sort_keys=False)
        written.append("report.json")
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as fh:
        fh.write(markdown(report))
    written.append("report.md")
    return written


def write_all(report: dict, steps, run_dir: str, save_requests: bool = True, make_plots: bool = True):
    os.makedirs(run_dir, exist_ok=True)
    _set_plots(report, run_dir, make_plots)
    errs = schema_errors(report)
    if errs:
        raise AssertionError("report does not match its schema: %s" % errs[:5])
    with open(os.path.join(run_dir, "report.json"), "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, sort_keys=False)
    with open(os.path.join(run_dir, "report.md"), "w", encoding="utf-8") as fh:
        fh.write(markdown(report))
    if save_requests and steps:
        with open(os.path.join(run_dir, "requests.jsonl"), "w", encoding="utf-8") as fh:
            for s in steps:
                for r in s.results:
                    fh.write(json.dumps(r.as_dict()) + "\n")
