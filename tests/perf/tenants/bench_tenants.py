#!/usr/bin/env python3
"""Benchmark: onboard N tenants (budget, team, key, and with the lab the namespace and key
Secret) from an empty LiteLLM with the tenants playbook, then a no-op rerun, then --check;
side by side with a plain Python loop making the same API calls (the floor).

    $(scripts/venv.sh)/bin/python tests/perf/tenants/bench_tenants.py [--tenants 10,100,1000] [--k8s auto|on|off]

Several sizes (comma-separated) run one after the other on the same proxy; the summary gives
the time per tenant of each size and how flat it stays from the second size to the last.
LLM_PLATFORM_LAB_NAME (or LLM_PLATFORM_LAB_KUBECONFIG) selects another lab than `lab`.

Real LiteLLM 1.108.7 + PostgreSQL from the offline kit (tests/integration/litellm/litellm_offline.py),
on 127.0.0.1; with --k8s the lab's kube-apiserver ($LLM_PLATFORM_CACHE/lab/lab/kubeconfig).
Bounded: one onboarding, one rerun, one check per side. Prints wall times and ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration", "litellm"))

import litellm_offline  # noqa: E402

BIN = os.path.dirname(sys.executable)
SET = "bench"


def lab_kubeconfig():
    if os.environ.get("LLM_PLATFORM_LAB_KUBECONFIG"):
        return os.environ["LLM_PLATFORM_LAB_KUBECONFIG"]
    base = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llm-platform")
    return os.path.join(base, "lab", os.environ.get("LLM_PLATFORM_LAB_NAME", "lab"), "kubeconfig")


def lab_client():
    try:
        from kubernetes import config, dynamic

        api = config.new_client_from_config(config_file=lab_kubeconfig())
        client = dynamic.DynamicClient(api)
        client.resources.get(api_version="v1", kind="Namespace").get(limit=1, _request_timeout=5)
        return client
    except Exception as e:
        print("lab not reachable (%s): LiteLLM only" % e)
        return None


def tenants(prefix, n):
    return [
        {
            "name": "%s-%03d" % (prefix, i),
            "models": ["qwen-local"],
            "budget": {"max_usd": 10.0, "window": "30d"},
            "rpm_limit": 60,
            "tpm_limit": 100000,
        }
        for i in range(n)
    ]


# --------------------------------------------------------------------------- playbook side
def playbook(proxy, tmp, ts, k8s, *args):
    data = {
        "tenants": ts,
        "tenants_litellm_api_url": proxy.url,
        "tenants_manage_k8s": bool(k8s),
        "tenants_set": SET,
        "tenants_kubeconfig": lab_kubeconfig(),
    }
    vars_file = os.path.join(tmp, "vars.json")
    with open(vars_file, "w") as f:
        json.dump(data, f)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), LITELLM_MASTER_KEY=proxy.master_key)
    t0 = time.monotonic()
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "playbooks/tenants.yml", "-e", "@" + vars_file, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit("playbook failed:\n" + proc.stdout[-3000:] + proc.stderr[-2000:])
    recap = [line for line in proc.stdout.splitlines() if line.startswith("localhost ")]
    return took, recap[-1].split(":", 1)[1].strip() if recap else "?"


# --------------------------------------------------------------------------- floor side
class Floor:
    """The same API calls as the modules make, in one plain loop (urllib, no retries)."""

    def __init__(self, proxy, k8s):
        self.url, self.key, self.k8s = proxy.url, proxy.master_key, k8s
        self.calls = 0

    def api(self, method, path, params=None, body=None):
        self.calls += 1
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - 127.0.0.1
        req.add_header("Authorization", "Bearer " + self.key)
        req.add_header("x-api-key", self.key)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, None

    def paged(self, path, key, size_param, **params):
        out, page = [], 1
        while True:
            _, data = self.api("GET", path, dict(params, page=page, **{size_param: 100}))
            out.extend((data or {}).get(key) or [])
            if page >= (data or {}).get("total_pages", 1):
                return out
            page += 1

    def apply(self, kind, body):
        res = self.k8s.resources.get(api_version="v1", kind=kind)
        ns = body["metadata"].get("namespace")
        return res.server_side_apply(body=body, name=body["metadata"]["name"], namespace=ns, field_manager="llm-platform")

    def run(self, ts, write):
        names = {t["name"] for t in ts}
        # read.yml: managed teams and keys (paged), key Secrets, namespaces
        self.api("GET", "/v2/team/list", {"page": 1, "page_size": 100})
        self.api("GET", "/key/list", {"return_full_object": "true", "page": 1, "size": 100})
        if self.k8s:
            self.k8s.resources.get(api_version="v1", kind="Secret").get(label_selector="llm-platform/tenant-set=" + SET)
            self.k8s.resources.get(api_version="v1", kind="Namespace").get(label_selector="llm-platform/tenant-set=" + SET)
            for t in ts:
                ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": t["name"], "labels": {"llm-platform/tenant-set": SET}}}
                self.apply("Namespace", ns)  # server-side apply every run, as the role does
        # The modules' batch form: one listing per kind, then only the writes.
        _, budgets = self.api("GET", "/budget/list")
        have = {b["budget_id"] for b in budgets or []}
        for t in ts:
            if write and t["name"] not in have:
                body = {"budget_id": t["name"], "max_budget": 10.0, "budget_duration": "30d", "rpm_limit": 60, "tpm_limit": 100000}
                self.api("POST", "/budget/new", body=body)
        have = {r["team_id"] for r in self.paged("/v2/team/list", "teams", "page_size")}
        for t in ts:
            if write and t["name"] not in have:
                meta = {"tenant": t["name"], "tenant_set": SET, "managed_by": "llm-platform"}
                body = {"team_id": t["name"], "team_alias": t["name"], "models": ["qwen-local"], "max_budget": 10.0}
                body.update(budget_duration="30d", rpm_limit=60, tpm_limit=100000, metadata=meta)
                self.api("POST", "/team/new", body=body)
        have = {k["key_alias"] for k in self.paged("/key/list", "keys", "size", return_full_object="true")}
        secrets = []
        for t in ts:
            alias = t["name"] + "-default"
            if write and alias not in have:
                meta = {"tenant": t["name"], "key": "default", "tenant_set": SET, "managed_by": "llm-platform"}
                body = {"key_alias": alias, "team_id": t["name"], "models": ["qwen-local"], "metadata": meta}
                _, created = self.api("POST", "/key/generate", body=body)
                secrets.append((t["name"], created["key"]))
        if self.k8s and write:
            for ns, raw in secrets:
                self.apply(
                    "Secret",
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": "litellm-key-default", "namespace": ns, "labels": {"llm-platform/tenant-set": SET}},
                        "stringData": {"api-key": raw},
                    },
                )
        return names


def timed(fn, *a):
    t0 = time.monotonic()
    fn(*a)
    return time.monotonic() - t0


def delete_bench_namespaces(k8s):
    if not k8s:
        return
    res = k8s.resources.get(api_version="v1", kind="Namespace")
    for ns in res.get(label_selector="llm-platform/tenant-set=" + SET).items:
        with contextlib.suppress(Exception):  # already going
            res.delete(name=ns.metadata.name)


def measure(proxy, tmp, k8s, n):
    """Onboard, no-op rerun and --check of n tenants, playbook and floor: {(phase, side): s}."""
    results = {}
    proxy.reset_db()
    delete_bench_namespaces(k8s)
    ts = tenants("bench-p%d" % n, n)
    results["onboard", "playbook"], recap1 = playbook(proxy, tmp, ts, k8s)
    results["rerun", "playbook"], recap2 = playbook(proxy, tmp, ts, k8s)
    results["check", "playbook"], recap3 = playbook(proxy, tmp, ts, k8s, "--check")
    print("%d tenants, playbook recaps:\n  onboard %s\n  rerun   %s\n  check   %s" % (n, recap1, recap2, recap3))
    if "changed=0" not in recap2 or "changed=0" not in recap3:
        sys.exit("the rerun or check was not a no-op")
    proxy.reset_db()
    delete_bench_namespaces(k8s)
    floor = Floor(proxy, k8s)
    fts = tenants("bench-f%d" % n, n)
    results["onboard", "floor"] = timed(floor.run, fts, True)
    results["calls"] = floor.calls
    results["rerun", "floor"] = timed(floor.run, fts, False)
    results["check", "floor"] = timed(floor.run, fts, False)
    proxy.reset_db()
    delete_bench_namespaces(k8s)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", default="100", help="one size or several, comma-separated (10,100,1000)")
    ap.add_argument("--k8s", choices=["auto", "on", "off"], default="auto")
    args = ap.parse_args()
    sizes = [int(x) for x in args.tenants.split(",")]
    k8s = None if args.k8s == "off" else lab_client()
    if args.k8s == "on" and not k8s:
        sys.exit("--k8s on but the lab is not reachable")

    proxy = litellm_offline.LiteLLM()
    t0 = time.monotonic()
    proxy.start()
    print("LiteLLM %s up in %.1f s on %s" % (litellm_offline.VERSION, time.monotonic() - t0, proxy.url))
    by_size = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # Both sides are measured on a warm proxy: the first writes after start pay for
            # LiteLLM's lazy imports and the DB's cold caches, which would bias whichever ran first.
            playbook(proxy, tmp, tenants("bench-w", 3), k8s)
            Floor(proxy, k8s).run(tenants("bench-v", 3), True)
            for n in sizes:
                by_size[n] = measure(proxy, tmp, k8s, n)
    finally:
        proxy.stop()

    scope = "budget + team + key" + (" + namespace + Secret (lab)" if k8s else " (no lab: no namespace/Secret)")
    print("\nper tenant: %s" % scope)
    print("%8s %-8s %12s %12s %8s %14s" % ("tenants", "phase", "playbook s", "floor s", "ratio", "playbook ms/t"))
    for n, res in by_size.items():
        for phase in ("onboard", "rerun", "check"):
            p, f = res[phase, "playbook"], res[phase, "floor"]
            print("%8d %-8s %12.1f %12.1f %7.2fx %14.1f" % (n, phase, p, f, p / f, 1000 * p / n))
        print("%8d floor onboarding made %d API calls" % (n, res["calls"]))
    if len(sizes) > 1:
        a, b = sizes[1] if len(sizes) > 2 else sizes[0], sizes[-1]
        for phase in ("onboard", "rerun"):
            per_a = by_size[a][phase, "playbook"] / a
            per_b = by_size[b][phase, "playbook"] / b
            print("%s: time per tenant at %d is %.2fx that at %d" % (phase, b, per_b / per_a, a))
    print("goals: onboard within 1.3x of the floor at every size; no-op rerun of 1,000 under 60 s; per tenant flat within 20 %")


if __name__ == "__main__":
    main()
