"""The lab's request path for the main job: llm-d-inference-sim standing in for the
engines, and a real LiteLLM (+ PostgreSQL, from the litellm-offline kit) as the public /v1.

  python scripts/lab_edge.py up     # prints nothing secret; writes state under the cache
  python scripts/lab_edge.py down

The simulator binds every interface of its namespace (it has no listen-address flag), so
it runs in its own network namespace with only loopback; a unix-socket bridge (the lab's
lab_bridge.py) carries 127.0.0.1:<port> on the host into it. LiteLLM and PostgreSQL bind
127.0.0.1 on the host. The master key is generated once, kept in a 0600 file in the cache
and handed to Ansible through the environment, never on a command line or in output.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llm-platform")
STATE = os.path.join(CACHE, "lab-edge")
NETNS = "llm-edge"
SIM_PORT = 8000
SIM_HOST_PORT = 18000
LITELLM_PORT = int(os.environ.get("LAB_EDGE_LITELLM_PORT", "4000"))
BRIDGE = os.path.join(REPO, "roles", "substrate_lab", "files", "lab_bridge.py")

sys.path.insert(0, os.path.join(REPO, "collections"))
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_AnsibleCollectionFinder(paths=[os.path.join(REPO, "collections")], scan_sys_paths=True)._install()
from ansible_collections.llm.platform.plugins.filter.models import litellm_model_list  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "lab"))
import litellm_install  # noqa: E402


def log(msg):
    print("==> " + msg, file=sys.stderr, flush=True)


def kit():
    found = litellm_install.find_kit()
    if not found:
        raise SystemExit(
            "ERROR: the lab edge runs LiteLLM with the offline kit's start/stop scripts; set LITELLM_OFFLINE_KIT "
            "to the litellm-offline directory (or place it at ../shared/litellm-offline beside the checkout)"
        )
    return found


def prefix():
    try:
        return litellm_install.ensure()
    except litellm_install.InstallError as exc:
        raise SystemExit("ERROR: %s" % exc) from None


def sim_binary():
    path = os.path.join(CACHE, "bin", "llm-d-inference-sim")
    if not os.path.exists(path):
        raise SystemExit("llm-d-inference-sim not built: run lab/build.sh")
    return path


def models():
    with open(os.path.join(REPO, "group_vars", "all", "models.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["models"]


def master_key():
    path = os.path.join(STATE, "master-key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("sk-lab-" + secrets.token_hex(24))
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def spawn(argv, name, netns=False):
    if netns:
        argv = ["ip", "netns", "exec", NETNS, *argv]
    out = open(os.path.join(STATE, name + ".log"), "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(STATE, name + ".pid"), "w", encoding="utf-8") as handle:
        handle.write(str(proc.pid))
    return proc


def wait_tcp(port, proc, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("%s exited; see %s" % (what, STATE))
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("%s did not listen on 127.0.0.1:%d within %ds" % (what, port, timeout))


def up():
    os.makedirs(STATE, mode=0o700, exist_ok=True)
    if os.path.exists(os.path.join(STATE, "up.json")):
        log("lab edge already up (python scripts/lab_edge.py down to stop it)")
        return
    names = sorted({m["served_name"] for m in models()})
    subprocess.run(["ip", "netns", "add", NETNS], check=False, stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"], check=True)
    sim = spawn(
        [
            sim_binary(),
            "--port",
            str(SIM_PORT),
            "--model",
            names[0],
            "--served-model-name",
            *names,
            "--force-dummy-tokenizer",
            "--mode",
            "random",
            "--time-to-first-token",
            "20ms",
            "--inter-token-latency",
            "5ms",
            "--max-num-seqs",
            "8",
            "--max-model-len",
            "8192",
        ],
        "sim",
        netns=True,
    )
    sock = os.path.join(STATE, "sim.sock")
    spawn(
        [
            sys.executable,
            BRIDGE,
            "--listen-unix",
            sock,
            "--connect-tcp",
            "127.0.0.1:%d" % SIM_PORT,
            "--pidfile",
            os.path.join(STATE, "bridge-inner.pid2"),
        ],
        "bridge-inner",
        netns=True,
    )
    time.sleep(0.5)
    host_bridge = spawn(
        [
            sys.executable,
            BRIDGE,
            "--listen-tcp",
            "127.0.0.1:%d" % SIM_HOST_PORT,
            "--connect-unix",
            sock,
            "--pidfile",
            os.path.join(STATE, "bridge-host.pid2"),
        ],
        "bridge-host",
    )
    wait_tcp(SIM_HOST_PORT, host_bridge, "the simulator bridge")
    del sim
    config = {
        "model_list": litellm_model_list(models(), api_base="http://127.0.0.1:%d/v1" % SIM_HOST_PORT),
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY", "database_url": "os.environ/DATABASE_URL"},
        "litellm_settings": {"telemetry": False, "drop_params": True},
    }
    config_path = os.path.join(STATE, "litellm.yaml")
    with open(config_path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle)
    env = dict(os.environ, LITELLM_MASTER_KEY=master_key(), UPSTREAM_API_KEY="sk-lab-upstream-unused")
    log("starting LiteLLM on 127.0.0.1:%d" % LITELLM_PORT)
    subprocess.run(["bash", os.path.join(kit(), "start.sh"), prefix(), config_path, str(LITELLM_PORT)], env=env, check=True)
    with open(os.path.join(STATE, "up.json"), "w", encoding="utf-8") as handle:
        json.dump({"litellm_url": "http://127.0.0.1:%d" % LITELLM_PORT, "prefix": prefix()}, handle)
    urllib.request.urlopen("http://127.0.0.1:%d/health/liveliness" % LITELLM_PORT, timeout=10).read()  # noqa: S310 - loopback


def down():
    if os.path.exists(os.path.join(prefix(), "proxy.pid")):
        subprocess.run(["bash", os.path.join(kit(), "stop.sh"), prefix()], check=False)
    for name in ("bridge-host", "bridge-inner", "sim"):
        path = os.path.join(STATE, name + ".pid")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                pid = int(handle.read().strip())
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            os.remove(path)
    subprocess.run(["ip", "netns", "del", NETNS], check=False, stderr=subprocess.DEVNULL)
    for leftover in ("up.json", "sim.sock"):
        path = os.path.join(STATE, leftover)
        if os.path.exists(path):
            os.remove(path)


if __name__ == "__main__":
    {"up": up, "down": down}[sys.argv[1] if len(sys.argv) > 1 else "up"]()
