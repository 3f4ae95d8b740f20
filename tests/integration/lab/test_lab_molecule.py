"""The molecule `default` scenario against the running lab (CI runs it through pytest).

`--destroy never` keeps the lab: the session fixture owns its lifetime, and the scenario's
create step reuses the healthy lab (changed=0).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.lab


def test_molecule_default_scenario(lab):
    if lab.LAB_NAME != "lab":
        pytest.skip("the molecule scenario drives the inventory's lab (LLM_PLATFORM_LAB_NAME=lab)")
    bindir = os.path.dirname(sys.executable)
    molecule = os.path.join(bindir, "molecule")
    if not os.path.exists(molecule) and not shutil.which("molecule"):
        pytest.skip("molecule is not installed")
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               MOLECULE_GLOB="molecule/*/molecule.yml", ANSIBLE_NOCOLOR="1", NO_COLOR="1",
               ANSIBLE_CONFIG=os.path.join(lab.REPO_ROOT, "ansible.cfg"))
    proc = subprocess.run([molecule if os.path.exists(molecule) else "molecule", "test", "-s", "default",
                           "--destroy", "never"], cwd=lab.REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=1200, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "idempotence" in out
    assert lab.ready(), "the lab must still run after the scenario (--destroy never)"
