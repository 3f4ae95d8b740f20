"""galaxy.yml: its links are the fork's repository (kept in step with platform_repo_url and the
app-of-apps by scripts/fork.py), and it depends on exactly the collections the content calls."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))

import fork  # noqa: E402


def _text(rel):
    with open(os.path.join(REPO_ROOT, rel), encoding="utf-8") as fh:
        return fh.read()


def _yaml(*parts, root=REPO_ROOT):
    with open(os.path.join(root, *parts), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _agree(root):
    platform = _yaml("group_vars", "all", "platform.yml", root=root)
    galaxy = _yaml("galaxy.yml", root=root)
    values = _yaml("gitops", "app-of-apps", "values.yaml", root=root)
    assert values["repo"]["url"] == platform["platform_repo_url"]
    want = fork.galaxy_links(platform["platform_repo_url"], platform["platform_repo_revision"])
    assert {k: galaxy[k] for k in want} == want
    return galaxy


def test_links_are_the_forks_repository():
    galaxy = _agree(REPO_ROOT)
    assert galaxy["issues"].endswith("/issues") and "/docs" in galaxy["documentation"]


@pytest.mark.parametrize(
    "url,web,issues",
    [
        ("https://github.com/acme/llm-platform.git", "https://github.com/acme/llm-platform", "https://github.com/acme/llm-platform/issues"),
        ("git@gitlab.com:acme/infra/llm.git", "https://gitlab.com/acme/infra/llm", "https://gitlab.com/acme/infra/llm/-/issues"),
    ],
)
def test_fork_rewrites_every_place_and_keeps_comments(tmp_path, url, web, issues):
    for rel in (fork.GALAXY, fork.PLATFORM, fork.VALUES):
        os.makedirs(tmp_path / os.path.dirname(rel), exist_ok=True)
        shutil.copy(os.path.join(REPO_ROOT, rel), tmp_path / rel)
    comments = {
        rel: [line for line in (tmp_path / rel).read_text().splitlines() if line.lstrip().startswith("#")]
        for rel in (fork.GALAXY, fork.PLATFORM, fork.VALUES)
    }
    fork.fork(str(tmp_path), url)
    galaxy = _agree(str(tmp_path))
    assert galaxy["repository"] == web and galaxy["issues"] == issues
    assert _yaml("group_vars", "all", "platform.yml", root=str(tmp_path))["platform_repo_url"] == url
    for rel, lines in comments.items():
        assert [line for line in (tmp_path / rel).read_text().splitlines() if line.lstrip().startswith("#")] == lines, rel
    # Every other value of the app-of-apps is untouched.
    before, after = _yaml(fork.VALUES), _yaml(fork.VALUES, root=str(tmp_path))
    before["repo"].pop("url")
    after["repo"].pop("url")
    assert before == after


@pytest.mark.parametrize("bad", ["", "github.com/acme/repo", "https://github.com/onlyorg", "ftp://host/a/b"])
def test_fork_refuses_a_url_that_names_no_repository(bad):
    """The CLI (make fork) names the value and what is allowed, and changes nothing."""
    before = {rel: _text(rel) for rel in (fork.GALAXY, fork.PLATFORM, fork.VALUES)}
    proc = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "scripts", "fork.py"), bad], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert ("REPO: got %r" % bad in proc.stderr) if bad else "usage: make fork REPO=" in proc.stderr
    assert {rel: _text(rel) for rel in before} == before


def _fqcn_namespaces():
    """Collections whose modules, filters or roles the shipped content calls by FQCN."""
    used = set()
    # YAML and templates name modules, filters and roles as ns.coll.name; Python imports
    # another collection's code as ansible_collections.ns.coll.
    yaml_fqcn = re.compile(r"\b([a-z0-9_]+)\.([a-z0-9_]+)\.[a-z0-9_]+\b")
    py_import = re.compile(r"ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\b")
    for top in ("roles", "playbooks", "plugins"):
        for folder, _dirs, files in os.walk(os.path.join(REPO_ROOT, top)):
            for name in files:
                pattern = py_import if name.endswith(".py") else yaml_fqcn if name.endswith((".yml", ".yaml", ".j2")) else None
                if pattern is None:
                    continue
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    used.update("%s.%s" % found for found in pattern.findall(fh.read()))
    return used


def test_dependencies_are_the_collections_the_content_calls():
    deps = set(_yaml("galaxy.yml")["dependencies"])
    used = _fqcn_namespaces()
    assert sorted(d for d in deps if d not in used) == [], "galaxy.yml depends on collections nothing calls"
    for collection in ("kubernetes.core", "hetzner.hcloud", "community.general"):
        assert collection in used and collection in deps, collection
    pinned = {c["name"] for c in _yaml("requirements.yml")["collections"]}
    assert pinned == deps, "requirements.yml pins other collections than galaxy.yml depends on"
