"""What the living-lab tests share: converge the platform the way a user does, and read what
real components did. The tier follows what lab/build.sh built: with every controller built the
platform converges with every feature; without them (the suite's core tier) with the features
whose controllers are not built turned off, so nothing waits on a pod no process backs."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The living lab's name and port (LLM_PLATFORM_LIVING_LAB_NAME/PORT): a lab of its own, so the
# suite's shared lab (kwok-simulated pods) and this one never see each other's objects.
LAB_NAME = os.environ.get("LLM_PLATFORM_LIVING_LAB_NAME", "living")
LAB_PORT = os.environ.get("LLM_PLATFORM_LIVING_LAB_PORT", "17443")


def _own_labkit():
    """labkit (tests/integration/lab) bound to the living lab: its settings are read from the
    environment at import, so this module gets a private copy imported with the living lab's."""
    keys = ("LLM_PLATFORM_LAB_NAME", "LLM_PLATFORM_LAB_PORT", "LLM_PLATFORM_LAB_KUBECONFIG", "LLM_PLATFORM_LAB_RUNTIME")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({"LLM_PLATFORM_LAB_NAME": LAB_NAME, "LLM_PLATFORM_LAB_PORT": LAB_PORT, "LLM_PLATFORM_LAB_RUNTIME": "true"})
    os.environ.pop("LLM_PLATFORM_LAB_KUBECONFIG", None)
    try:
        spec = importlib.util.spec_from_file_location("living_labkit", os.path.join(os.path.dirname(HERE), "lab", "labkit.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


labkit = _own_labkit()

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
        assert proc.returncode == 0, f"{playbook} failed:\n{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}\n{diagnose()}"


def diagnose(log_lines: int = 15) -> str:
    """The pods that are not Ready, each with what the runtime says of it (backed or simulated,
    and why) and the tail of its containers' logs: a failed converge on a machine we cannot
    reach (CI) says which process did not come up and what it printed."""
    out = ["-- pods not Ready --"]
    try:
        pods = labkit.kubectl_json("get", "pods", "-A")["items"]
        backed = {(p["namespace"], p["name"]): p for p in state().get("backed", [])}
        simulated = {(p["namespace"], p["name"]): p for p in state().get("simulated", [])}
    except Exception as exc:  # a diagnosis must not hide the failure it explains
        return "cannot diagnose: %s" % exc
    for pod in pods:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        conds = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions", [])}
        if conds.get("Ready") == "True":
            continue
        statuses = [
            "%s restarts=%s state=%s" % (c["name"], c.get("restartCount"), json.dumps(c.get("state")))
            for c in pod.get("status", {}).get("containerStatuses", [])
        ]
        runtime = backed.get((ns, name)) or simulated.get((ns, name)) or {}
        out.append("%s/%s phase=%s runtime=%s %s" % (ns, name, pod.get("status", {}).get("phase"), json.dumps(runtime)[:400], statuses))
        for container in pod["spec"].get("containers", []):
            logs = labkit.kubectl("-n", ns, "logs", name, "-c", container["name"], "--tail=%d" % log_lines, check=False)
            out.append("  logs %s: %s" % (container["name"], (logs.stdout + logs.stderr)[-2000:]))
    return "\n".join(out)


def applications() -> dict[str, dict]:
    return {a["metadata"]["name"]: a for a in labkit.kubectl_json("-n", "argocd", "get", "applications")["items"]}


def find_backed(namespace: str, prefix: str) -> dict | None:
    """The first running pod the runtime backs whose name starts with prefix, or None."""
    pods = [p for p in state()["backed"] if p["namespace"] == namespace and p["name"].startswith(prefix) and p["phase"] == "Running"]
    return pods[0] if pods else None


def backed_pod(namespace: str, prefix: str) -> dict:
    pod = find_backed(namespace, prefix)
    assert pod, "no running backed pod %s/%s* in the runtime's state" % (namespace, prefix)
    return pod


netns_run = labkit.netns_run
service_ip = labkit.service_ip

# The inference Gateway the platform's routing layer declares (gitops/charts/inference-routing).
GATEWAY_NS = "inference"
GATEWAY = "inference-gateway"


def curl_post(url: str, body: dict, *curl_flags: str, timeout: int = 60) -> str:
    """curl's stdout for a JSON POST from inside the lab's namespace."""
    argv = ["curl", "-sS", *curl_flags, "-m", str(timeout), "-H", "Content-Type: application/json", "-d", json.dumps(body), url]
    return netns_run(*argv, timeout=timeout + 10, check=False).stdout


def gateway_access_log(tail: int = 2000) -> list[dict]:
    """The routed requests in the gateway Envoy's JSON access log (its last `tail` lines)."""
    selector = "gateway.networking.k8s.io/gateway-name=%s" % GATEWAY
    pods = labkit.kubectl_json("-n", GATEWAY_NS, "get", "pods", "-l", selector)["items"]
    assert pods, "no Envoy pod for the Gateway"
    out = labkit.kubectl("-n", GATEWAY_NS, "logs", pods[0]["metadata"]["name"], "-c", "envoy", "--tail=%d" % tail).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"upstream"' in line]


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
