"""The -vvv secret sweep, in one place: which playbooks run (``steps``), how a run is made
(``run``) and where secrets are looked for (``Secrets``, ``written_files``, ``cluster_leaks``).

The request path is pluggable: ``Edge`` starts llm-d-inference-sim in a loopback-only network
namespace (bridged to the host's 127.0.0.1 by the lab's lab_bridge.py) behind a real LiteLLM
with PostgreSQL from tests/integration/litellm/litellm_offline.py. When LiteLLM moves into
the cluster, give ``steps`` that path's URL and master key instead; nothing else changes.

Every process listens on and dials 127.0.0.1 only. Secret values are never printed by this
module: a leak is reported by the secret's name and where it was found.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
REPO_ROOT = os.path.dirname(TESTS)
sys.path.insert(0, os.path.join(TESTS, "integration", "litellm"))
sys.path.insert(0, os.path.join(TESTS, "integration", "lab"))

import labkit  # noqa: E402
import litellm_offline  # noqa: E402

from ansible_collections.llm.platform.plugins.filter.models import litellm_model_list  # noqa: E402

BIN = os.path.dirname(sys.executable)
BRIDGE = os.path.join(REPO_ROOT, "roles", "substrate_lab", "files", "lab_bridge.py")
# Strings that look like a LiteLLM or OpenAI-style key, whoever minted them.
KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_models():
    with open(os.path.join(REPO_ROOT, "group_vars", "all", "models.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["models"]


class Edge:
    """llm-d-inference-sim (in its own loopback-only namespace, bridged to a host port) behind a
    real LiteLLM + PostgreSQL on the host's 127.0.0.1, configured with the collection's own
    model_list filter (so prices match the models list)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.netns = "llmp-sweep-%d" % os.getpid()
        self.sim_port, self.host_port = 8000, free_port()
        self.procs = []
        self.litellm = None

    def _spawn(self, argv, name, netns=False):
        if netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        log = open(os.path.join(self.workdir, name + ".log"), "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self):
        sim = os.path.join(litellm_offline.cache_dir(), "..", "bin", "llm-d-inference-sim")
        if not os.access(sim, os.X_OK):
            raise RuntimeError("llm-d-inference-sim not built (lab/build.sh)")
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        subprocess.run(["ip", "netns", "exec", self.netns, "ip", "link", "set", "lo", "up"], check=True)
        names = sorted({m["served_name"] for m in group_models()})
        self._spawn(
            [
                sim,
                "--port",
                str(self.sim_port),
                "--model",
                names[0],
                "--served-model-name",
                *names,
                "--force-dummy-tokenizer",
                "--mode",
                "random",
                "--time-to-first-token",
                "5ms",
                "--inter-token-latency",
                "1ms",
                "--max-model-len",
                "8192",
            ],
            "sim",
            netns=True,
        )
        sock = os.path.join(self.workdir, "sim.sock")
        self._spawn(
            [sys.executable, BRIDGE, "--listen-unix", sock, "--connect-tcp", "127.0.0.1:%d" % self.sim_port], "bridge-inner", netns=True
        )
        deadline = time.time() + 30
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.2)
        self._spawn([sys.executable, BRIDGE, "--listen-tcp", "127.0.0.1:%d" % self.host_port, "--connect-unix", sock], "bridge-host")
        self._wait_sim()
        config = {
            "model_list": litellm_model_list(group_models(), api_base="http://127.0.0.1:%d/v1" % self.host_port),
            "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY", "database_url": "os.environ/DATABASE_URL"},
            "litellm_settings": {"telemetry": False, "drop_params": True},
        }
        config_path = os.path.join(self.workdir, "litellm.yaml")
        with open(config_path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle)
        self.litellm = litellm_offline.LiteLLM(master_key="sk-sweep-master-" + secrets.token_hex(16))
        env = self.litellm.env()
        env["UPSTREAM_API_KEY"] = "sk-sweep-upstream-" + secrets.token_hex(8)
        subprocess.run(
            ["bash", os.path.join(litellm_offline.kit_dir(), "start.sh"), self.litellm.prefix, config_path, str(self.litellm.port)],
            check=True,
            env=env,
            capture_output=True,
        )
        self.litellm.started = True
        self.upstream_key = env["UPSTREAM_API_KEY"]
        return self

    def _wait_sim(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen("http://127.0.0.1:%d/v1/models" % self.host_port, timeout=2).read()  # noqa: S310 - loopback
                return
            time.sleep(0.5)
        raise RuntimeError("llm-d-inference-sim did not answer through the bridge")

    def stop(self):
        if self.litellm is not None:
            self.litellm.stop()
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        subprocess.run(["ip", "netns", "del", self.netns], check=False, stderr=subprocess.DEVNULL)


class Secrets:
    """Known secret values (by name) plus the key pattern; ``find`` reports names, never values."""

    def __init__(self):
        self.values = {}

    def add(self, name, value):
        if value and len(value) >= 8:
            self.values[name] = value

    def find(self, data, patterns=True):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        found = sorted(name for name, value in self.values.items() if value in text)
        if patterns:
            known = set(self.values.values())
            found += ["a key-like string (%s...)" % m[:6] for m in set(KEY_PATTERN.findall(text)) if m not in known]
        return found


class Step:
    def __init__(self, name, playbook, args=(), env=None, check_rc=True):
        self.name, self.playbook, self.args, self.env, self.check_rc = name, playbook, list(args), dict(env or {}), check_rc


def lab_vars():
    """-e overrides pointing every play at this session's lab (name, port, kubeconfig, and
    whether it runs its pod runtime: the shared lab does not)."""
    return {
        "substrate_lab_runtime": labkit.RUNTIME,
        "cluster_name": labkit.LAB_NAME,
        "substrate_lab_name": labkit.LAB_NAME,
        "substrate_lab_apiserver_port": labkit.PORT,
        "kubeconfig_path": labkit.KUBECONFIG,
        "substrate_lab_kubeconfig": labkit.KUBECONFIG,
    }


def steps(litellm_url, bench_key, reports_dir):
    """Every playbook the lab can run, at -vvv: site (substrate, platform, tenants), tenants
    again with one tenant offboarded (its key Secrets deleted), bench with an existing key and
    with a minted one, serving's smoke test through LiteLLM, secrets, teardown in check mode."""
    bench = {
        "bench_litellm_url": litellm_url,
        "bench_endpoint": litellm_url + "/v1",
        "bench_profile": "concurrency",
        "bench_concurrencies": [1, 2],
        "bench_duration_seconds": 2,
        "bench_warmup_requests": 1,
        "bench_input_tokens": 16,
        "bench_output_tokens": 8,
        "bench_prometheus_required": False,
        "bench_reports_dir": reports_dir,
    }
    with open(os.path.join(REPO_ROOT, "group_vars", "all", "tenants.yml"), encoding="utf-8") as handle:
        first_tenant = yaml.safe_load(handle)["tenants"][:1]
    return [
        Step("site", "site.yml", ["-e", json.dumps({"tenants_litellm_api_url": litellm_url})]),
        Step(
            "tenants-offboard",
            "playbooks/tenants.yml",
            ["-e", json.dumps({"tenants_litellm_api_url": litellm_url, "tenants": first_tenant, "tenants_prune": True})],
        ),
        Step(
            "bench-existing-key",
            "playbooks/bench.yml",
            ["-e", json.dumps(dict(bench, bench_key_mode="existing", bench_run_id="sweep-existing"))],
            env={"BENCH_API_KEY": bench_key},
        ),
        Step("bench-minted-key", "playbooks/bench.yml", ["-e", json.dumps(dict(bench, bench_run_id="sweep-minted"))]),
        Step(
            "serving-smoke", "playbooks/serving.yml", ["-e", "model=qwen-local", "-e", "smoke=true"], env={"LITELLM_API_URL": litellm_url}
        ),
        Step("secrets", "playbooks/secrets.yml"),
        Step("teardown-check", "playbooks/teardown.yml", ["--check", "-e", "teardown_confirm=%s" % labkit.LAB_NAME]),
    ]


def run(step, workdir, env):
    """ansible-playbook -vvv for one step; returns (rc, output, log file)."""
    log = os.path.join(workdir, "%s.ansible.log" % step.name)
    full_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    full_env.update(PATH=BIN + os.pathsep + full_env.get("PATH", ""), ANSIBLE_LOG_PATH=log)
    # Every temp file of the run (module payloads included) in workdir, where the sweep looks.
    full_env.update(
        ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "ansible-local-tmp"), ANSIBLE_REMOTE_TEMP=os.path.join(workdir, "ansible-remote-tmp")
    )
    full_env.update(TMPDIR=os.path.join(workdir, "tmp"))
    os.makedirs(full_env["TMPDIR"], exist_ok=True)
    full_env.update(env)
    full_env.update(step.env)
    argv = [os.path.join(BIN, "ansible-playbook"), "-vvv", "-i", labkit.INVENTORY, step.playbook, "-e", json.dumps(lab_vars()), *step.args]
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=1800, check=False)
    return proc.returncode, proc.stdout + proc.stderr, log


SKIP_DIRS = {".git", "collections", "node_modules", "__pycache__"}


def written_files(roots, since, exclude=()):
    """Files under ``roots`` modified at or after ``since`` (seconds), minus ``exclude`` prefixes."""
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not os.path.join(dirpath, d).startswith(tuple(exclude))]
            for name in filenames:
                path = os.path.join(dirpath, name)
                with contextlib.suppress(OSError):
                    if os.path.isfile(path) and not os.path.islink(path) and os.path.getmtime(path) >= since:
                        out.append(path)
    return out


def cluster_leaks(found):
    """(kind, namespace/name, where, secret names) for every lab object carrying a secret: in any
    annotation of any object (last-applied-configuration included), or anywhere in an object
    that is not a Secret (a Secret's data is where secrets belong)."""
    kinds = labkit.kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    leaks = []
    for kind in kinds:
        proc = labkit.kubectl("get", kind, "-A", "-o", "json", check=False, timeout=120)
        if proc.returncode != 0:
            continue
        for item in json.loads(proc.stdout).get("items", []):
            meta = item.get("metadata", {})
            where = "%s/%s" % (meta.get("namespace", ""), meta.get("name"))
            names = found(json.dumps(meta.get("annotations") or {}))
            if names:
                leaks.append((item.get("kind"), where, "annotations", names))
            if item.get("kind") != "Secret":
                names = found(json.dumps({k: v for k, v in item.items() if k != "metadata"}) + json.dumps(meta.get("labels") or {}))
                if names:
                    leaks.append((item.get("kind"), where, "object", names))
    return leaks


def read_secret_values(namespace, selector=None):
    """{namespace/name/key: value} of the Secrets in a namespace (to know what to look for)."""
    import base64

    args = ["get", "secrets", "-n", namespace, "-o", "json"] + (["-l", selector] if selector else [])
    proc = labkit.kubectl(*args, check=False)
    out = {}
    if proc.returncode == 0:
        for item in json.loads(proc.stdout)["items"]:
            for key, value in (item.get("data") or {}).items():
                out["%s/%s/%s" % (namespace, item["metadata"]["name"], key)] = base64.b64decode(value).decode("utf-8", "replace")
    return out
