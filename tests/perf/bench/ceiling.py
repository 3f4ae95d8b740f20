"""Figure: the bench harness's own ceiling on this machine (2 cores) against llm-d-inference-sim
at near-zero latency, side by side with GuideLLM 0.8.1 in the same run.

    sudo-free root shell:  $(scripts/venv.sh)/bin/python tests/perf/bench/ceiling.py

Setup: one simulator (TTFT 0, inter-token latency 0, max-num-seqs 1024, dummy tokenizer) in a
private network namespace; open loop at constant rates, 8 output tokens, 16-word prompts,
``--seconds`` per rate (default 5). Both tools run against the same simulator, one after the
other, at the same rates.

Definitions (the same for both tools, from each tool's own per-request timings):
- dispatch delay = actual send - scheduled send (ours: ``dispatch_lag``; GuideLLM:
  ``request_dispatch_delay``).
- client latency = dispatch delay + request latency (ours: E2E to the last token chunk;
  GuideLLM: ``request_latency``); its median at the lowest rate is the tool's baseline.
- client overhead at rate R = median client latency at R - baseline: the time the client adds
  per request as the rate grows (event-loop / worker queueing; the simulator shares the 2 cores
  and its own slowdown counts against both tools alike).
- a rate is *sustained* when completed requests/s >= 95 % of R, no request failed, and the
  client overhead < 1 ms. The figure is the highest sustained rate of each tool.
Absolute baselines are printed as well (a tool with a high fixed dispatch delay shows it there).
Bounded: at most ``rate x seconds`` requests per step, all on the namespace's loopback."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "bench"))

import benchkit  # noqa: E402

SIM_PORT = 18100


def ours(ns, workdir, rates, seconds, python) -> list[dict]:
    out = []
    r = ns.run(
        [
            python,
            "-m",
            "bench",
            "run",
            "--endpoint",
            "http://127.0.0.1:%d/v1" % SIM_PORT,
            "--model",
            "bench-model",
            "--profile",
            "rate",
            "--rates",
            ",".join(str(x) for x in rates),
            "--arrival",
            "constant",
            "--duration",
            str(seconds),
            "--max-requests",
            str(int(max(rates) * seconds) + 10),
            "--output-tokens",
            "8",
            "--input-tokens",
            "16",
            "--warmup",
            "50",
            "--cooldown",
            "1",
            "--no-requests",
            "--reports-dir",
            os.path.join(workdir, "reports"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-3000:])
    report = benchkit.read_json(json.loads(r.stdout.strip().splitlines()[-1])["report"])
    for s in report["steps"]:
        c = s["client"]
        lag = (c.get("dispatch_lag_ms") or {}).get("p50") or 0.0
        e2e = (c["latency_ms"]["e2e"] or {}).get("p50") or float("nan")
        out.append(
            {
                "rate": s["offered"],
                "achieved": c["request_throughput"],
                "failed": c["requests"]["failed"],
                "dispatch_ms": lag,
                "latency_ms": lag + e2e,
                "cpu_ms_per_req": c.get("client_cpu_ms_per_request"),
            }
        )
    out.append({"event_loop": report["run"].get("event_loop")})
    return out


def guidellm(ns, workdir, rates, seconds) -> list[dict]:
    out = []
    gl = benchkit.run_guidellm(
        ns,
        workdir,
        "http://127.0.0.1:%d" % SIM_PORT,
        "bench-model",
        "kind=constant,rate=%g" % rates[0],
        seconds,
        16,
        8,
        name="gl-ceiling",
        extra=["--override", "profile.rate", ",".join("%g" % x for x in rates)],
    )
    for b in gl["benchmarks"]:
        m = b["metrics"]
        tot = m["request_totals"]
        dur = b["duration"] or seconds
        disp = (m["request_dispatch_delay"]["successful"].get("median") or 0.0) * 1000
        lat = (m["request_latency"]["successful"].get("median") or float("nan")) * 1000
        out.append(
            {
                "rate": b["config"]["strategy"]["rate"],
                "achieved": tot["successful"] / dur,
                "failed": tot["errored"] + tot["incomplete"],
                "dispatch_ms": disp,
                "latency_ms": disp + lat,
            }
        )
    return out


def judge(rows: list[dict]) -> tuple[float, list[dict]]:
    steps = [r for r in rows if "rate" in r]
    base = steps[0]["latency_ms"]
    best = 0.0
    for r in steps:
        r["overhead_ms"] = r["latency_ms"] - base
        r["sustained"] = r["achieved"] >= 0.95 * r["rate"] and r["failed"] == 0 and r["overhead_ms"] < 1.0
        if r["sustained"]:
            best = max(best, r["rate"])
    return best, steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="10,100,200,400,600,800,1000,1200,1500")
    ap.add_argument("--guidellm-rates", default="10,20,35,50,75,100,200")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--python", default=sys.executable, help="Python that runs the harness")
    ap.add_argument("--skip-guidellm", action="store_true")
    ap.add_argument("--json", help="also write the figure here")
    args = ap.parse_args(argv)
    rates = [float(x) for x in args.rates.split(",")]
    gl_rates = [float(x) for x in args.guidellm_rates.split(",")]
    workdir = tempfile.mkdtemp(prefix="bench-ceiling-")
    os.chmod(workdir, 0o755)  # noqa: S103
    t0 = time.time()
    with benchkit.Netns() as ns:
        sim = benchkit.start_sim(ns, SIM_PORT, workdir, ttft="0ms", itl="0ms", max_num_seqs=1024)
        try:
            o = ours(ns, workdir, rates, args.seconds, args.python)
            g = [] if args.skip_guidellm else guidellm(ns, workdir, gl_rates, args.seconds)
        finally:
            sim.stop()
    loop = next((r["event_loop"] for r in o if "event_loop" in r), "?")
    o_best, o_steps = judge(o)
    g_best, g_steps = judge(g) if g else (None, [])
    print(
        "\nHarness ceiling against llm-d-inference-sim (TTFT 0, ITL 0), %d cores, load avg %.1f, %.0f s"
        % (os.cpu_count(), os.getloadavg()[0], time.time() - t0)
    )
    print("sustained = achieved >= 95% of offered, 0 errors, client overhead < 1 ms (see module doc)\n")
    for name, steps in (("bench (%s)" % loop, o_steps), ("GuideLLM 0.8.1", g_steps)):
        if not steps:
            continue
        print(
            "%-22s %9s %9s %9s %11s %11s %6s %s"
            % (name, "offered", "achieved", "dispatch", "latency p50", "overhead", "errors", "sustained")
        )
        for r in steps:
            print(
                "%-22s %9.0f %9.1f %8.2fms %9.2fms %9.2fms %6d %s%s"
                % (
                    "",
                    r["rate"],
                    r["achieved"],
                    r["dispatch_ms"],
                    r["latency_ms"],
                    r["overhead_ms"],
                    r["failed"],
                    "yes" if r["sustained"] else "no",
                    "  (client CPU %.3f ms/req)" % r["cpu_ms_per_req"] if r.get("cpu_ms_per_req") else "",
                )
            )
        print()
    print("FIGURE bench harness ceiling: %.0f req/s" % o_best)
    if g_best is not None:
        print("FIGURE GuideLLM ceiling:      %.0f req/s" % g_best)
        print(
            "FIGURE ratio bench / GuideLLM: %s" % ("%.1fx" % (o_best / g_best) if g_best else "inf (GuideLLM sustained none of its rates)")
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {"bench": {"ceiling": o_best, "steps": o_steps, "event_loop": loop}, "guidellm": {"ceiling": g_best, "steps": g_steps}},
                fh,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
