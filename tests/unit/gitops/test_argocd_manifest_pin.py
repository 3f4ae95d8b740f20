"""The Argo CD pin means what it says: the default platform_argocd_manifest_sha256 is the sha256
of manifests/install.yaml in the Go module of platform_argocd_version (the file the lab applies,
byte for byte the one at the tag on GitHub), the app-of-apps' self-managed argo-cd source is the
same version, and the role refuses a missing, malformed or mismatching checksum before it
contacts any cluster."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
import yaml

from .gitops_render import APP_OF_APPS, REPO, module_dir

DEFAULTS = os.path.join(REPO, "roles", "platform_argocd", "defaults", "main.yml")
with open(DEFAULTS, encoding="utf-8") as _fh:
    PIN = yaml.safe_load(_fh)
VERSION, SHA = PIN["platform_argocd_version"], PIN["platform_argocd_manifest_sha256"]
MODULE = module_dir("github.com/argoproj/argo-cd/v3", VERSION)
needs_module = pytest.mark.skipif(MODULE is None, reason="argo-cd %s not in the Go module cache (lab/build.sh crds)" % VERSION)


@needs_module
def test_the_default_checksum_is_the_pinned_manifests_sha256():
    with open(os.path.join(MODULE, "manifests", "install.yaml"), "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == SHA


def test_the_self_managed_argo_cd_tracks_the_same_version():
    with open(os.path.join(APP_OF_APPS, "values.yaml"), encoding="utf-8") as fh:
        assert yaml.safe_load(fh)["sources"]["argocd"]["targetRevision"] == VERSION


def _platform(*extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    # Only the Argo CD role; it must stop in its render step, before any Kubernetes call
    # (kubeconfig_path names a file that does not exist, so a cluster call would fail differently).
    cmd = [
        exe,
        "-i",
        "inventories/lab",
        "playbooks/platform.yml",
        "--tags",
        "argocd",
        "-e",
        "kubeconfig_path=/nonexistent/kubeconfig",
        *extra,
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@needs_module
def test_a_mismatching_checksum_is_refused_before_anything_is_applied():
    rc, out = _platform("-e", "platform_argocd_manifest_sha256=" + "0" * 64)
    assert rc != 0, out[-3000:]
    assert "does not match platform_argocd_manifest_sha256 (got %s, expected %s)" % (SHA, "0" * 64) in out
    assert "Nothing was applied" in out and "/nonexistent/kubeconfig" not in out


@pytest.mark.parametrize("bad", ["", "sha256:" + "a" * 64, "ABC"])
def test_an_empty_or_malformed_checksum_is_refused_first(bad):
    rc, out = _platform("-e", "platform_argocd_manifest_sha256=" + bad)
    assert rc != 0 and "platform_argocd_manifest_sha256: got '%s'; allowed: the sha256 (64 lowercase hex)" % bad in out, out[-3000:]
