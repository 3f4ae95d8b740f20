"""Helpers shared by the lab tests and the lab benchmark (import as a plain module).

Finds the lab's kubeconfig and kubectl, runs ansible-playbook against inventories/lab and
parses its PLAY RECAP. Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llm-platform")
LAB_NAME = os.environ.get("LLM_PLATFORM_LAB_NAME", "lab")
KUBECONFIG = os.environ.get("LLM_PLATFORM_LAB_KUBECONFIG", os.path.join(CACHE, "lab", LAB_NAME, "kubeconfig"))
PORT = int(os.environ.get("LLM_PLATFORM_LAB_PORT", "16443"))
NETNS = f"llmlab-{LAB_NAME}"
# Whether this lab runs its pod runtime: the suite's shared lab does not (kwok's simulated pods,
# molecule/default/create.yml), the living lab does (tests/integration/living sets it). Every
# playbook run passes it, so no converge starts a runtime in a lab created without one.
RUNTIME = os.environ.get("LLM_PLATFORM_LAB_RUNTIME", "false").lower() in ("1", "true", "yes")
INVENTORY = os.path.join(REPO_ROOT, "inventories", "lab")
CREATE = os.path.join(REPO_ROOT, "molecule", "default", "create.yml")
DESTROY = os.path.join(REPO_ROOT, "molecule", "default", "destroy.yml")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def versions() -> dict:
    with open(os.path.join(REPO_ROOT, "lab", "versions.yml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def binary(name: str) -> str:
    for comp, spec in versions()["components"].items():
        if name in spec["binaries"]:
            return os.path.join(CACHE, "bin", f"{comp}-{spec['version']}", name)
    raise KeyError(name)


def crd_manifest() -> list[dict]:
    with open(os.path.join(CACHE, "lab", "crds.json"), encoding="utf-8") as fh:
        return [f for group in json.load(fh)["crds"] for f in group["files"]]


def kubectl(*args: str, input: str | None = None, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [binary("kubectl"), f"--kubeconfig={KUBECONFIG}", *args]
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def kubectl_json(*args: str) -> dict:
    return json.loads(kubectl(*args, "-o", "json").stdout)


def ready() -> bool:
    if not (os.path.exists(KUBECONFIG) and os.path.exists(binary("kubectl"))):
        return False
    proc = kubectl("--request-timeout=5s", "get", "--raw", "/readyz", check=False, timeout=20)
    return proc.returncode == 0 and proc.stdout.strip() == "ok"


def ansible_playbook(playbook: str, *extra: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"))
    cmd = [exe, "-i", INVENTORY, playbook, *lab_extra_vars(), *extra]
    return subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def local_play_argv(play_path: str, vars_path: str) -> list[str]:
    """ansible-playbook argv for a play on localhost (local connection, this venv's Python) with a
    vars file: the shape the module tests and benchmarks run one-task plays in."""
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return [exe, "-i", "localhost,", "-c", "local", play_path, "-e", "@" + vars_path, "-e", "ansible_python_interpreter=" + sys.executable]


def molecule(*args: str, env: dict | None = None, timeout: int = 1800) -> tuple[int, str]:
    """molecule ARGS from the repo root with this venv's tools: (returncode, stdout + stderr)."""
    bin_dir = os.path.dirname(sys.executable)
    run_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), NO_COLOR="1", MOLECULE_GLOB="molecule/*/molecule.yml")
    run_env["PATH"] = bin_dir + os.pathsep + run_env.get("PATH", "")
    run_env.update(env or {})
    proc = subprocess.run(
        [os.path.join(bin_dir, "molecule"), *args], cwd=REPO_ROOT, env=run_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return proc.returncode, proc.stdout + proc.stderr


def lab_extra_vars() -> list[str]:
    """-e overrides when LLM_PLATFORM_LAB_NAME/PORT/KUBECONFIG select another lab than the
    inventory's (e.g. the benchmark runs its own lab beside the shared one)."""
    runtime = ["-e", json.dumps({"substrate_lab_runtime": RUNTIME})]
    if LAB_NAME == "lab" and PORT == 16443 and "LLM_PLATFORM_LAB_KUBECONFIG" not in os.environ:
        return runtime
    # kubeconfig_path too: every non-substrate role (platform, tenants, bench) reads it, so
    # without it their objects would land in the inventory's lab.
    return [
        *runtime,
        "-e",
        json.dumps(
            {
                "substrate_lab_name": LAB_NAME,
                "substrate_lab_apiserver_port": PORT,
                "substrate_lab_kubeconfig": KUBECONFIG,
                "kubeconfig_path": KUBECONFIG,
            }
        ),
    ]


RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP lines -> {host: {ok, changed, unreachable, failed}}."""
    out = {}
    for host, ok, changed, unreachable, failed in RECAP.findall(output):
        out[host] = {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable), "failed": int(failed)}
    return out


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def wait_for(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def url_is_loopback(url: str) -> bool:
    m = re.match(r"^[a-z]+://(\[[^\]]+\]|[^/:]+)", url or "")
    return bool(m) and m.group(1) in LOOPBACK_HOSTS


# ---- the lab's network namespace and the model servers (living lab tests and benchmarks) ----
def netns_run(*argv: str, timeout: int = 60, check: bool = True) -> subprocess.CompletedProcess:
    """A command inside the lab's network namespace (loopback only)."""
    return subprocess.run(["ip", "netns", "exec", NETNS, *argv], capture_output=True, text=True, timeout=timeout, check=check)


def service_ip(namespace: str, name: str) -> str:
    return kubectl_json("-n", namespace, "get", "service", name)["spec"]["clusterIP"]


def serving(model: str, *args: str) -> subprocess.CompletedProcess:
    """playbooks/serving.yml for one model, e.g. serving("qwen-local", "-e", "replicas=2")."""
    return ansible_playbook("playbooks/serving.yml", "-e", "model=%s" % model, *args)


def model_pods(model: str, namespace: str = "serving") -> list[dict]:
    """The model's pods that are not being deleted."""
    items = kubectl_json("-n", namespace, "get", "pods", "-l", "llm-platform/model=%s" % model)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def is_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def scale_model(model: str, replicas: int, namespace: str = "serving", timeout: float = 300, serving_args: tuple = ()) -> list[dict]:
    """The model at `replicas` through serving.yml (with `serving_args` added), its autoscaling
    paused first (a resumed ScaledObject would take the replicas back to its floor); returns its
    pods once exactly that many are Ready (none left for 0)."""
    proc = serving(model, "-e", "autoscaling=paused", "-e", "replicas=%d" % replicas, *serving_args)
    assert proc.returncode == 0, "serving.yml failed:\n" + proc.stdout[-6000:]

    def settled():
        pods = model_pods(model, namespace)
        return len(pods) == replicas and all(is_ready(p) for p in pods) and (pods or [True])

    pods = wait_for(settled, timeout=timeout, interval=2, what="%d Ready pods of %s" % (replicas, model))
    return pods if replicas else []
