"""How a pod's command, args and env translate to the local program that backs its image.

One function per `translate:` name in images.yml. Each receives a Launch (the container's
argv after Kubernetes' command/args/$(VAR) rules, its env, the pod IP) and adapts it in place.
Everything a translator changes is listed in its docstring: that list is the whole difference
between what the chart asked for and what runs in the lab. Listen addresses need no
translation: a wildcard bind lands on the pod IP (bindfix.py), so images without a translator
run their command as the chart wrote it.
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


MIGRATE = re.compile(r"(^|/)litellm/proxy/prisma_migration\.py$")


def litellm(launch: Launch) -> None:
    """The install's engine variables are added (with the offline kit: Prisma's query engine compiled to
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
            launch.argv = [
                "bash",
                os.path.join(info["kit"], "apply_migrations.sh"),
                url,
                os.path.join(info["prefix"], "venv", "bin", "python"),
            ]
            launch.notes.append("migrations applied with the offline kit's apply_migrations.sh")
        else:
            launch.argv = [os.path.join(info["prefix"], "venv", "bin", "python"), info["migration_script"], *launch.argv[2:]]
        return


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
    (max-model-len, max-num-seqs, block-size, seed), KV-cache accounting on (with POD_IP,
    POD_NAME, POD_NAMESPACE set, as llm-d's manifests do), a dummy tokenizer
    (no Hugging Face), and the latency model of the env LAB_SIM_* (or the defaults below); it
    serves on the same port P. The sim does not check VLLM_API_KEY. The weights pre-stage init container
    (`python3 -c ... snapshot_download`) only writes its staged marker: the simulator needs no
    weights and the lab has no Hugging Face."""
    if launch.argv[:1] in (["python3"], ["python"]) and "snapshot_download" in " ".join(launch.argv):
        repo = launch.env.get("MODEL_REPO", "")
        launch.argv = [
            "sh",
            "-c",
            "mkdir -p /models/model && printf '%s\\n' " + shlex.quote(repo) + " > /models/model/.llm-platform-staged",
        ]
        launch.notes.append("weights not downloaded: the simulator serves without weights")
        return
    port = int(launch.flag("--port") or 8000)
    names = _served_names(launch) or [launch.flag("--model") or "model"]
    argv = ["llm-d-inference-sim", "--port", str(port), "--model", names[0], "--served-model-name", *names]
    for name in SIM_PASSTHROUGH:
        value = launch.flag(name)
        if value:
            argv += [name, value]
    env = launch.env
    # The simulator's KV-cache events name their source by POD_IP (as llm-d's manifests set it).
    env.setdefault("POD_IP", launch.pod_ip)
    env.setdefault("POD_NAME", launch.pod["metadata"]["name"])
    env.setdefault("POD_NAMESPACE", launch.pod["metadata"]["namespace"])
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


TRANSLATORS = {"litellm": litellm, "vllm": vllm}
