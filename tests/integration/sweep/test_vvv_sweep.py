"""Secrets at -vvv: every playbook the lab can run (sweepkit.steps), at -vvv, with known secret
values (the LiteLLM master key, the tenants' keys, a repository token, a bench key, the seeded
platform secrets), and no secret appears in the output, in a file the runs wrote (ansible log,
bench reports, caches, temp files) or in the lab's objects (any annotation, e.g.
kubectl.kubernetes.io/last-applied-configuration, or any object that is not a Secret).

Runs on its own lab (LLM_PLATFORM_LAB_NAME/PORT, started when absent) and its own LiteLLM."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sweepkit
from sweepkit import labkit

pytestmark = [pytest.mark.lab, pytest.mark.litellm, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab():
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (ip netns)")
    started = False
    if not labkit.ready():
        proc = labkit.ansible_playbook(labkit.CREATE)
        assert proc.returncode == 0, "lab start failed:\n" + proc.stdout[-4000:]
        started = True
    yield labkit
    if started and os.environ.get("LLM_PLATFORM_LAB_KEEP") != "1":
        labkit.ansible_playbook(labkit.DESTROY)


@pytest.fixture(scope="module")
def workdir():
    path = tempfile.mkdtemp(prefix="vvv-sweep-")
    os.chmod(path, 0o755)  # noqa: S103 - postgres (the LiteLLM kit's database) must traverse it
    yield path
    # -vvv logs of a failed sweep may hold the secret it found: kept only on request.
    if os.environ.get("LLM_PLATFORM_SWEEP_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def edge(workdir):
    if not os.path.isdir(sweepkit.litellm_offline.kit_dir()):
        pytest.skip("LiteLLM offline kit not found")
    sweepkit.litellm_offline.install()
    edge = sweepkit.Edge(workdir)
    try:
        edge.start()
    except Exception:
        edge.stop()
        raise
    yield edge
    edge.stop()


@pytest.mark.timeout(3600)
def test_no_secret_at_vvv_in_output_files_or_lab_objects(lab, edge, workdir):
    litellm = edge.litellm
    known = sweepkit.Secrets()
    known.add("LiteLLM master key", litellm.master_key)
    known.add("LiteLLM upstream key", edge.upstream_key)
    repo_token = "ghp_" + secrets.token_hex(18)
    known.add("repository token", repo_token)
    bench_key = "sk-sweep-bench-" + secrets.token_hex(12)
    known.add("bench key", bench_key)
    status, body = litellm.api("POST", "/key/generate", {"key": bench_key, "models": ["qwen-local"], "key_alias": "sweep-bench-existing"})
    assert status == 200, body

    env = {"LITELLM_MASTER_KEY": litellm.master_key, "LLM_PLATFORM_REPO_TOKEN": repo_token}
    reports = os.path.join(workdir, "reports")
    marker = time.time() - 1
    outputs, logs = {}, []
    for step in sweepkit.steps(litellm.url, bench_key, reports):
        rc, out, log = sweepkit.run(step, workdir, env)
        outputs[step.name] = out
        logs.append(log)
        assert rc == 0 or not step.check_rc, "%s failed (rc %d):\n%s" % (step.name, rc, _redacted(out, known)[-6000:])
        assert "ESTABLISH LOCAL CONNECTION" in out, "%s did not run at -vvv" % step.name
        if step.name == "site":
            # Now the tenants' keys exist: look for them too (team-b's are deleted by the next step).
            for name, value in sweepkit.read_secret_values("team-a").items() | sweepkit.read_secret_values("team-b").items():
                known.add("tenant key " + name, value)
            assert len([n for n in known.values if n.startswith("tenant key")]) >= 3
        if step.name == "secrets":
            for name, value in sweepkit.read_secret_values("platform-secrets", "llm-platform/secret-contract=true").items():
                known.add("platform secret " + name, value)

    # The repository token reached its Secret (so it was in play), and the bench key was used.
    assert repo_token in sweepkit.read_secret_values("argocd").get("argocd/repo-llm-platform/password", "")
    assert os.path.isdir(reports) and os.listdir(reports)

    # The detectors are live: a planted value is found in a file the sweep looks at, in a lab
    # object's annotation and in text with a key-like string.
    canary = "sweep-canary-" + secrets.token_hex(8)
    known.add("canary", canary)
    with open(os.path.join(workdir, "tmp", "canary.txt"), "w", encoding="utf-8") as handle:
        handle.write("x %s y" % canary)
    lab.kubectl("create", "configmap", "sweep-canary", "-n", "default")
    lab.kubectl("annotate", "configmap", "sweep-canary", "-n", "default", "llm-platform/canary=" + canary)
    try:
        planted = sweepkit.cluster_leaks(known.find)
    finally:
        lab.kubectl("delete", "configmap", "sweep-canary", "-n", "default", "--ignore-not-found")
    assert ("ConfigMap", "default/sweep-canary", "annotations", ["canary"]) in planted
    assert known.find("Bearer sk-" + "a1B2" * 6) == ["a key-like string (sk-a1B...)"]

    leaks = [leak for leak in planted if leak[1] != "default/sweep-canary"]
    for name, out in outputs.items():
        leaks += [(name, "output", found) for found in known.find(out)]
    cache = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llm-platform")
    # Not written by the runs: the cluster's own storage and logs, the LiteLLM database, and
    # the sweep's own LiteLLM config (where the upstream key is meant to be).
    exclude = [os.path.join(cache, "lab"), litellm.prefix, sweepkit.litellm_offline.cache_dir(), os.path.join(workdir, "litellm.yaml")]
    # Ours alone (temp files of every run are kept in workdir; platform_argocd's manifest cache):
    # known values and key-like strings.
    argocd_cache = os.path.join(cache, "argocd")
    own = sweepkit.written_files([workdir, sweepkit.REPO_ROOT, argocd_cache], marker, exclude)
    # Shared with other users of the machine (their builds and runs write there too): known values only.
    shared_roots = [os.path.expanduser("~/.ansible"), tempfile.gettempdir(), cache]
    shared = sweepkit.written_files(shared_roots, marker, [workdir, argocd_cache, *exclude])
    assert set(logs) <= set(own)
    canary_file = os.path.join(workdir, "tmp", "canary.txt")
    assert canary_file in own
    for paths, patterns in ((own, True), (shared, False)):
        for path in paths:
            with contextlib.suppress(OSError), open(path, "rb") as handle:
                data = handle.read(64 * 1024 * 1024)
                found = known.find(data, patterns)
                if path == canary_file:
                    assert found == ["canary"]
                    continue
                leaks += [(path, "file", name) for name in found]
    assert leaks == [], "secrets found:\n" + "\n".join(map(str, leaks))


def _redacted(text, known):
    for value in known.values.values():
        text = text.replace(value, "***")
    return sweepkit.KEY_PATTERN.sub("sk-***", text)
