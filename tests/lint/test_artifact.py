"""The artifact a user installs: `ansible-galaxy collection build` from a working copy that
also holds the usual junk (caches, kubeconfigs, reports, test output), installed with
`ansible-galaxy collection install` into an empty collections path, then `ansible-test sanity`
and `ansible-doc` for every module, filter and role there, as a user (or Galaxy's certification)
would run them. Nothing here reads the checkout's own collections/ path."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

pytestmark = [pytest.mark.lint, pytest.mark.slow]

# Files a working copy accumulates that must never ship (build_ignore in galaxy.yml).
JUNK = (
    ".kube/config",
    "inventories/gke/.kube/config",
    "inventories/gke/.kube/platform-facts.yml",
    "roles/tenants/.kube/config",
    "lab.kubeconfig",
    "plugins/modules/__pycache__/litellm_key.cpython-311.pyc",
    "plugins/filter/models.pyc",
    "tests/output/junit.xml",
    "bench/reports/run-1/report.json",
    ".cache/x",
    ".pytest_cache/v/cache/lastfailed",
    ".ruff_cache/0.1/x",
    ".ansible/collections/x",
    "changelogs/.plugin-cache.yaml",
    "llm-platform-0.0.1.tar.gz",
    "molecule/default/.molecule/state.yml",
    "site.retry",
)
# Must be in the artifact: what roles, playbooks and modules read at run time.
MUST_SHIP = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "COPYING",
    "CHANGELOG.rst",
    "changelogs/changelog.yaml",
    "meta/runtime.yml",
    "playbooks/site.yml",
    "playbooks/group_vars/all/platform.yml",
    "group_vars/all/platform.yml",
    "gitops/app-of-apps/values.yaml",
    "gitops/app-of-apps/files/argocd-resource-health.yml",
    "gitops/secret-contract.yml",
    "bench/run.py",
    "lab/versions.yml",
    "lab/build.sh",
    "scripts/lib.sh",
    "roles/tenants/tasks/main.yml",
    "plugins/module_utils/_litellm.py",
)
NEVER_SHIP = ("tests/", "molecule/", "inventories/", "collections/", "gitops/charts/", "gitops/app-of-apps/templates/", ".ci/")


def _env(**extra):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    env.update(extra)
    return env


def _run(argv, cwd, env=None, timeout=900):
    proc = subprocess.run(argv, cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """(tarball, installed collection dir, ansible env) built from a copy of the working tree plus JUNK."""
    base = tmp_path_factory.mktemp("artifact")
    tree = base / "checkout"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    for rel in filter(None, files):
        src = os.path.join(REPO_ROOT, rel)
        if not os.path.lexists(src):
            continue  # deleted in the working tree
        os.makedirs(tree / os.path.dirname(rel), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), tree / rel)
        elif os.path.isfile(src):
            shutil.copy2(src, tree / rel)
    for rel in JUNK:
        os.makedirs(tree / os.path.dirname(rel) if os.path.dirname(rel) else tree, exist_ok=True)
        (tree / rel).write_text("apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: not-a-secret}}]\n")
    out = base / "dist"
    rc, log = _run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(out)], cwd=str(tree))
    assert rc == 0, log
    (tarball,) = out.glob("llm-platform-*.tar.gz")
    # Installed the way a user installs it (the dependencies come from the ansible bundle).
    collections = base / "collections"
    rc, log = _run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(collections), "--no-deps"], cwd=str(base)
    )
    assert rc == 0, log
    installed = collections / "ansible_collections" / "llm" / "platform"
    cfg = base / "ansible.cfg"
    cfg.write_text("[defaults]\n")
    env = _env(ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(collections))
    return tarball, installed, env


def test_tarball_holds_the_collection_and_nothing_else(artifact):
    tarball = artifact[0]
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
    names = set(members)
    assert sorted(rel for rel in MUST_SHIP if rel not in names) == []
    leaked = sorted(n for n in names if n.startswith(NEVER_SHIP) or any(n == j or n.startswith(j + "/") for j in JUNK))
    leaked += sorted(n for n in names if "__pycache__" in n or n.endswith((".pyc", ".tar.gz", ".retry")) or "/.kube" in "/" + n)
    assert leaked == [], "left out by build_ignore: %s" % leaked
    # Of the developer scripts only the one lab/build.sh sources ships (a new script must be
    # added to build_ignore, or here when roles need it).
    assert sorted(n for n in names if n.startswith("scripts/") and members[n].isfile()) == ["scripts/lib.sh"]
    for name, member in members.items():
        if member.issym():
            target = os.path.normpath(os.path.join(os.path.dirname(name), member.linkname))
            assert not target.startswith(".."), "%s points outside the collection: %s" % (name, member.linkname)
            assert target in members and members[target].isfile(), "%s is not a link to a file in the artifact" % name
    manifest = json.loads(tarball_read(tarball, "MANIFEST.json"))["collection_info"]
    assert "ansible.utils" not in manifest["dependencies"]
    assert manifest["repository"] and manifest["issues"] and manifest["documentation"]


def tarball_read(tarball, name):
    with tarfile.open(tarball) as tar:
        return tar.extractfile(name).read().decode()


def test_ansible_test_sanity_on_the_installed_artifact(artifact):
    _tarball, installed, env = artifact
    # --local: the project venv runs ansible-test; its per-test requirements come from PyPI
    # (--venv would bootstrap pip from outside the registries). Every test runs, pylint included.
    rc, out = _run(
        [os.path.join(BIN, "ansible-test"), "sanity", "--local", "--python", "3.11", "--color", "no"],
        cwd=str(installed),
        env=env,
    )
    assert rc == 0, out[-6000:]


def _plugins(installed, kind):
    folder = installed / "plugins" / kind
    if kind == "filter":
        return sorted(p.stem for p in folder.glob("*.yml"))
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))


def test_ansible_doc_for_every_module_filter_and_role_of_the_artifact(artifact):
    _tarball, installed, env = artifact
    modules = _plugins(installed, "modules")
    filters = _plugins(installed, "filter")
    assert "litellm_key" in modules and "litellm_model_list" in filters
    rc, out = _run([os.path.join(BIN, "ansible-doc"), "-t", "filter", "--list", "--json", "llm.platform"], cwd=str(installed), env=env)
    assert rc == 0, out
    listed = json.loads(out)
    # Every filter the plugins define is documented (a filter without docs is listed as undocumented).
    assert sorted(name.split(".")[-1] for name in listed) == filters
    assert all(desc and "UNDOCUMENTED" not in str(desc).upper() for desc in listed.values()), listed
    for kind, names in (("module", modules), ("filter", filters)):
        for name in names:
            rc, out = _run([os.path.join(BIN, "ansible-doc"), "-t", kind, "llm.platform." + name], cwd=str(installed), env=env)
            assert rc == 0 and "[WARNING]" not in out, out
            assert str(installed) in out, "%s %s was not read from the installed artifact:\n%s" % (kind, name, out[:400])
            assert "EXAMPLES" in out and "RETURN VALUES" in out, out
    roles = sorted(p.name for p in (installed / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
    assert len(roles) == len(list((installed / "roles").iterdir()))
    for role in roles:
        rc, out = _run([os.path.join(BIN, "ansible-doc"), "-t", "role", "llm.platform." + role], cwd=str(installed), env=env)
        assert rc == 0 and re.search(r"ENTRY POINT: \W*main\b", out), out
        assert str(installed) in out, out[:400]


def test_playbooks_of_the_artifact_resolve_their_group_vars(artifact):
    """playbooks/group_vars/all holds links to group_vars/all: a collection playbook sees the
    same platform-wide defaults as site.yml in a checkout."""
    installed = artifact[1]
    for path in (installed / "group_vars" / "all").iterdir():
        link = installed / "playbooks" / "group_vars" / "all" / path.name
        assert link.is_symlink() and yaml.safe_load(link.read_text()) == yaml.safe_load(path.read_text()), path.name


def test_antsibull_docs_lint_on_the_installed_artifact(artifact):
    """The docs Galaxy and docs sites render (plugin docs, role argument specs, RST) lint clean."""
    installed, env = artifact[1], artifact[2]
    rc, out = _run([os.path.join(BIN, "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "."], cwd=str(installed), env=env)
    assert rc == 0 and out.strip() == "", out[-4000:]
