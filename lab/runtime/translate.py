"""How a pod's command, args and env translate to the local program that backs its image.

One function per `translate:` name in images.yml. Each receives a Launch (the container's
argv after Kubernetes' command/args/$(VAR) rules, its env, the pod IP) and adapts it in place.
Everything a translator changes is listed in its docstring: that list is the whole difference
between what the chart asked for and what runs in the lab.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field


@dataclass
class Launch:
    pod: dict
    container: dict
    argv: list[str]
    env: dict[str, str]
    pod_ip: str
    alloc_port: object  # callable() -> a free local port
    litellm: object = None  # callable() -> LiteLLM install info (prefix, env, kind)
    forwards: list[tuple[int, int]] = field(default_factory=list)  # (pod port, local port)
    workdir: str | None = None
    notes: list[str] = field(default_factory=list)

    def flag(self, name: str) -> str | None:
        """The value of --name=V or --name V in argv, if present."""
        for i, arg in enumerate(self.argv):
            if arg == name and i + 1 < len(self.argv):
                return self.argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
        return None

    def has_flag(self, name: str) -> bool:
        return any(a == name or a.startswith(name + "=") for a in self.argv)


def drop_flag(argv: list[str], name: str) -> list[str]:
    """argv without --name=V and --name V."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == name:
            skip = True
            continue
        if not arg.startswith(name + "="):
            out.append(arg)
    return out


# Argo CD programs whose listeners take an address flag (all bind 0.0.0.0 by default, which
# collides with the Service proxy's listeners on the same ports).
ARGOCD_ADDRESS_FLAGS = {
    "argocd-server": ("--address", "--metrics-address"),
    "argocd-repo-server": ("--address", "--metrics-address"),
    "argocd-commit-server": ("--address", "--metrics-address"),
}


def argocd(launch: Launch) -> None:
    """Argo CD components listen on the pod IP: the server, repo-server and commit-server get
    `--address` and `--metrics-address` flags, the ApplicationSet controller its three bind
    address flags. The application controller and the notifications controller only take a
    metrics port (they bind every address): they get a free local one, forwarded from
    <pod IP>:<their port>. (Flags rather than the ARGOCD_*_LISTEN_ADDRESS variables: in
    v3.6.2 the manifest and the code disagree on some of their names.)"""
    program = os.path.basename(launch.argv[0]) if launch.argv else ""
    for flag in ARGOCD_ADDRESS_FLAGS.get(program, ()):
        if not launch.has_flag(flag):
            launch.argv += ["%s=%s" % (flag, launch.pod_ip)]
    if program == "argocd-applicationset-controller":
        for flag, port in (("--metrics-addr", 8080), ("--probe-addr", 8081), ("--webhook-addr", 7000)):
            if not launch.has_flag(flag):
                launch.argv += ["%s=%s:%d" % (flag, launch.pod_ip, port)]
    elif program in ("argocd-application-controller", "argocd-notifications"):
        port = int(launch.flag("--metrics-port") or (8082 if program == "argocd-application-controller" else 9001))
        local = launch.alloc_port()
        launch.argv = drop_flag(launch.argv, "--metrics-port") + ["--metrics-port", str(local)]
        launch.forwards.append((port, local))


def redis(launch: Launch) -> None:
    """`--bind <pod IP>` is added (the image binds every address)."""
    if not launch.has_flag("--bind"):
        launch.argv += ["--bind", launch.pod_ip]


def postgres(launch: Launch) -> None:
    """The entrypoint adapter (runtime/adapters/postgres-entrypoint.sh) plays the image's
    docker-entrypoint.sh; it is told the pod IP to listen on."""
    launch.env["LAB_LISTEN_ADDRESS"] = launch.pod_ip


MIGRATE = re.compile(r"(^|/)litellm/proxy/prisma_migration\.py$")


def litellm(launch: Launch) -> None:
    """The proxy listens on the pod IP (`--host`, the image binds every address). The install's
    engine variables are added (with the offline kit: Prisma's query engine compiled to
    WebAssembly). The schema migration (`python litellm/proxy/prisma_migration.py`, which runs
    `prisma migrate deploy`) becomes the kit's apply_migrations.sh with the offline kit, which
    applies the same migration SQL of litellm-proxy-extras with psql; with an ordinary install
    it runs as is."""
    info = launch.litellm()
    for key, value in info["env"].items():
        launch.env.setdefault(key, value)
    launch.env["PATH"] = os.path.join(info["prefix"], "venv", "bin") + ":" + launch.env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    if len(launch.argv) >= 2 and os.path.basename(launch.argv[0]).startswith("python") and MIGRATE.search(launch.argv[1]):
        if info["kind"] == "kit":
            url = launch.env.get("DATABASE_URL", "")
            launch.argv = ["bash", os.path.join(info["kit"], "apply_migrations.sh"), url, os.path.join(info["prefix"], "venv", "bin", "python")]
            launch.notes.append("migrations applied with the offline kit's apply_migrations.sh")
        else:
            launch.argv = [os.path.join(info["prefix"], "venv", "bin", "python"), info["migration_script"], *launch.argv[2:]]
        return
    if os.path.basename(launch.argv[0]) == "litellm" and not launch.has_flag("--host"):
        launch.argv += ["--host", launch.pod_ip]


def _served_names(launch: Launch) -> list[str]:
    names, take = [], False
    for arg in launch.argv:
        if arg.startswith("--served-model-name="):
            names.append(arg.split("=", 1)[1])
        elif arg == "--served-model-name":
            take = True
        elif take and not arg.startswith("--"):
            names.append(arg)
        else:
            take = False
    return names


# vLLM engine flags the simulator also understands (same meaning), passed through.
SIM_PASSTHROUGH = ("--max-model-len", "--max-num-seqs", "--block-size", "--seed")


def vllm(launch: Launch) -> None:
    """`vllm serve --model=<path> --served-model-name ... --port=P [engine args]` becomes
    llm-d-inference-sim with the same served names, the engine args it shares with vLLM
    (max-model-len, max-num-seqs, block-size, seed), KV-cache accounting on, a dummy tokenizer
    (no Hugging Face), and the latency model of the env LAB_SIM_* (or the defaults below). The
    simulator binds every address, so it gets a free local port and the runtime forwards
    <pod IP>:P to it. The sim does not check VLLM_API_KEY. The weights pre-stage init container
    (`python3 -c ... snapshot_download`) only writes its staged marker: the simulator needs no
    weights and the lab has no Hugging Face."""
    if launch.argv[:1] in (["python3"], ["python"]) and "snapshot_download" in " ".join(launch.argv):
        repo = launch.env.get("MODEL_REPO", "")
        launch.argv = ["sh", "-c", "mkdir -p /models/model && printf '%s\\n' " + shlex.quote(repo) + " > /models/model/.llm-platform-staged"]
        launch.notes.append("weights not downloaded: the simulator serves without weights")
        return
    port = int(launch.flag("--port") or 8000)
    names = _served_names(launch) or [launch.flag("--model") or "model"]
    local = launch.alloc_port()
    launch.forwards.append((port, local))
    argv = ["llm-d-inference-sim", "--port", str(local), "--model", names[0], "--served-model-name", *names]
    for name in SIM_PASSTHROUGH:
        value = launch.flag(name)
        if value:
            argv += [name, value]
    env = launch.env
    argv += [
        "--force-dummy-tokenizer",
        "--enable-kvcache",
        "--mode",
        env.get("LAB_SIM_MODE", "random"),
        "--kv-cache-size",
        env.get("LAB_SIM_KV_CACHE_BLOCKS", "1024"),
        "--time-to-first-token",
        env.get("LAB_SIM_TTFT", "20ms"),
        "--inter-token-latency",
        env.get("LAB_SIM_ITL", "5ms"),
        "--prefill-time-per-token",
        env.get("LAB_SIM_PREFILL_PER_TOKEN", "0ms"),
        "--zmq-endpoint",
        "tcp://127.0.0.1:%d" % launch.alloc_port(),
    ]
    if not launch.flag("--max-num-seqs"):
        argv += ["--max-num-seqs", env.get("LAB_SIM_MAX_NUM_SEQS", "8")]
    launch.argv = argv


TRANSLATORS = {"argocd": argocd, "redis": redis, "postgres": postgres, "litellm": litellm, "vllm": vllm}
