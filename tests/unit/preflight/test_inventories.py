"""Every shipped inventory resolves to a valid config through Ansible's own
variable precedence, and per-cloud values really override group_vars/all."""

from __future__ import annotations

import os

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.manager import VariableManager

from ansible_collections.llm.platform.plugins.plugin_utils import preflight

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLOUDS = ("gke", "hetzner", "byo", "lab")


def resolved_config(cloud, basedir=REPO_ROOT):
    """The config localhost sees when a playbook in ``basedir`` runs on this inventory."""
    loader = DataLoader()
    loader.set_basedir(basedir)
    inventory = InventoryManager(loader=loader, sources=[os.path.join(REPO_ROOT, "inventories", cloud)])
    manager = VariableManager(loader=loader, inventory=inventory)
    host_vars = manager.get_vars(host=inventory.get_host("localhost"))
    templar = Templar(loader=loader, variables=host_vars)
    return {name: templar.template(host_vars[name]) for name in preflight.load_spec() if name in host_vars}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_inventory_config_is_valid(cloud, tmp_path, monkeypatch):
    # byo reads the kubeconfig of $KUBECONFIG (preflight checks that it exists): give it one.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    cfg = resolved_config(cloud)
    assert cfg["substrate"] == cloud
    assert [str(f) for f in preflight.validate(cfg)] == []


@pytest.mark.parametrize("basedir", [REPO_ROOT, os.path.join(REPO_ROOT, "playbooks")])
def test_cloud_group_overrides_group_vars_all(basedir):
    """group_vars/all says gke-managed; the lab's own group must win, whether
    the playbook is site.yml (repo root) or one under playbooks/."""
    cfg = resolved_config("lab", basedir)
    assert cfg["gpu_stack"] == "none"
    assert cfg["secret_backend"] == "kubernetes"
    # Platform-wide settings still come from group_vars/all.
    assert cfg["platform_profile"] in ("platform", "serving", "llm-gateway", "full")
    assert cfg["tenants"], "group_vars/all/tenants.yml was not loaded"


def test_every_config_variable_in_the_repo_is_documented():
    """Any variable set in group_vars/all or an inventory's cloud group is in the config model,
    or belongs to a role (prefixed with a role name) and is documented by that role's spec."""

    spec = preflight.load_spec()
    roles = os.listdir(os.path.join(REPO_ROOT, "roles")) if os.path.isdir(os.path.join(REPO_ROOT, "roles")) else []
    files = [os.path.join(REPO_ROOT, "group_vars", "all", f) for f in os.listdir(os.path.join(REPO_ROOT, "group_vars", "all"))]
    for cloud in CLOUDS:
        group_dir = os.path.join(REPO_ROOT, "inventories", cloud, "group_vars", cloud)
        files += [os.path.join(group_dir, f) for f in os.listdir(group_dir)]
    undocumented = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        for name in data:
            role = next((r for r in roles if name.startswith(r + "_")), None)
            if name in spec:
                continue
            if role and name in _role_options(role):
                continue
            undocumented.append("%s: %s" % (os.path.relpath(path, REPO_ROOT), name))
    assert undocumented == []


def _role_options(role):

    path = os.path.join(REPO_ROOT, "roles", role, "meta", "argument_specs.yml")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return (yaml.safe_load(handle)["argument_specs"]["main"] or {}).get("options") or {}
