"""Real request-path pieces for the serving tests and the LiteLLM overhead figure:
a private network namespace (only ``lo``), llm-d-inference-sim standing in for the engine
behind the gateway, and a real LiteLLM proxy on a real PostgreSQL (the litellm-offline kit).

llm-d-inference-sim v0.10.2 binds ``:port`` (no listen-address flag), so the simulator, the
proxy, its PostgreSQL and every client run inside a namespace that has only loopback: all
traffic stays on 127.0.0.1 of that namespace. Every process is started and stopped by PID.

The kit is installed ONCE per machine into $LLM_PLATFORM_CACHE/litellm-offline/<version>
(its setup.sh, under a lock; reused when present). Each test run makes its own instance
directory that links the shared venv and engine stand-in and owns its PostgreSQL cluster and
ports, so several suites (and other engineers' proxies) never share a database or a pid file."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "unit", "serving"))
from serving_render import CACHE, load_models  # noqa: E402

from ansible_collections.llm.platform.plugins.filter.models import litellm_model_list  # noqa: E402

LITELLM_VERSION = "1.108.7"
SIM_VERSION = "v0.10.2"
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
MASTER_KEY = "sk-serving-test-master-key"


def kit_dir():
    """The litellm-offline kit (shared/ beside the checkout; /work/shared in a session)."""
    for cand in (
        os.environ.get("LITELLM_OFFLINE_KIT", ""),
        os.path.join(REPO, "..", "shared", "litellm-offline"),
        "/work/shared/litellm-offline",
    ):
        if cand and os.path.isfile(os.path.join(cand, "setup.sh")):
            return os.path.abspath(cand)
    raise RuntimeError("litellm-offline kit not found (set LITELLM_OFFLINE_KIT)")


def kit_install():
    """$LLM_PLATFORM_CACHE/litellm-offline/<version>, installed with the kit's setup.sh once."""
    base = os.path.join(CACHE, "litellm-offline")
    prefix = os.path.join(base, LITELLM_VERSION)
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (os.path.isfile(os.path.join(prefix, "env.sh")) and os.access(os.path.join(prefix, "venv", "bin", "litellm"), os.X_OK)):
            subprocess.run(["bash", os.path.join(kit_dir(), "setup.sh"), prefix], check=True)
    return prefix


def sim_binary():
    for cand in (
        os.environ.get("SERVING_SIM_BIN", ""),
        os.path.join(CACHE, "bin", "llm-d-inference-sim-%s" % SIM_VERSION, "llm-d-inference-sim"),
        os.path.join(CACHE, "bin", "llm-d-inference-sim"),
    ):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("llm-d-inference-sim %s not built (lab/build.sh llm-d-inference-sim)" % SIM_VERSION)


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Netns:
    """A network namespace with only loopback up (needs root, as CI has)."""

    def __init__(self, prefix="serving"):
        self.name = "%s-%d-%d" % (prefix, os.getpid(), int(time.time() * 1000) % 100000)

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"], check=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], check=False)

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv, **kw):
        return subprocess.run(self.cmd(argv), **kw)  # noqa: PLW1510 (callers pass check)


class Proc:
    """A background process in the namespace; stopped by PID (TERM, then KILL)."""

    def __init__(self, ns, argv, log, env=None):
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

    def tail(self, n=3000):
        with open(self.log, "rb") as fh:
            return fh.read()[-n:].decode("utf-8", "replace")


def ns_request(ns, method, url, body=None, headers=None, timeout=30):
    """One HTTP call from inside the namespace (python urllib in a child): (status, json|text)."""
    code = (
        "import json,sys,urllib.request,urllib.error\n"
        "a=json.loads(sys.argv[1])\n"
        "data=None if a['body'] is None else json.dumps(a['body']).encode()\n"
        "r=urllib.request.Request(a['url'],data=data,method=a['method'],headers=dict(a['headers'],**{'Content-Type':'application/json'}))\n"
        "try:\n  resp=urllib.request.urlopen(r,timeout=a['timeout']); s=resp.status; b=resp.read()\n"
        "except urllib.error.HTTPError as e:\n  s=e.code; b=e.read()\n"
        "except Exception as e:\n  s=0; b=str(e).encode()\n"
        "print(json.dumps({'status':s,'body':b.decode('utf-8','replace')}))\n"
    )
    arg = json.dumps({"method": method, "url": url, "body": body, "headers": headers or {}, "timeout": timeout})
    out = ns.run([sys.executable, "-c", code, arg], capture_output=True, text=True, check=True).stdout
    res = json.loads(out)
    try:
        return res["status"], json.loads(res["body"])
    except ValueError:
        return res["status"], res["body"]


def wait_http(ns, url, proc, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.p.poll() is not None:
            raise RuntimeError("process exited while starting:\n" + proc.tail())
        status, _ = ns_request(ns, "GET", url, timeout=3)
        if status == 200:
            return
        time.sleep(0.5)
    raise RuntimeError("%s not ready after %ss:\n%s" % (url, timeout, proc.tail() if proc else ""))


def served_names(models):
    return sorted({m["served_name"] for m in models})


def start_sim(ns, port, workdir, models, ttft="0ms", itl="0ms", max_num_seqs=64):
    """The simulator answers to every served name (standing in for gateway + engine)."""
    names = served_names(models)
    argv = [
        sim_binary(),
        "--port",
        str(port),
        "--model",
        names[0],
        "--served-model-name",
        *names,
        "--force-dummy-tokenizer",
        "--mode",
        "random",
        "--time-to-first-token",
        ttft,
        "--inter-token-latency",
        itl,
        "--max-num-seqs",
        str(max_num_seqs),
        "--max-model-len",
        "8192",
        "--seed",
        "42",
    ]
    proc = Proc(ns, argv, os.path.join(workdir, "sim.log"))
    wait_http(ns, "http://127.0.0.1:%d/v1/models" % port, proc)
    return proc


def litellm_config(models, api_base):
    """The proxy config: the GENERATED model_list (the collection's filter), pointed at api_base."""
    return {
        "model_list": litellm_model_list(models, api_base=api_base),
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY", "database_url": "os.environ/DATABASE_URL"},
        "litellm_settings": {"telemetry": False, "drop_params": True},
    }


class LiteLLM:
    """A private instance of the shared kit install: own PostgreSQL cluster, own ports."""

    def __init__(self, ns, workdir, models, api_base, port=None, pg_port=None):
        self.ns, self.models = ns, models
        self.port = port or free_port()
        self.pg_port = pg_port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.kit = kit_dir()
        shared = kit_install()
        self.prefix = tempfile.mkdtemp(prefix="litellm-", dir=workdir)
        os.chmod(self.prefix, 0o755)  # noqa: S103 (postgres must enter it; contents are test data)
        for name in ("venv", "engine-shim", "prisma-home"):
            os.symlink(os.path.join(shared, name), os.path.join(self.prefix, name))
        with open(os.path.join(shared, "env.sh"), encoding="utf-8") as fh:
            env_sh = fh.read().replace(shared, self.prefix)
        self.database_url = "postgresql://litellm:litellm@127.0.0.1:%d/litellm" % self.pg_port
        env_sh = re.sub(r"(?m)^export LITELLM_OFFLINE_PGPORT=.*$", 'export LITELLM_OFFLINE_PGPORT="%d"' % self.pg_port, env_sh)
        env_sh = re.sub(r"(?m)^export DATABASE_URL=.*$", 'export DATABASE_URL="%s"' % self.database_url, env_sh)
        with open(os.path.join(self.prefix, "env.sh"), "w", encoding="utf-8") as fh:
            fh.write(env_sh)
        self.config = os.path.join(self.prefix, "config.yaml")
        with open(self.config, "w", encoding="utf-8") as fh:
            yaml.safe_dump(litellm_config(models, api_base), fh, sort_keys=False)
        self._pg()
        self._start()

    def _as_pg(self, argv):
        return self.ns.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, text=True)

    def _pg(self):
        pg = os.path.join(self.prefix, "pg")
        os.makedirs(pg)
        shutil.chown(pg, "postgres", "postgres")
        self._as_pg([os.path.join(PG_BIN, "initdb"), "-D", os.path.join(pg, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        self._as_pg(
            [
                os.path.join(PG_BIN, "pg_ctl"),
                "-D",
                os.path.join(pg, "data"),
                "-l",
                os.path.join(pg, "server.log"),
                "-o",
                "-c listen_addresses=127.0.0.1 -p %d -k %s" % (self.pg_port, pg),
                "-w",
                "start",
            ]
        )
        psql = ["psql", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres"]
        self.ns.run(
            [*psql, "-c", "CREATE USER litellm WITH PASSWORD 'litellm'", "-c", "CREATE DATABASE litellm OWNER litellm"],
            check=True,
            capture_output=True,
        )
        python = os.path.join(self.prefix, "venv", "bin", "python")
        self.ns.run(["bash", os.path.join(self.kit, "apply_migrations.sh"), self.database_url, python], check=True, capture_output=True)

    def _start(self):
        env = dict(os.environ, LITELLM_MASTER_KEY=MASTER_KEY, UPSTREAM_API_KEY="sk-upstream-shared", START_TIMEOUT="240")
        res = self.ns.run(
            ["bash", os.path.join(self.kit, "start.sh"), self.prefix, self.config, str(self.port)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            log = os.path.join(self.prefix, "proxy.log")
            tail = open(log, encoding="utf-8", errors="replace").read()[-3000:] if os.path.exists(log) else ""  # noqa: SIM115
            self.stop()
            raise RuntimeError("LiteLLM did not start: %s\n%s" % (res.stderr[-2000:], tail))

    def stop(self):
        subprocess.run(["bash", os.path.join(self.kit, "stop.sh"), self.prefix], capture_output=True, check=False)

    # --- admin API helpers -------------------------------------------------------------
    def call(self, method, path, body=None, key=MASTER_KEY, timeout=60):
        return ns_request(self.ns, method, self.url + path, body, {"Authorization": "Bearer " + key}, timeout)

    def mint(self, model, budget, alias):
        status, body = self.call("POST", "/key/generate", {"models": [model], "max_budget": budget, "key_alias": alias})
        assert status == 200, body
        return body["key"]

    def chat(self, key, model, content="Reply with the single word: pong", max_tokens=16):
        return self.call(
            "POST",
            "/v1/chat/completions",
            {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": max_tokens},
            key=key,
        )

    def spend(self, key):
        status, body = self.call("GET", "/key/info?key=" + key)
        assert status == 200, body
        return float(body["info"]["spend"] or 0.0)


@contextlib.contextmanager
def request_path(models=None, sim_kwargs=None):
    """(ns, sim_url, litellm) for the three-model list; everything stopped afterwards."""
    models = models if models is not None else load_models()
    workdir = tempfile.mkdtemp(prefix="serving-path-")
    os.chmod(workdir, 0o755)  # noqa: S103 (the postgres user must enter it)
    with Netns() as ns:
        sim_port = free_port()
        sim = start_sim(ns, sim_port, workdir, models, **(sim_kwargs or {}))
        proxy = None
        try:
            proxy = LiteLLM(ns, workdir, models, "http://127.0.0.1:%d/v1" % sim_port)
            yield ns, "http://127.0.0.1:%d" % sim_port, proxy
        finally:
            if proxy is not None:
                proxy.stop()
            sim.stop()
    shutil.rmtree(workdir, ignore_errors=True)
