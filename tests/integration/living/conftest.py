"""Fixtures of the living-lab tests: the lab with its pod runtime, the platform converged on it
by the playbooks a user runs (secrets.yml, platform.yml), and helpers that read what the real
controllers did (Argo CD's Applications, the runtime's state, processes in the lab namespace)."""

from __future__ import annotations

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTS, "integration", "lab"))
sys.path.insert(0, HERE)

import livingkit  # noqa: E402

LATE_BUILD_TIMEOUT_S = 3600
# The first living test sets up the living lab after that wait: its start and first converge.
LIVING_SETUP_TIMEOUT_S = LATE_BUILD_TIMEOUT_S + 1800


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The first living test (after tests/conftest.py ordered them last) carries the living
    lab's set-up, so its time limit allows for the background build and the lab's start."""
    first_living = next((item for item in items if item.get_closest_marker("living")), None)
    if first_living is not None:
        first_living.add_marker(pytest.mark.timeout(LIVING_SETUP_TIMEOUT_S))


def wait_for_late_build() -> None:
    """scripts/test.sh builds the living lab's binaries in the background while the other tests
    run; the living lab starts only once that build has finished, and a failed build fails here
    with its log instead of a lab that backs fewer pods than the tier says."""
    rc_path = os.environ.get("LLM_PLATFORM_LATE_BUILD_RC")
    if not rc_path:
        return
    deadline = time.monotonic() + LATE_BUILD_TIMEOUT_S
    while not os.path.exists(rc_path):
        assert time.monotonic() < deadline, f"the background build did not finish in {LATE_BUILD_TIMEOUT_S} s ({rc_path})"
        time.sleep(5)
    with open(rc_path, encoding="utf-8") as fh:
        rc = fh.read().strip()
    if rc != "0":
        log = os.environ.get("LLM_PLATFORM_LATE_BUILD_LOG", "")
        tail = ""
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as fh:
                tail = fh.read()[-4000:]
        pytest.fail(f"the background build of the living lab's binaries failed (rc {rc}, log {log}):\n{tail}")


@pytest.fixture(scope="session")
def living():
    """The living lab (a lab of its own, beside the suite's shared one) with the platform synced
    by Argo CD: the playbooks wait for it. Stopped at the end unless LLM_PLATFORM_LAB_KEEP=1 or
    it was running before."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root for `ip netns` (CI runs as root)")
    wait_for_late_build()
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
