#!/usr/bin/env python3
"""Applying one list of objects on the lab three ways, first run and no-op rerun: one
`kubernetes.core.k8s` task (server-side apply, a read before each patch), one
`llm.platform.k8s_apply` task, and `kubectl apply --server-side` (the floor, no Ansible).

    VENV=$(scripts/venv.sh)
    LLM_PLATFORM_LAB_NAME=wt17 LLM_PLATFORM_LAB_PORT=18443 \
      $VENV/bin/python tests/perf/platform/bench_k8s_apply.py [--configmaps 100] [--deployments 20] [--rounds 1]

Each way gets fresh namespaces of its own per round (a Namespace + ConfigMaps + Deployments +
Services), so every first run creates everything. Times include ansible-playbook start-up
(the same for both modules). Writes bench/reports/k8s-apply.json. Measured, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "lab"))

import labkit  # noqa: E402


def objects(ns, configmaps, deployments):
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
    for i in range(configmaps):
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": ns}, "data": {"i": str(i)}})
    for i in range(deployments):
        labels = {"app": f"web-{i}"}
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"web-{i}", "namespace": ns},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
                    },
                },
            }
        )
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"web-{i}", "namespace": ns},
                "spec": {"selector": labels, "ports": [{"port": 80}]},
            }
        )
    return out


TASKS = {
    "kubernetes.core.k8s": {
        "kubernetes.core.k8s": {
            "kubeconfig": "{{ kubeconfig }}",
            "apply": True,
            "server_side_apply": {"field_manager": "llm-platform", "force_conflicts": True},
            "definition": "{{ objs }}",
        }
    },
    "llm.platform.k8s_apply": {
        "llm.platform.k8s_apply": {"kubeconfig": "{{ kubeconfig }}", "force_conflicts": True, "objects": "{{ objs }}"}
    },
}


def playbook(way, objs, tmp):
    play = [{"name": way, "hosts": "localhost", "gather_facts": False, "tasks": [dict(name="apply", register="r", **TASKS[way])]}]
    path = os.path.join(tmp, "play.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(play, fh)
    with open(os.path.join(tmp, "vars.json"), "w", encoding="utf-8") as fh:
        json.dump({"objs": objs, "kubeconfig": labkit.KUBECONFIG}, fh)
    cmd = labkit.local_play_argv(path, os.path.join(tmp, "vars.json"))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{way} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    res = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return elapsed, bool(res.get("changed")), len(res.get("requests") or [])


def kubectl(objs, tmp):
    path = os.path.join(tmp, "list.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, fh)
    start = time.monotonic()
    labkit.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=llm-platform", "-f", path, timeout=1800)
    return time.monotonic() - start, None, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configmaps", type=int, default=100)
    parser.add_argument("--deployments", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not labkit.ready():
        raise SystemExit("the lab is not running (molecule/default/create.yml)")
    ways = [*TASKS, "kubectl --server-side"]
    runs = {w: {"first": [], "noop": [], "changed_noop": [], "requests": []} for w in ways}
    made = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.rounds):
                for way in ways:
                    ns = labkit.unique("bench-apply")
                    made.append(ns)
                    objs = objects(ns, args.configmaps, args.deployments)
                    run = kubectl if way.startswith("kubectl") else lambda o, t, w=way: playbook(w, o, t)
                    first = run(objs, tmp)
                    noop = run(objs, tmp)
                    runs[way]["first"].append(first[0])
                    runs[way]["noop"].append(noop[0])
                    runs[way]["changed_noop"].append(noop[1])
                    runs[way]["requests"].append((first[2], noop[2]))
    finally:
        for ns in made:
            labkit.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found", check=False)
    count = len(objects("x", args.configmaps, args.deployments))
    print(f"{count} objects, {args.rounds} round(s), median seconds (ansible-playbook start-up included)")
    print(f"{'':26}{'first run':>10}{'no-op':>10}  changed on no-op")
    med = {}
    for way in ways:
        med[way] = {k: statistics.median(runs[way][k]) for k in ("first", "noop")}
        print(f"{way:26}{med[way]['first']:>10.1f}{med[way]['noop']:>10.1f}  {runs[way]['changed_noop']}")
    print("k8s_apply API requests (first run, no-op):", runs["llm.platform.k8s_apply"]["requests"])
    os.makedirs(os.path.join(REPO, "bench", "reports"), exist_ok=True)
    with open(os.path.join(REPO, "bench", "reports", "k8s-apply.json"), "w", encoding="utf-8") as fh:
        json.dump({"objects": count, "rounds": args.rounds, "runs": runs, "median": med}, fh, indent=2)


if __name__ == "__main__":
    main()
