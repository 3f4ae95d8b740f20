"""The molecule `platform` scenario on the living lab: converge, idempotence (a second converge
reports changed=0) and verify, whose checks include Argo CD's own assessment of every
Application there (on the suite's shared lab, where no controller runs, it checks the API only)."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.platform, pytest.mark.living]


def test_the_platform_scenario_converges_idempotently_and_verifies_by_argo_cd(living, tmp_path):
    labkit = living.labkit
    lab_vars = {
        "substrate_lab_name": labkit.LAB_NAME,
        "substrate_lab_apiserver_port": labkit.PORT,
        "substrate_lab_kubeconfig": labkit.KUBECONFIG,
        "kubeconfig_path": labkit.KUBECONFIG,
        "substrate_lab_runtime": True,
        "platform_features": living.features(),
    }
    vars_file = tmp_path / "living-lab-vars.json"
    vars_file.write_text(json.dumps(lab_vars))
    env = {"LLM_PLATFORM_MOLECULE_LAB_VARS": "--extra-vars=@%s" % vars_file}
    for step in ("converge", "idempotence", "verify"):
        rc, out = labkit.molecule(step, "-s", "platform", env=env)
        assert rc == 0, "molecule %s -s platform on the living lab failed:\n%s" % (step, out[-6000:])
        if step == "verify":
            assert "every Application is Synced and Healthy by Argo CD's own assessment" in out, out[-4000:]
            assert "skipping: [localhost]" not in out.split("read the Applications Argo CD assessed")[1].split("TASK")[0], out[-4000:]
