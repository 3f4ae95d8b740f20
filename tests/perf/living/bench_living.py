#!/usr/bin/env python3
"""Living-lab benchmark: prints the figures of the living lab (issue 18).

  python tests/perf/living/bench_living.py [--lab NAME --port PORT] [--start] [--cold-build TIER]

Figures:
  build logs      the wall time of each component's last build, from lab/build.sh's timings
                  (printed by --cold-build TIER: lab/build.sh of that tier's targets into a
                  scratch LLM_PLATFORM_CACHE, timed; `core` ~ the CI tier, `full` = make lab)
  start           with --start [--profile P]: substrate (lab + runtime + git daemon) then
                  secrets.yml and platform.yml at profile P (default full) on a stopped lab, to
                  every automated Application Synced and Healthy (platform_apps waits for it),
                  in seconds per step
  RSS             resident memory of every backed pod's processes (from the runtime's state and
                  /proc), summed per namespace, and of the runtime itself
  pods            backed and simulated pod counts
Needs root (ip netns). Everything is loopback. The lab is left running.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llm-platform")
TIERS = {
    "core": ["lab", "living", "external-secrets", "gateway-api-inference-extension", "envoy", "crds"],
    "full": [],
}


def _rss_kib(pid: int) -> int:
    """VmRSS of pid and its descendants (a container's processes), in KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/status" % p, encoding="ascii") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
            with open("/proc/%d/task/%d/children" % (p, p), encoding="ascii") as handle:
                todo += [int(c) for c in handle.read().split()]
        except (OSError, ValueError):
            continue
    return total


def rss(lab: str) -> None:
    with open(os.path.join(CACHE, "lab", lab, "runtime", "state.json"), encoding="utf-8") as handle:
        state = json.load(handle)
    per_ns: dict[str, int] = {}
    for pod in state["backed"]:
        for c in pod["containers"].values():
            if c.get("pid"):
                per_ns[pod["namespace"]] = per_ns.get(pod["namespace"], 0) + _rss_kib(c["pid"])
    print("pods: %d backed, %d simulated" % (len(state["backed"]), len(state["simulated"])))
    for ns, kib in sorted(per_ns.items(), key=lambda kv: -kv[1]):
        print("RSS %-22s %7.0f MiB" % (ns, kib / 1024))
    print("RSS %-22s %7.0f MiB" % ("all backed pods", sum(per_ns.values()) / 1024))
    with open("/proc/%d/status" % state["pid"], encoding="ascii") as handle:
        own = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
    print("RSS %-22s %7.0f MiB" % ("the runtime", own / 1024))


def playbook(path: str, extra: list[str]) -> float:
    t0 = time.monotonic()
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run(
        [exe, "-i", os.path.join(REPO, "inventories", "lab"), path, *extra], cwd=REPO, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s" % (path, proc.stdout[-4000:]))
    return time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lab", default="lab")
    ap.add_argument("--port", type=int, default=16443)
    ap.add_argument("--start", action="store_true")
    ap.add_argument("--profile", default="full", help="platform_profile of the --start converge (default full)")
    ap.add_argument("--cold-build", choices=sorted(TIERS))
    args = ap.parse_args()
    if args.cold_build:
        scratch = tempfile.mkdtemp(prefix="llmp-cold-")
        t0 = time.monotonic()
        env = dict(os.environ, LLM_PLATFORM_CACHE=scratch)
        subprocess.run([os.path.join(REPO, "lab", "build.sh"), *TIERS[args.cold_build]], env=env, check=True)
        print("cold build (%s tier): %.0f s (scratch cache %s)" % (args.cold_build, time.monotonic() - t0, scratch))
    extra = []
    if (args.lab, args.port) != ("lab", 16443):
        kubeconfig = os.path.join(CACHE, "lab", args.lab, "kubeconfig")
        extra = [
            "-e",
            json.dumps(
                {
                    "substrate_lab_name": args.lab,
                    "substrate_lab_apiserver_port": args.port,
                    "substrate_lab_kubeconfig": kubeconfig,
                    "kubeconfig_path": kubeconfig,
                }
            ),
        ]
    if args.start:
        playbook(os.path.join(REPO, "molecule", "default", "destroy.yml"), extra)
        extra = [*extra, "-e", json.dumps({"platform_profile": args.profile})]
        steps = [
            ("substrate", "playbooks/substrate.yml"),
            ("secrets", "playbooks/secrets.yml"),
            ("platform (to all Synced/Healthy)", "playbooks/platform.yml"),
        ]
        total = 0.0
        for what, path in steps:
            took = playbook(os.path.join(REPO, path), extra)
            total += took
            print("start %-34s %6.0f s" % (what, took))
        print("start %-34s %6.0f s (profile %s, warm cache)" % ("total", total, args.profile))
    rss(args.lab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
