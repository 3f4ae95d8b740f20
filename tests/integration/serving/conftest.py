"""Fixtures of the serving integration tests: the lab's kubeconfig, a playbook runner and the
request path (llm-d-inference-sim + a real LiteLLM in a loopback-only namespace)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "unit", "serving"))

import servingkit  # noqa: E402
from serving_render import CACHE, REPO, load_models  # noqa: E402

FEATURES = {"observability": True, "autoscaling": True, "gpu_quota": True, "kserve": True, "inference_routing": True}


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


def playbook(args, env=None, netns=None):
    """Run playbooks/serving.yml against the lab inventory with the three-model list."""
    venv_bin = os.path.dirname(sys.executable)
    argv = [
        os.path.join(venv_bin, "ansible-playbook"),
        "-i",
        os.path.join(REPO, "inventories", "lab"),
        os.path.join(REPO, "playbooks", "serving.yml"),
        "-e",
        json.dumps({"models": load_models(), "platform_features": FEATURES}),
        *args,
    ]
    if netns is not None:
        argv = netns.cmd(argv)
    full_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", **(env or {}))
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=full_env, check=False)


def recap(output):
    """{'ok': n, 'changed': n, 'failed': n} of localhost from a PLAY RECAP."""
    for line in output.splitlines():
        if line.startswith("localhost") and "ok=" in line:
            return {k: int(v) for k, v in (part.split("=") for part in line.split(":", 1)[1].split())}
    raise AssertionError("no PLAY RECAP in:\n" + output[-3000:])


@pytest.fixture(scope="module")
def request_path():
    try:
        ctx = servingkit.request_path()
        ns, sim_url, proxy = ctx.__enter__()
    except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip("request path not available: %s" % exc)
    yield ns, sim_url, proxy
    ctx.__exit__(None, None, None)
