"""Fixtures of the serving integration tests: the lab's kubeconfig, a playbook runner and the
request path (llm-d-inference-sim + a real LiteLLM in a loopback-only namespace)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "unit", "serving"))

import servingkit  # noqa: E402
from serving_render import CACHE  # noqa: E402


def _lab_kubeconfig():
    path = os.environ.get("LAB_KUBECONFIG") or os.path.join(CACHE, "lab", "lab", "kubeconfig")
    return path if os.path.isfile(path) else None


def kubectl_binary():
    cached = os.path.join(CACHE, "bin", "kubectl")
    return cached if os.access(cached, os.X_OK) else "kubectl"


@pytest.fixture(scope="session")
def kubeconfig():
    path = _lab_kubeconfig()
    if path is None:
        pytest.skip("the lab is not running (ansible-playbook playbooks/substrate.yml -i inventories/lab)")
    res = subprocess.run([kubectl_binary(), "--kubeconfig", path, "get", "--raw", "/readyz"], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        pytest.skip("the lab API server does not answer: %s" % res.stderr.strip())
    return path


@pytest.fixture(scope="session")
def kubectl(kubeconfig):
    def run(*args, stdin=None, check=True):
        res = subprocess.run(
            [kubectl_binary(), "--kubeconfig", kubeconfig, *args], input=stdin, capture_output=True, text=True, check=False
        )
        if check and res.returncode != 0:
            raise AssertionError("kubectl %s failed:\n%s" % (" ".join(args[:4]), res.stderr))
        return res

    return run


@pytest.fixture(scope="module")
def request_path():
    try:
        ctx = servingkit.request_path()
        ns, sim_url, proxy = ctx.__enter__()
    except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip("request path not available: %s" % exc)
    yield ns, sim_url, proxy
    ctx.__exit__(None, None, None)
