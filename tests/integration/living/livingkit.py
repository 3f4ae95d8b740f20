"""What the living-lab tests share: converge the platform the way a user does, and read what
real components did. The tier follows what lab/build.sh built: with every controller built the
platform converges with every feature; without them (the suite's core tier) with the features
whose controllers are not built turned off, so nothing waits on a pod no process backs."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import time

import labkit

STATE_DIR = os.path.join(labkit.CACHE, "lab", labkit.LAB_NAME)
# Feature -> the lab component whose binaries back its controllers.
FEATURE_COMPONENTS = {
    "gpu_quota": "kueue",
    "autoscaling": "keda",
    "observability": "prometheus-operator",
}


def state_path() -> str:
    return os.path.join(STATE_DIR, "runtime", "state.json")


def state() -> dict:
    with open(state_path(), encoding="utf-8") as handle:
        return json.load(handle)


def built(component: str) -> bool:
    spec = labkit.versions()["components"][component]
    return all(os.path.exists(os.path.join(labkit.CACHE, "bin", "%s-%s" % (component, spec["version"]), b)) for b in spec["binaries"])


def features() -> dict:
    # kserve stays as group_vars/all/platform.yml ships it (off): no model of models.yml needs it.
    return {feature: built(comp) for feature, comp in FEATURE_COMPONENTS.items()} | {"inference_routing": True, "kserve": False}


def tier() -> str:
    return "full" if all(built(c) for c in FEATURE_COMPONENTS.values()) else "core"


def converge_vars() -> list[str]:
    return ["-e", json.dumps({"platform_features": features()})]


def converge() -> None:
    for playbook in ("playbooks/secrets.yml", "playbooks/platform.yml"):
        proc = labkit.ansible_playbook(playbook, *converge_vars())
        assert proc.returncode == 0, f"{playbook} failed:\n{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}"


def applications() -> dict[str, dict]:
    return {a["metadata"]["name"]: a for a in labkit.kubectl_json("-n", "argocd", "get", "applications")["items"]}


def backed_pod(namespace: str, prefix: str) -> dict:
    pods = [p for p in state()["backed"] if p["namespace"] == namespace and p["name"].startswith(prefix) and p["phase"] == "Running"]
    assert pods, "no running backed pod %s/%s* in the runtime's state" % (namespace, prefix)
    return pods[0]


def netns_run(*argv: str, timeout: int = 60, check: bool = True) -> subprocess.CompletedProcess:
    """A command inside the lab's namespace (loopback only)."""
    return subprocess.run(["ip", "netns", "exec", labkit.NETNS, *argv], capture_output=True, text=True, timeout=timeout, check=check)


def service_ip(namespace: str, name: str) -> str:
    return labkit.kubectl_json("-n", namespace, "get", "service", name)["spec"]["clusterIP"]


def secret_value(namespace: str, name: str, key: str) -> str:
    data = labkit.kubectl_json("-n", namespace, "get", "secret", name)["data"]
    return base64.b64decode(data[key]).decode()


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def port_forward(namespace: str, target: str, port: int):
    """kubectl port-forward on 127.0.0.1 (through the API server and kwok to the pod)."""
    local = free_port()
    argv = [labkit.binary("kubectl"), f"--kubeconfig={labkit.KUBECONFIG}", "-n", namespace, "port-forward", "--address", "127.0.0.1"]
    proc = subprocess.Popen([*argv, target, "%d:%d" % (local, port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), timeout=1):
                break
            assert proc.poll() is None, "port-forward exited: %s" % proc.stderr.read().decode()
            time.sleep(0.3)
        yield "http://127.0.0.1:%d" % local
    finally:
        proc.terminate()
        proc.wait(10)
