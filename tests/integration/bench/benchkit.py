"""Lab pieces for the bench integration tests and perf figure: a private network namespace
(only ``lo``, 127.0.0.1), llm-d-inference-sim and a real Prometheus inside it.

llm-d-inference-sim v0.10.2 has no listen-address flag (it binds ``:port``), so it, Prometheus and
every client run in a namespace of their own: nothing is reachable from outside the machine and
all traffic stays on that namespace's loopback. Every process is started and stopped by PID."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llm-platform"
)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SIM_VERSION = "v0.10.2"
SIM_BUILD = "CGO_ENABLED=0 GOMODCACHE=$LLM_PLATFORM_CACHE/go/mod GOCACHE=$LLM_PLATFORM_CACHE/go/build lab/build.sh llm-d-inference-sim"


def sim_binary() -> str:
    cands = [
        os.environ.get("BENCH_SIM_BIN", ""),
        os.path.join(CACHE, "bin", "llm-d-inference-sim-%s" % SIM_VERSION, "llm-d-inference-sim"),
        os.path.join(CACHE, "bin", "llm-d-inference-sim"),
    ]
    cands += sorted(glob.glob(os.path.join(CACHE, "bin", "llm-d-inference-sim-%s*" % SIM_VERSION, "llm-d-inference-sim")))
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise RuntimeError("llm-d-inference-sim %s not built; build it with: %s" % (SIM_VERSION, SIM_BUILD))


def prometheus_binary() -> str:
    p = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not os.path.isfile(p):
        raise RuntimeError("prometheus not installed: apt-get install -y prometheus (then keep the system service stopped)")
    return p


class Netns:
    """A named network namespace with only loopback up."""

    def __init__(self, name: str | None = None):
        self.name = name or "bench-%d-%d" % (os.getpid(), int(time.time() * 1000) % 100000)

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"], check=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], check=False)

    def cmd(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv, **kw):
        kw.setdefault("check", False)
        return subprocess.run(self.cmd(argv), **kw)  # noqa: PLW1510


class Proc:
    """A background process started in the namespace; stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, ns: Netns, argv: list[str], log: str, env: dict | None = None):
        self.log = log
        self._fh = open(log, "wb")  # noqa: SIM115 (closed in stop())
        self.p = subprocess.Popen(ns.cmd(argv), stdout=self._fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self._fh.close()

    def tail(self, n=3000) -> str:
        with open(self.log, "rb") as fh:
            return fh.read()[-n:].decode("utf-8", "replace")


def free_port() -> int:
    # Ports are free in a fresh namespace; pick distinct ones for readability.
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ns_http(ns: Netns, url: str, timeout: float = 5.0) -> tuple[int, str]:
    """GET ``url`` from inside the namespace (curl)."""
    r = ns.run(
        ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", str(timeout), url], capture_output=True, text=True, check=False
    )
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def wait_http(ns: Netns, url: str, proc: Proc, timeout: float = 60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.p.poll() is not None:
            raise RuntimeError("process exited while starting:\n" + proc.tail())
        code, _ = ns_http(ns, url, 2)
        if code == 200:
            return
        time.sleep(0.3)
    raise RuntimeError("%s not ready after %ss:\n%s" % (url, timeout, proc.tail()))


def start_sim(
    ns: Netns,
    port: int,
    workdir: str,
    model: str = "bench-model",
    ttft: str = "0ms",
    itl: str = "0ms",
    max_num_seqs: int = 5,
    extra: list[str] | None = None,
) -> Proc:
    argv = [
        sim_binary(),
        "--port",
        str(port),
        "--model",
        model,
        "--force-dummy-tokenizer",
        "--time-to-first-token",
        ttft,
        "--inter-token-latency",
        itl,
        "--max-num-seqs",
        str(max_num_seqs),
        "--max-model-len",
        "32768",
        "--mode",
        "random",
        *(extra or []),
    ]
    env = dict(os.environ, POD_IP="127.0.0.1")  # the KV-cache simulation needs an address to report
    proc = Proc(ns, argv, os.path.join(workdir, "sim-%d.log" % port), env=env)
    wait_http(ns, "http://127.0.0.1:%d/v1/models" % port, proc)
    return proc


def start_prometheus(ns: Netns, port: int, workdir: str, targets: list[str], scrape_s: str = "1s") -> Proc:
    cfg = os.path.join(workdir, "prometheus.yml")
    with open(cfg, "w", encoding="utf-8") as fh:
        fh.write(
            "global:\n  scrape_interval: %s\n  evaluation_interval: %s\nscrape_configs:\n"
            "  - job_name: sim\n    static_configs:\n      - targets: %s\n" % (scrape_s, scrape_s, json.dumps(targets))
        )
    data = tempfile.mkdtemp(prefix="prom-", dir=workdir)
    argv = [
        prometheus_binary(),
        "--config.file",
        cfg,
        "--storage.tsdb.path",
        data,
        "--web.listen-address",
        "127.0.0.1:%d" % port,
        "--storage.tsdb.retention.time",
        "1h",
    ]
    proc = Proc(ns, argv, os.path.join(workdir, "prometheus.log"))
    wait_http(ns, "http://127.0.0.1:%d/-/ready" % port, proc)
    return proc


def wait_scraped(ns: Netns, prom_port: int, job: str = "sim", timeout: float = 30.0):
    """Until every target of ``job`` is up (so the first step's window has samples)."""
    url = "http://127.0.0.1:%d/api/v1/query?query=up%%7Bjob%%3D%%22%s%%22%%7D" % (prom_port, job)
    deadline = time.time() + timeout
    while time.time() < deadline:
        code, body = ns_http(ns, url)
        if code == 200:
            res = json.loads(body)["data"]["result"]
            if res and all(r["value"][1] == "1" for r in res):
                return
        time.sleep(0.5)
    raise RuntimeError("Prometheus never scraped the %s targets" % job)


def bench_cmd(python: str, *args: str) -> list[str]:
    return [python, "-m", "bench", *args]


def read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def url_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- GuideLLM (comparison runs)
GUIDELLM_VERSION = "0.8.1"
GUIDELLM_VENV = os.path.join(CACHE, "guidellm", GUIDELLM_VERSION, "venv")
GUIDELLM_INSTALL = "tests/perf/bench/install_guidellm.sh"


def guidellm_binary() -> str:
    p = os.path.join(GUIDELLM_VENV, "bin", "guidellm")
    if not os.path.isfile(p):
        raise RuntimeError("GuideLLM %s not installed; install it with: bash %s" % (GUIDELLM_VERSION, GUIDELLM_INSTALL))
    return p


def guidellm_tokenizer(workdir: str) -> str:
    """A local word-level tokenizer (make_tokenizer.py) built with GuideLLM's own Python."""
    out = os.path.join(workdir, "gl-tokenizer")
    if not os.path.isfile(os.path.join(out, "tokenizer.json")):
        subprocess.run(
            [os.path.join(GUIDELLM_VENV, "bin", "python"), os.path.join(os.path.dirname(__file__), "make_tokenizer.py"), out], check=True
        )
    return out


def run_guidellm(
    ns: Netns,
    workdir: str,
    target: str,
    model: str,
    profile: str,
    seconds: float,
    prompt_tokens: int,
    output_tokens: int,
    max_requests: int | None = None,
    name: str = "gl",
    extra: list[str] | None = None,
) -> dict:
    """One GuideLLM invocation in the namespace; returns its JSON report."""
    out = os.path.join(workdir, "%s-%d.json" % (name, int(time.time() * 1000)))
    argv = [
        guidellm_binary(),
        "run",
        "--backend",
        "kind=openai_http,target=%s,model=%s" % (target, model),
        "--profile",
        profile,
        "--constraint",
        "kind=max_duration,seconds=%g" % seconds,
        "--data",
        "kind=synthetic_text,prompt_tokens=%d,output_tokens=%d" % (prompt_tokens, output_tokens),
        "--tokenizer",
        "kind=huggingface_auto,model=%s" % guidellm_tokenizer(workdir),
        "--output",
        "kind=json,path=%s" % out,
        "--disable-console",
        *(extra or []),
    ]
    if max_requests:
        argv[argv.index("--data") : argv.index("--data")] = ["--constraint", "kind=max_requests,count=%d" % max_requests]
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GUIDELLM__LOGGING__CONSOLE_LOG_LEVEL="WARNING"
    )
    r = ns.run(argv, capture_output=True, text=True, env=env, timeout=900)
    if r.returncode != 0 or not os.path.isfile(out):
        raise RuntimeError("guidellm failed (%d):\n%s\n%s" % (r.returncode, r.stdout[-2000:], r.stderr[-3000:]))
    return read_json(out)


def guidellm_stat(bench: dict, metric: str, stat: str = "median", which: str = "successful"):
    return bench["metrics"][metric][which][stat]
