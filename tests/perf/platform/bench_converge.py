#!/usr/bin/env python3
"""Converge time of playbooks/platform.yml on the lab, first run and no-op rerun, side by side
with `kubectl apply --server-side` of the same rendered objects (the floor).

    VENV=$(scripts/venv.sh); $VENV/bin/python tests/perf/platform/bench_converge.py [--rounds N]

"First run" starts from a cluster without Argo CD: the argocd namespace and Argo CD's
cluster-scoped RBAC are deleted before each first run; the Argo CD CRDs stay (the lab
substrate installs every upstream CRD). The playbook figure includes everything the playbook
does (preflight, rendering the pinned manifest, the waits for Argo CD's workloads, the root
Application); the floor applies the identical object list in one kubectl call and waits for
nothing. After the no-op rerun, `platform.yml --check` runs and the resourceVersions of every
object in the argocd namespace are compared before and after it. Goal (issue 17): first run and
no-op rerun within 1.5x of the floor, changed=0 on the rerun, nothing changed by --check.
The last line reads `platform converge: first-run ratio <x>, no-op ratio <y>`.
Writes bench/reports/platform-converge.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "lab"))

import labkit  # noqa: E402

PLATFORM = os.path.join(REPO, "playbooks", "platform.yml")
DUMP = os.path.join(REPO, "tests", "integration", "platform", "dump_objects.yml")


def reset():
    labkit.kubectl("delete", "namespace", "argocd", "--ignore-not-found", "--wait=true", "--timeout=300s", timeout=330)
    labkit.kubectl("delete", "clusterrole,clusterrolebinding", "-l", "app.kubernetes.io/part-of=argocd", "--ignore-not-found", timeout=120)
    names = "argocd-server,argocd-application-controller,argocd-applicationset-controller"
    selector = f"app.kubernetes.io/name in ({names})"
    labkit.kubectl("delete", "clusterrole,clusterrolebinding", "-l", selector, "--ignore-not-found", check=False)


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def playbook(*extra):
    proc = labkit.ansible_playbook(PLATFORM, *extra)
    if proc.returncode != 0:
        raise SystemExit("platform.yml failed:\n" + proc.stdout[-5000:] + proc.stderr[-2000:])
    return labkit.recap(proc.stdout)["localhost"]["changed"]


def versions():
    """resourceVersion of every object of the argocd namespace (what --check must not move)."""
    kinds = "configmaps,secrets,services,serviceaccounts,deployments,statefulsets,"
    kinds += "roles,rolebindings,networkpolicies,applications,appprojects"
    out = labkit.kubectl("get", kinds, "-n", "argocd", "-o", "json", timeout=120).stdout
    return {(o["kind"], o["metadata"]["name"]): o["metadata"]["resourceVersion"] for o in json.loads(out)["items"]}


def floor(path):
    labkit.kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=llm-platform-floor", "-n", "argocd", "-f", path, timeout=600
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not labkit.ready():
        raise SystemExit("the lab is not running: ansible-playbook -i inventories/lab playbooks/substrate.yml")

    with tempfile.TemporaryDirectory() as tmp:
        objects = os.path.join(tmp, "objects.json")
        proc = labkit.ansible_playbook(DUMP, "-e", "out=" + objects)
        if proc.returncode != 0:
            raise SystemExit("dump_objects.yml failed:\n" + proc.stdout[-4000:])
        with open(objects, encoding="utf-8") as fh:
            count = len(json.load(fh))
        listed = os.path.join(tmp, "objects.list.json")
        with open(objects, encoding="utf-8") as src, open(listed, "w", encoding="utf-8") as dst:
            json.dump({"apiVersion": "v1", "kind": "List", "items": json.load(src)}, dst)

        runs = {"playbook_first": [], "playbook_noop": [], "floor_first": [], "floor_noop": []}
        changed = {"first": [], "noop": [], "check": [], "moved_by_check": []}
        for _ in range(args.rounds):
            reset()
            t = time.monotonic()
            changed["first"].append(playbook())
            runs["playbook_first"].append(time.monotonic() - t)
            t = time.monotonic()
            changed["noop"].append(playbook())
            runs["playbook_noop"].append(time.monotonic() - t)
            before = versions()
            changed["check"].append(playbook("--check"))
            after = versions()
            changed["moved_by_check"].append(sorted("%s/%s" % k for k in before if after.get(k) != before[k]))
            reset()
            runs["floor_first"].append(timed(lambda: floor(listed)))
            runs["floor_noop"].append(timed(lambda: floor(listed)))
        # Leave the lab as the playbook converges it.
        playbook()

    med = {k: statistics.median(v) for k, v in runs.items()}
    ratios = {"first": med["playbook_first"] / med["floor_first"], "noop": med["playbook_noop"] / med["floor_noop"]}
    print(f"platform converge on the lab ({count} objects, {args.rounds} round(s), median seconds, 2 cores)")
    print(f"{'':22}{'platform.yml':>14}{'kubectl SSA':>14}{'ratio':>8}  goal")
    print(f"{'first run':22}{med['playbook_first']:>14.1f}{med['floor_first']:>14.1f}{ratios['first']:>8.2f}  <= 1.5x")
    print(f"{'no-op rerun':22}{med['playbook_noop']:>14.1f}{med['floor_noop']:>14.1f}{ratios['noop']:>8.2f}  <= 1.5x, changed=0")
    print(f"changed: first run {changed['first']}, no-op rerun {changed['noop']}, --check {changed['check']}")
    print(f"objects whose resourceVersion --check moved: {changed['moved_by_check']}")
    report = {"objects": count, "rounds": args.rounds, "seconds": runs, "median": med, "ratios": ratios, "changed": changed}
    os.makedirs(os.path.join(REPO, "bench", "reports"), exist_ok=True)
    with open(os.path.join(REPO, "bench", "reports", "platform-converge.json"), "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2)
    print(f"platform converge: first-run ratio {ratios['first']:.2f}, no-op ratio {ratios['noop']:.2f}")


if __name__ == "__main__":
    main()
