"""Static checks as tests, so the one test command reports them in its count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CLOUDS = ("gke", "hetzner", "byo", "lab")

pytestmark = pytest.mark.lint


def run(*argv, env=None, cwd=REPO_ROOT, timeout=600):
    merged = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), **(env or {}))
    merged["PATH"] = BIN + os.pathsep + merged.get("PATH", "")
    proc = subprocess.run(argv, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_yamllint():
    rc, out = run(os.path.join(BIN, "yamllint"), "--strict", ".")
    assert rc == 0, out


def test_ruff_check():
    rc, out = run(os.path.join(BIN, "ruff"), "check", ".")
    assert rc == 0, out


def test_ansible_lint_production_profile():
    rc, out = run(os.path.join(BIN, "ansible-lint"), "--profile", "production", "--strict", "-q")
    assert rc == 0, out


@pytest.mark.parametrize("cloud", CLOUDS)
def test_site_syntax_check(cloud):
    rc, out = run(os.path.join(BIN, "ansible-playbook"), "site.yml", "-i", "inventories/" + cloud, "--syntax-check")
    assert rc == 0, out


def _modules():
    folder = os.path.join(REPO_ROOT, "plugins", "modules")
    return sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_"))


@pytest.mark.parametrize("module", _modules())
def test_ansible_doc(module):
    rc, out = run(os.path.join(BIN, "ansible-doc"), "-t", "module", "llm.platform." + module)
    assert rc == 0, out
    assert "EXAMPLES" in out and "RETURN VALUES" in out, out
