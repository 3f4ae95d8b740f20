"""Helpers of the serving integration tests (a module of its own: test files import it;
conftest.py modules share one import name across directories)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "unit", "serving"))

from serving_render import REPO, load_models  # noqa: E402

FEATURES = {"observability": True, "autoscaling": True, "gpu_quota": True, "kserve": True, "inference_routing": True}


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
