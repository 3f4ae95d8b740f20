"""Fixtures of the platform-core lab tests: the running lab (started through the lab's own
fixture logic when absent), helm-rendered objects and kubectl against the lab."""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTS, "integration", "lab"))
sys.path.insert(0, os.path.join(TESTS, "unit"))
sys.path.insert(0, HERE)

import labkit  # noqa: E402
from platformkit import apply_docs  # noqa: E402


@pytest.fixture(scope="session")
def lab():
    started = False
    if not labkit.ready():
        if os.geteuid() != 0:
            pytest.skip("the lab needs root for `ip netns` (CI runs as root)")
        proc = labkit.ansible_playbook(labkit.CREATE)
        assert proc.returncode == 0, f"lab start failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
        started = True
    assert labkit.ready(), "the lab API server is not ready through the host bridge"
    for ns in ("argocd", "external-secrets", "kueue-system", "monitoring"):
        apply_docs(labkit, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}])
    yield labkit
    if started and os.environ.get("LLM_PLATFORM_LAB_KEEP") != "1":
        labkit.ansible_playbook(labkit.DESTROY)
