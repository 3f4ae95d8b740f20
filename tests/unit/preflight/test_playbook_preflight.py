"""End to end through ansible-playbook: preflight passes for every shipped inventory and
stops a bad config before any play that would touch a host, cluster or cloud API.

These runs happen in a fresh network namespace (unshare -n) with no interfaces up, so even
a regression that let a cloud play start could not reach anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
CLOUDS = ("gke", "hetzner", "byo", "lab")

BAD = {
    "cost_tier": "cheap",
    "tenants": [
        {"name": "Team_A", "models": ["gpt-5"], "budget": {"max_usd": -1, "window": "30x"}},
        {"name": "Team_A", "models": [], "budget": {"max_usd": 1, "window": "1d"}},
    ],
}
EXPECTED = (
    "cost_tier",
    "tenants[0].name",
    "tenants[0].models[0]",
    "tenants[0].budget.max_usd",
    "tenants[0].budget.window",
    "tenants[1].name",
)


def playbook(*args, kubeconfig=None):
    argv = [os.path.join(BIN, "ansible-playbook"), *args]
    if shutil.which("unshare") and os.geteuid() == 0:
        argv = ["unshare", "--net", *argv]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig  # inventories/byo reads the cluster's kubeconfig from it
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n")
    return str(path)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_preflight_passes_for_the_shipped_inventory(cloud, tmp_path):
    rc, out = playbook("playbooks/preflight.yml", "-i", "inventories/" + cloud, kubeconfig=_kubeconfig(tmp_path))
    assert rc == 0, out
    assert "Configuration valid" in out or "ok=" in out


@pytest.mark.parametrize("cloud", CLOUDS)
def test_bad_config_stops_site_before_any_other_play(cloud, tmp_path):
    extra = tmp_path / "bad.yml"
    extra.write_text(yaml.safe_dump(BAD))
    rc, out = playbook("site.yml", "-i", "inventories/" + cloud, "-e", "@" + str(extra), kubeconfig=_kubeconfig(tmp_path))
    assert rc != 0
    for variable in EXPECTED:
        assert out.count("- %s: got" % variable) == 1, "%s not named exactly once in:\n%s" % (variable, out)
    assert "nothing was changed" in out
    # Only the preflight play ran: no substrate, platform or tenants task started.
    started = [line for line in out.splitlines() if line.startswith("TASK [")]
    assert started and all("Preflight" in line for line in started), started
