"""lab/build.sh error paths: a binary whose version does not match the pin, a failed build."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import labkit

pytestmark = pytest.mark.lab
BUILD = os.path.join(labkit.REPO_ROOT, "lab", "build.sh")


def _run(args, cache, versions_file=None):
    env = dict(os.environ, LLM_PLATFORM_CACHE=str(cache), LAB_PYTHON=sys.executable)
    if versions_file:
        env["LAB_VERSIONS_FILE"] = str(versions_file)
    return subprocess.run([BUILD, *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def test_version_mismatch_is_a_clear_error(tmp_path):
    real = labkit.binary("kwok")
    if not os.path.exists(real):
        pytest.skip("kwok not built yet (run lab/build.sh)")
    # A cache whose kwok build dir holds the wrong binaries (helm's, in place of kwok's).
    version = labkit.versions()["components"]["kwok"]["version"]
    fake = tmp_path / "bin" / f"kwok-{version}"
    fake.mkdir(parents=True)
    for name in ("kwok", "kwokctl"):
        (fake / name).symlink_to(labkit.binary("helm"))
    (fake / ".complete").touch()
    proc = _run(["--verify-only", "kwok"], tmp_path)
    assert proc.returncode != 0
    assert "binary version mismatch" in proc.stderr, proc.stderr
    assert "sigs.k8s.io/kwok v0.8.0" in proc.stderr or version in proc.stderr


def test_failed_build_names_its_log(tmp_path):
    with open(os.path.join(labkit.REPO_ROOT, "lab", "versions.yml"), encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    data["components"]["kwok"]["version"] = "v0.0.0-does-not-exist"
    vfile = tmp_path / "versions.yml"
    vfile.write_text(yaml.safe_dump(data))
    proc = _run(["kwok"], tmp_path / "cache", vfile)
    assert proc.returncode != 0
    log = tmp_path / "cache" / "lab" / "logs" / "build-kwok-v0.0.0-does-not-exist.log"
    assert f"build of kwok v0.0.0-does-not-exist failed; full log: {log}" in proc.stderr, proc.stderr
    assert log.exists() and log.stat().st_size > 0
