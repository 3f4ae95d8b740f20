"""Every molecule scenario converges against the shared lab, is idempotent and verifies.

scripts/test.sh creates the lab once (molecule create -s default) before pytest and
destroys it after; here each scenario runs converge, idempotence and verify on it."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab"))
import labkit

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = sorted(
    d for d in os.listdir(os.path.join(REPO_ROOT, "molecule")) if os.path.exists(os.path.join(REPO_ROOT, "molecule", d, "molecule.yml"))
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_converges_idempotently_and_verifies(scenario):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root for network namespaces")
    for step in ("converge", "idempotence", "verify"):
        rc, out = labkit.molecule(step, "-s", scenario)
        assert rc == 0, "molecule %s -s %s failed:\n%s" % (step, scenario, out[-6000:])
