"""Every molecule scenario converges against the shared lab, is idempotent and verifies.

scripts/test.sh creates the lab once (molecule create -s default) before pytest and
destroys it after; here each scenario runs converge, idempotence and verify on it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
SCENARIOS = sorted(
    d for d in os.listdir(os.path.join(REPO_ROOT, "molecule")) if os.path.exists(os.path.join(REPO_ROOT, "molecule", d, "molecule.yml"))
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def molecule(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), NO_COLOR="1")
    env["MOLECULE_GLOB"] = "molecule/*/molecule.yml"
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [os.path.join(BIN, "molecule"), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_converges_idempotently_and_verifies(scenario):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root for network namespaces")
    for step in ("converge", "idempotence", "verify"):
        rc, out = molecule(step, "-s", scenario)
        assert rc == 0, "molecule %s -s %s failed:\n%s" % (step, scenario, out[-6000:])
