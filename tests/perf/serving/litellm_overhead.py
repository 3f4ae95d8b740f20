"""LiteLLM's added latency over the direct simulator path, p50 and p99 at concurrency 1 and 32,
measured side by side in one run.

    ip netns is used (root): python tests/perf/serving/litellm_overhead.py [--requests-c1 200] [--requests-c32 640]

Both paths hit the same llm-d-inference-sim (zero simulated TTFT/ITL, so the figure is the
proxy's own cost) in a loopback-only namespace; the LiteLLM path is the real proxy 1.108.7 on
PostgreSQL, configured from the generated model_list, called with a budgeted virtual key (auth,
budget check and spend logging all on the path). For each concurrency the two paths alternate in
rounds (direct, litellm, direct, litellm) after a warm-up, so drift hits both alike."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "serving"))
sys.path.insert(0, os.path.join(REPO, "tests", "unit", "serving"))
sys.path.insert(0, os.path.join(REPO, "collections"))

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_AnsibleCollectionFinder(paths=[os.path.join(REPO, "collections")], scan_sys_paths=True)._install()

import servingkit  # noqa: E402


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def load(ns, url, model, key, concurrency, requests, max_seconds, max_tokens):
    arg = json.dumps(
        {
            "url": url,
            "model": model,
            "key": key,
            "concurrency": concurrency,
            "requests": requests,
            "max_seconds": max_seconds,
            "max_tokens": max_tokens,
        }
    )
    out = ns.run([sys.executable, os.path.join(HERE, "loadclient.py"), arg], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests-c1", type=int, default=200, help="requests per path at concurrency 1")
    ap.add_argument("--requests-c32", type=int, default=640, help="requests per path at concurrency 32")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds per path")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--max-seconds", type=float, default=120, help="wall-clock bound of one round")
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()

    load_before = os.getloadavg()
    models = servingkit.load_models()
    stable = models[0]
    results = {}
    with servingkit.request_path(models, sim_kwargs={"max_num_seqs": 128}) as (ns, sim_url, proxy):
        key = proxy.mint(stable["name"], 1000.0, "bench-overhead")
        paths = {
            "direct": (sim_url + "/v1/chat/completions", stable["served_name"], "sk-direct"),
            "litellm": (proxy.url + "/v1/chat/completions", stable["name"], key),
        }
        for url, model, k in paths.values():  # warm-up (connections, caches, JIT paths)
            load(ns, url, model, k, 4, 40, a.max_seconds, a.max_tokens)
        for conc, total in ((1, a.requests_c1), (32, a.requests_c32)):
            lat = {"direct": [], "litellm": []}
            errors = {"direct": 0, "litellm": 0}
            seconds = {"direct": 0.0, "litellm": 0.0}
            per_round = max(1, total // a.rounds)
            for _ in range(a.rounds):
                for name, (url, model, k) in paths.items():
                    r = load(ns, url, model, k, conc, per_round, a.max_seconds, a.max_tokens)
                    lat[name] += r["latencies_ms"]
                    errors[name] += r["errors"]
                    seconds[name] += r["seconds"]
            results[conc] = {
                name: {
                    "n": len(v),
                    "errors": errors[name],
                    "p50_ms": pct(v, 50),
                    "p99_ms": pct(v, 99),
                    "mean_ms": statistics.fmean(v) if v else float("nan"),
                    "req_per_s": len(v) / seconds[name] if seconds[name] else 0,
                }
                for name, v in lat.items()
            }
    print(
        "machine: %d cores, load average %.1f before / %.1f after (other work on the machine inflates the LiteLLM path most)"
        % (os.cpu_count() or 0, load_before[0], os.getloadavg()[0])
    )
    print("LiteLLM added latency over the direct llm-d-inference-sim path (ms; sim TTFT/ITL = 0, max_tokens=%d)" % a.max_tokens)
    print("%-5s | %-8s | %7s %7s | %8s %8s | %7s %7s | %6s" % ("conc", "path", "p50", "p99", "req/s", "errors", "+p50", "+p99", "n"))
    for conc, r in results.items():
        d, li = r["direct"], r["litellm"]
        for name, x in (("direct", d), ("litellm", li)):
            add50 = li["p50_ms"] - d["p50_ms"] if name == "litellm" else 0.0
            add99 = li["p99_ms"] - d["p99_ms"] if name == "litellm" else 0.0
            print(
                "%-5d | %-8s | %7.1f %7.1f | %8.1f %8d | %7s %7s | %6d"
                % (
                    conc,
                    name,
                    x["p50_ms"],
                    x["p99_ms"],
                    x["req_per_s"],
                    x["errors"],
                    "%.1f" % add50 if name == "litellm" else "-",
                    "%.1f" % add99 if name == "litellm" else "-",
                    x["n"],
                )
            )
    for conc, r in results.items():
        print(
            "ADDED c=%d: p50 %+.1f ms, p99 %+.1f ms"
            % (conc, r["litellm"]["p50_ms"] - r["direct"]["p50_ms"], r["litellm"]["p99_ms"] - r["direct"]["p99_ms"])
        )
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
