"""Every role documents its variables: defaults/main.yml and meta/argument_specs.yml
agree, and the generated docs pages are current."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES_DIR = os.path.join(REPO_ROOT, "roles")
ROLES = sorted(r for r in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, r)))


def _load(*parts):
    path = os.path.join(ROLES_DIR, *parts)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@pytest.mark.parametrize("role", ROLES)
def test_role_has_argument_specs_and_tasks(role):
    specs = _load(role, "meta", "argument_specs.yml")
    assert specs is not None, "roles/%s/meta/argument_specs.yml is missing" % role
    assert "main" in specs.get("argument_specs", {}), "no main entry point in the spec"
    assert os.path.exists(os.path.join(ROLES_DIR, role, "tasks", "main.yml"))


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_specs_agree(role):
    defaults = _load(role, "defaults", "main.yml") or {}
    options = (_load(role, "meta", "argument_specs.yml") or {}).get("argument_specs", {}).get("main", {}).get("options") or {}
    public = {k for k in defaults if not k.startswith("__")}
    assert sorted(public - set(options)) == [], "defaults without a spec entry"
    missing = sorted(k for k in set(options) - public if not options[k].get("required"))
    assert missing == [], "optional spec entries without a default in defaults/main.yml"
    for name, spec in options.items():
        assert spec.get("description"), "%s has no description" % name
        assert name.startswith(role + "_"), "%s is not prefixed with the role name" % name
        if name in defaults and "default" in spec and "{{" not in str(defaults[name]):
            assert spec["default"] == defaults[name], "%s: spec default %r != defaults %r" % (name, spec["default"], defaults[name])


def test_generated_docs_are_current():
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "scripts", "gen_docs.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
