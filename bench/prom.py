"""Prometheus queries over exactly one load step's wall-clock window.

Gauges: ``query_range`` of ``<agg>(<name>)`` from step start to step end (resolution ``step_s``),
reported as samples plus mean/max/min. Counter ratios (prefix-cache hit rate):
``sum(increase(num[W])) / sum(increase(den[W]))`` evaluated at the step end, W = step length.
Histograms: ``histogram_quantile(q, sum by (le) (rate(<name>_bucket[W])))`` at the step end.
Every logical metric is resolved to the first candidate name in bench/names.py with series in
the window; none -> ``{"status": "absent"}`` (never zero).
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request

from .names import HISTOGRAM_QUANTILES, METRICS


class PromError(RuntimeError):
    pass


class Prom:
    def __init__(self, url: str, timeout_s: float = 5.0):
        self.url = url.rstrip("/")
        self.timeout = timeout_s

    def _get(self, path: str, params: list[tuple[str, str]]):
        full = "%s%s?%s" % (self.url, path, urllib.parse.urlencode(params))
        try:
            with urllib.request.urlopen(full, timeout=self.timeout) as resp:  # noqa: S310 (http(s) URL from config)
                body = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise PromError("Prometheus %s answered HTTP %d: %s" % (self.url, exc.code, detail)) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PromError("Prometheus at %s did not answer (%s)" % (self.url, reason)) from exc
        if body.get("status") != "success":
            raise PromError("Prometheus query failed: %s" % body.get("error"))
        return body["data"]

    def ping(self):
        self._get("/api/v1/query", [("query", "1")])

    def has_series(self, name: str, start: float, end: float) -> bool:
        data = self._get("/api/v1/series", [("match[]", '{__name__="%s"}' % name), ("start", "%.3f" % start), ("end", "%.3f" % end)])
        return bool(data)

    def resolve(self, names: list[str], start: float, end: float, suffix: str = "") -> str | None:
        for n in names:
            if self.has_series(n + suffix, start, end):
                return n
        return None

    def instant(self, query: str, at: float) -> float | None:
        data = self._get("/api/v1/query", [("query", query), ("time", "%.3f" % at)])
        res = data.get("result") or []
        if not res:
            return None
        v = float(res[0]["value"][1])
        return None if math.isnan(v) or math.isinf(v) else v

    def series(self, query: str, start: float, end: float, step_s: float) -> list[tuple[float, float]]:
        data = self._get(
            "/api/v1/query_range", [("query", query), ("start", "%.3f" % start), ("end", "%.3f" % end), ("step", "%g" % step_s)]
        )
        res = data.get("result") or []
        return [(float(t), float(v)) for t, v in res[0]["values"]] if res else []

    def labels(self, name: str, start: float, end: float) -> list[dict]:
        return self._get("/api/v1/series", [("match[]", name), ("start", "%.3f" % start), ("end", "%.3f" % end)])


def window_metrics(prom: Prom, start: float, end: float, step_s: float = 1.0) -> dict:
    """All logical metrics of bench/names.py over [start, end] (unix seconds)."""
    w = max(1, math.ceil(end - start))
    out: dict = {"status": "ok"}
    for key, spec in METRICS.items():
        kind = spec["kind"]
        if kind == "gauge":
            name = prom.resolve(spec["names"], start, end)
            if name is None:
                out[key] = {"status": "absent", "tried": spec["names"], "unit": spec["unit"]}
                continue
            q = "%s(%s)" % (spec["agg"], name)
            pts = prom.series(q, start, end, step_s)
            vals = [v for _t, v in pts if not math.isnan(v)]
            out[key] = {
                "status": "ok" if vals else "no_data",
                "resolved_name": name,
                "query": q,
                "unit": spec["unit"],
                "mean": round(sum(vals) / len(vals), 6) if vals else None,
                "max": max(vals) if vals else None,
                "min": min(vals) if vals else None,
                "samples": [[round(t - start, 3), v] for t, v in pts],
            }
        elif kind == "counter_ratio":
            num = prom.resolve(spec["numerator"], start, end)
            den = prom.resolve(spec["denominator"], start, end)
            if num is None or den is None:
                out[key] = {"status": "absent", "tried": spec["numerator"] + spec["denominator"], "unit": spec["unit"]}
                continue
            q = "sum(increase(%s[%ds])) / sum(increase(%s[%ds]))" % (num, w, den, w)
            v = prom.instant(q, end)
            out[key] = {
                "status": "ok" if v is not None else "no_data",
                "resolved_name": [num, den],
                "query": q,
                "value": v,
                "unit": spec["unit"],
            }
        elif kind == "histogram":
            name = prom.resolve(spec["names"], start, end, suffix="_bucket")
            if name is None:
                out[key] = {"status": "absent", "tried": spec["names"], "unit": spec["unit"]}
                continue
            qs = {}
            for q in HISTOGRAM_QUANTILES:
                query = "histogram_quantile(%g, sum by (le) (rate(%s_bucket[%ds])))" % (q, name, w)
                v = prom.instant(query, end)
                qs["p%d" % round(q * 100)] = None if v is None else round(v * 1000, 4)
            mean_q = "sum(rate(%s_sum[%ds])) / sum(rate(%s_count[%ds]))" % (name, w, name, w)
            m = prom.instant(mean_q, end)
            out[key] = {
                "status": "ok" if any(v is not None for v in qs.values()) else "no_data",
                "resolved_name": name,
                "unit": "ms",
                "quantiles_ms": qs,
                "mean_ms": None if m is None else round(m * 1000, 4),
                "query": "histogram_quantile(q, sum by (le) (rate(%s_bucket[%ds])))" % (name, w),
            }
    return out


def gpu_context(prom: Prom, start: float, end: float) -> dict:
    """GPU model and driver from DCGM labels, when DCGM is scraped; else absent."""
    try:
        series = prom.labels("DCGM_FI_DEV_GPU_UTIL", start, end)
    except PromError:
        return {"status": "error"}
    if not series:
        return {"status": "absent"}
    models = sorted({s.get("modelName", "?") for s in series})
    return {
        "status": "ok",
        "models": models,
        "gpus": len(series),
        "driver": sorted({s.get("DCGM_FI_DRIVER_VERSION", "") for s in series} - {""}),
    }
