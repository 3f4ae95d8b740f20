"""Fixtures of the living-lab tests: the lab with its pod runtime, the platform converged on it
by the playbooks a user runs (secrets.yml, platform.yml), and helpers that read what the real
controllers did (Argo CD's Applications, the runtime's state, processes in the lab namespace)."""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTS, "integration", "lab"))
sys.path.insert(0, HERE)

import livingkit  # noqa: E402


@pytest.fixture(scope="session")
def living():
    """The living lab (a lab of its own, beside the suite's shared one) with the platform synced
    by Argo CD: the playbooks wait for it. Stopped at the end unless LLM_PLATFORM_LAB_KEEP=1 or
    it was running before."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root for `ip netns` (CI runs as root)")
    labkit = livingkit.labkit
    started = False
    if not labkit.ready() or not os.path.exists(livingkit.state_path()):
        proc = labkit.ansible_playbook(labkit.CREATE, "-e", "substrate_lab_runtime=true")
        assert proc.returncode == 0, f"living lab start failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
        started = True
    livingkit.converge()
    yield livingkit
    if started and os.environ.get("LLM_PLATFORM_LAB_KEEP") != "1":
        labkit.ansible_playbook(labkit.DESTROY)
