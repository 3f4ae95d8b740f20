"""Session fixture for the lab tests: reuse a running lab, or start one via ansible-playbook.

The lab is started with molecule/default/create.yml on inventories/lab (the substrate_lab
role). A lab this fixture started is stopped at the end unless LLM_PLATFORM_LAB_KEEP=1.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import labkit


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: needs the lab substrate (real control plane, kwok fleet; root for netns)")


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
    yield labkit
    if started and os.environ.get("LLM_PLATFORM_LAB_KEEP") != "1":
        labkit.ansible_playbook(labkit.DESTROY)
