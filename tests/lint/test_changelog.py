"""The changelog is kept with antsibull-changelog: every fragment lints, changelog.yaml is valid,
and CHANGELOG.rst and changelogs/changelog.yaml are what the fragments give (`make changelog`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

pytestmark = pytest.mark.lint


def _run(*argv):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_fragments_lint():
    rc, out = _run(os.path.join(BIN, "antsibull-changelog"), "lint")
    assert rc == 0 and out.strip() == "", out


def test_changelog_yaml_lints():
    rc, out = _run(os.path.join(BIN, "antsibull-changelog"), "lint-changelog-yaml", "changelogs/changelog.yaml")
    assert rc == 0 and out.strip() == "", out


def test_changelog_is_generated_from_the_fragments():
    rc, out = _run(sys.executable, os.path.join(REPO_ROOT, "scripts", "changelog.py"), "--check")
    assert rc == 0, out
    fragments = os.listdir(os.path.join(REPO_ROOT, "changelogs", "fragments"))
    with open(os.path.join(REPO_ROOT, "CHANGELOG.rst"), encoding="utf-8") as fh:
        text = fh.read()
    assert len(fragments) > 10 and "Release Summary" in text and "New Modules" in text
