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

import labkit  # noqa: E402
import livingkit  # noqa: E402


@pytest.fixture(scope="session")
def living():
    """The living lab with the platform synced by Argo CD (the playbooks wait for it)."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root for `ip netns` (CI runs as root)")
    if not labkit.ready():
        proc = labkit.ansible_playbook(labkit.CREATE)
        assert proc.returncode == 0, f"lab start failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert os.path.exists(livingkit.state_path()), "the lab runs without its pod runtime (substrate_lab_runtime)"
    livingkit.converge()
    return livingkit
