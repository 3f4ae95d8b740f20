"""The main job as a new user meets it: `make lab` from a clean clone in a folder of its own, on an
empty cache, with no LiteLLM offline kit beside it or given. This machine cannot download Prisma's
engines (the offline kit is the way round that), so the set-up runs as far as it can go here - the
venv built from nothing in the fresh cache, the system packages, preflight, LiteLLM installed the
ordinary way from PyPI - and must then stop with the error that says what to provide, before the
lab is built or anything is started.

Prisma's engine downloads are pointed at a closed loopback port (PRISMA_ENGINES_MIRROR): the
failure is the one a machine without the engines' CDN sees, and nothing dials outside loopback
but the package registries. The whole main job with the kit given (LITELLM_OFFLINE_KIT) from a
fresh clone is `scripts/fresh-main.sh` (lab/README.md: its measured cold time)."""

from __future__ import annotations

import os
import subprocess

import pytest

pytestmark = [pytest.mark.slow]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("make lab needs root (network namespaces); CI runs as root")
    base = tmp_path_factory.mktemp("fresh")
    clone, cache = base / "clone", base / "cache"
    subprocess.run(["git", "clone", "--quiet", REPO, str(clone)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("LITELLM_OFFLINE_KIT", "VIRTUAL_ENV", "ANSIBLE_CONFIG")}
    env.update(LLM_PLATFORM_CACHE=str(cache), PRISMA_ENGINES_MIRROR="http://127.0.0.1:9", PATH="/usr/local/bin:/usr/bin:/bin")
    proc = subprocess.run(["make", "lab"], cwd=clone, env=env, capture_output=True, text=True, timeout=2400, check=False)
    return clone, cache, proc


def test_without_the_kit_make_lab_stops_saying_what_to_provide(fresh_run):
    clone, _cache, proc = fresh_run
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "provide the LiteLLM offline kit, either with LITELLM_OFFLINE_KIT=/path/to/litellm-offline" in out, out[-4000:]
    # The kit's expected place, beside this clone (which has none).
    assert os.path.join(os.path.dirname(str(clone)), "shared", "litellm-offline") in out, out[-4000:]


def test_it_got_that_far_from_nothing_and_started_nothing(fresh_run):
    clone, cache, proc = fresh_run
    out = proc.stdout + proc.stderr
    assert "==> creating virtualenv %s/venv/" % cache in out, out[-4000:]
    assert "preflight: validating the lab configuration" in out
    assert "installing LiteLLM 1.108.7 the ordinary way" in out
    assert "building the lab" not in out, "the error must come before the build"
    assert not (cache / "lab" / "lab").exists(), "no lab state: nothing was started"
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == "", "the checkout stays clean (caches live in LLM_PLATFORM_CACHE): %s" % status.stdout
