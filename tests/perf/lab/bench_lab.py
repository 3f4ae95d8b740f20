#!/usr/bin/env python3
"""Lab substrate benchmark: prints the figures of issue 3.

  python tests/perf/lab/bench_lab.py [--cold-build] [--gpu-nodes 100] [--pods 1000]

Figures (seconds unless noted):
  cold build      lab/build.sh from an empty cache (a scratch LLM_PLATFORM_CACHE; only with
                  --cold-build: ~15-25 min on 2 cores)
  warm build      lab/build.sh with everything cached (verification only)
  warm start      substrate_lab present from a stopped lab to the API server Ready (role run
                  with CRDs off; the binaries are cached)
  stop            substrate_lab absent
  full start      substrate_lab present with the fleet and every CRD installed
  RSS             summed resident memory of every lab process (netns + bridges), CRDs installed
  scale           100 GPU nodes Ready, then 1000 pods (one Deployment, tolerating the GPU taint)
                  scheduled by the real scheduler and Running via kwok
The lab is left running (started) at the end. Needs root (ip netns). Everything is loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# The benchmark stops and starts its lab: by default it uses its own lab ("bench", port 16543)
# so the shared lab of the inventory is left alone. Set LLM_PLATFORM_LAB_NAME=lab to measure that.
os.environ.setdefault("LLM_PLATFORM_LAB_NAME", "bench")
if os.environ["LLM_PLATFORM_LAB_NAME"] != "lab":
    os.environ.setdefault("LLM_PLATFORM_LAB_PORT", "16543")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration", "lab"))

import labkit

BUILD = os.path.join(labkit.REPO_ROOT, "lab", "build.sh")


def timed(fn):
    start = time.monotonic()
    result = fn()
    return time.monotonic() - start, result


def playbook(path, *extra):
    proc = labkit.ansible_playbook(path, *extra)
    if proc.returncode != 0:
        sys.exit(f"ansible-playbook {path} failed:\n{proc.stdout[-4000:]}")
    return proc


def lab_rss_mib() -> float:
    pids = subprocess.run(["ip", "netns", "pids", labkit.NETNS], capture_output=True, text=True,
                          check=False).stdout.split()
    for name in ("bridge-host.pid",):
        path = os.path.join(labkit.CACHE, "lab", labkit.LAB_NAME, name)
        if os.path.exists(path):
            with open(path, encoding="ascii") as fh:
                pids.append(fh.read().strip())
    total_kib = 0
    for pid in set(pids):
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
        except OSError:
            pass
    return total_kib / 1024


def scale(gpu_nodes: int, pods: int) -> tuple[float, float]:
    ns = labkit.unique("bench")
    nodes = []
    for i in range(gpu_nodes):
        name = f"bench-gpu-{i}"
        nodes.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"kubernetes.io/hostname": name, "type": "kwok", "llm-platform.io/bench": "true",
                                    "cloud.google.com/gke-nodepool": "bench-gpu",
                                    "cloud.google.com/gke-accelerator": "nvidia-l4"}},
            "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
            "status": {"capacity": {"cpu": "48", "memory": "192Gi", "pods": "110", "nvidia.com/gpu": "8"},
                       "allocatable": {"cpu": "48", "memory": "192Gi", "pods": "110", "nvidia.com/gpu": "8"}},
        })
    try:
        start = time.monotonic()
        labkit.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": nodes}),
                       timeout=600)
        labkit.kubectl("wait", "--for=condition=Ready", "node", "-l", "llm-platform.io/bench=true",
                       "--timeout=600s", timeout=700)
        nodes_s = time.monotonic() - start

        labkit.kubectl("create", "namespace", ns)
        deploy = {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bench", "namespace": ns},
            "spec": {"replicas": pods, "selector": {"matchLabels": {"app": "bench"}},
                     "template": {"metadata": {"labels": {"app": "bench"}}, "spec": {
                         "nodeSelector": {"llm-platform.io/bench": "true"},
                         "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                         "containers": [{"name": "c", "image": "registry.invalid/none:0",
                                         "resources": {"requests": {"cpu": "10m"}}}]}}},
        }
        start = time.monotonic()
        labkit.kubectl("apply", "-f", "-", input=json.dumps(deploy))

        def all_running():
            out = labkit.kubectl("get", "pods", "-n", ns, "--field-selector=status.phase=Running", "--no-headers",
                                 "-o", "name", timeout=120).stdout
            return len(out.split()) >= pods

        labkit.wait_for(all_running, 1200, interval=2, what=f"{pods} pods Running")
        pods_s = time.monotonic() - start
        return nodes_s, pods_s
    finally:
        labkit.kubectl("delete", "namespace", ns, "--wait=false", check=False, timeout=300)
        labkit.kubectl("delete", "node", "-l", "llm-platform.io/bench=true", "--wait=false", check=False,
                       timeout=300)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-build", action="store_true", help="also time a build from an empty cache")
    parser.add_argument("--gpu-nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=1000)
    args = parser.parse_args()
    figures = []

    if args.cold_build:
        scratch = tempfile.mkdtemp(prefix="lab-cold-")
        env = dict(os.environ, LLM_PLATFORM_CACHE=scratch, LAB_PYTHON=sys.executable)
        secs, proc = timed(lambda: subprocess.run([BUILD], env=env, capture_output=True, text=True, check=False))
        if proc.returncode != 0:
            sys.exit(f"cold build failed:\n{proc.stderr[-3000:]}")
        figures.append(("cold build (empty cache)", f"{secs:.1f} s"))
        print(proc.stderr.strip(), file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)

    env = dict(os.environ, LAB_PYTHON=sys.executable)
    secs, _ = timed(lambda: subprocess.run([BUILD], env=env, capture_output=True, text=True, check=True))
    figures.append(("warm build (all cached)", f"{secs:.1f} s"))

    playbook(labkit.DESTROY)
    secs, _ = timed(lambda: playbook(labkit.CREATE, "-e", "substrate_lab_crds=false",
                                     "-e", "substrate_lab_build=false"))
    figures.append(("warm start to Ready (control plane + fleet)", f"{secs:.1f} s"))
    secs, _ = timed(lambda: playbook(labkit.DESTROY))
    figures.append(("stop (absent)", f"{secs:.1f} s"))
    secs, _ = timed(lambda: playbook(labkit.CREATE))
    figures.append(("full start (fleet + all CRDs)", f"{secs:.1f} s"))
    secs, _ = timed(lambda: playbook(labkit.CREATE))
    figures.append(("re-run on a healthy lab (changed=0)", f"{secs:.1f} s"))
    figures.append(("lab RSS with all CRDs", f"{lab_rss_mib():.0f} MiB"))

    nodes_s, pods_s = scale(args.gpu_nodes, args.pods)
    figures.append((f"{args.gpu_nodes} GPU nodes Ready", f"{nodes_s:.1f} s"))
    figures.append((f"{args.pods} pods scheduled and Running", f"{pods_s:.1f} s"))
    figures.append(("lab RSS after the scale run", f"{lab_rss_mib():.0f} MiB"))

    width = max(len(k) for k, _ in figures)
    print("lab substrate figures (2 cores)")
    for k, v in figures:
        print(f"  {k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
