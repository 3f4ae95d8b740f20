"""Two runs side by side, step by step (matched by step index)."""

from __future__ import annotations

import json
import os


def _load(path: str) -> dict:
    if os.path.isdir(path):
        path = os.path.join(path, "report.json")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


ROWS = [
    ("req/s", ("request_throughput",)),
    ("out tok/s", ("output_token_throughput",)),
    ("TTFT p50 ms", ("latency_ms", "ttft", "p50")),
    ("TTFT p95 ms", ("latency_ms", "ttft", "p95")),
    ("TPOT p50 ms", ("latency_ms", "tpot", "p50")),
    ("ITL p50 ms", ("latency_ms", "itl", "p50")),
    ("ITL p95 ms", ("latency_ms", "itl", "p95")),
    ("E2E p95 ms", ("latency_ms", "e2e", "p95")),
    ("error rate", ("error_rate",)),
    ("goodput req/s", ("goodput", "requests_per_s")),
    ("$/1k req", ("cost_usd", "per_1k_requests")),
]


def _get(d, path):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def compare(a_path: str, b_path: str) -> str:
    a, b = _load(a_path), _load(b_path)
    out = ["# Compare %s (A) vs %s (B)" % (a["run"]["id"], b["run"]["id"]), "", "| | A | B |", "|---|---|---|"]
    for k in ("endpoint", "model", "engine_version", "gpu_type", "platform_version"):
        out.append("| %s | %s | %s |" % (k, a["context"].get(k), b["context"].get(k)))
    out.append("| profile | %s | %s |" % (a["load"]["profile"], b["load"]["profile"]))
    out += ["", "Delta = (B - A) / A.", ""]
    n = max(len(a["steps"]), len(b["steps"]))
    for i in range(n):
        sa = a["steps"][i] if i < len(a["steps"]) else None
        sb = b["steps"][i] if i < len(b["steps"]) else None
        out += [
            "## step %d: %s | %s" % (i, sa["label"] if sa else "-", sb["label"] if sb else "-"),
            "",
            "| metric | A | B | delta |",
            "|---|---|---|---|",
        ]
        for name, path in ROWS:
            va = _get(sa["client"], path) if sa else None
            vb = _get(sb["client"], path) if sb else None
            delta = "-"
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va:
                delta = "%+.1f%%" % ((vb - va) / va * 100)
            out.append("| %s | %s | %s | %s |" % (name, "-" if va is None else va, "-" if vb is None else vb, delta))
        for key in ("num_requests_waiting", "kv_cache_usage", "gpu_util"):
            ma = ((sa or {}).get("server") or {}).get(key) or {}
            mb = ((sb or {}).get("server") or {}).get(key) or {}
            out.append(
                "| server %s max | %s | %s | |" % (key, ma.get("max", ma.get("status", "n/a")), mb.get("max", mb.get("status", "n/a")))
            )
        out.append("")
    return "\n".join(out)
