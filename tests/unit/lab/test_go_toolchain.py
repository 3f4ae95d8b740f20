"""lab/go_toolchain.py: the toolchain pin is read from versions.yml and the dirhash that guards
the download is Go's own (checked against the .ziphash files the Go module cache keeps)."""

from __future__ import annotations

import glob
import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llm-platform")


def load():
    spec = importlib.util.spec_from_file_location("go_toolchain", os.path.join(REPO, "lab", "go_toolchain.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pins_name_a_toolchain_at_least_the_minimum():
    gt = load()
    pin = gt.pins()
    assert gt.version_tuple(pin["toolchain"]) >= gt.version_tuple(pin["min_version"])
    assert pin["toolchain_sum"].startswith("h1:") and len(pin["toolchain_sum"]) == 47


def test_dirhash_matches_the_go_module_cache():
    zips = sorted(glob.glob(os.path.join(CACHE, "go", "mod", "cache", "download", "sigs.k8s.io", "kwok", "@v", "*.zip")))
    if not zips:
        pytest.skip("no kwok module zip in the Go module cache (lab/build.sh kwok fetches it)")
    gt = load()
    for path in zips:
        with open(path[: -len(".zip")] + ".ziphash", encoding="utf-8") as handle:
            assert gt.dirhash_h1(path) == handle.read().strip(), path


def test_a_too_old_go_is_not_used(monkeypatch, tmp_path):
    gt = load()
    monkeypatch.setattr(gt, "local_go_version", lambda: "1.19.8")
    monkeypatch.setattr(gt, "CACHE", str(tmp_path))
    root = tmp_path / "go" / "toolchain" / ("go" + gt.pins()["toolchain"])
    (root / "bin").mkdir(parents=True)
    (root / ".complete").write_text("")
    assert gt.ensure() == str(root / "bin")
