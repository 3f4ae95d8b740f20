"""Install (once, cached), start and stop a real LiteLLM 1.108.7 + PostgreSQL from the
shared offline kit, for the integration tests and the tenants benchmark.

Install prefix: $LLM_PLATFORM_CACHE/litellm-offline/<version> (never inside the repo).
The kit is found at $LITELLM_OFFLINE_KIT or ../shared/litellm-offline beside the repo.
Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
VERSION = "1.108.7"
PG_PORT = int(os.environ.get("LLMP_LITELLM_PG_PORT", "55433"))
CONFIG = os.path.join(HERE, "config.yaml")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def cache_dir():
    base = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "llm-platform"
    )
    return os.path.join(base, "litellm-offline")


def kit_dir():
    kit = os.environ.get("LITELLM_OFFLINE_KIT") or os.path.join(REPO_ROOT, "..", "shared", "litellm-offline")
    return os.path.abspath(kit)


def prefix():
    return os.path.join(cache_dir(), VERSION)


def make_traversable(path):
    """As root the kit runs Postgres as `postgres`, who must be able to enter the prefix."""
    _installer().make_traversable(path)


def install(log=print):
    """The kit install (cached): the project's one installer, lab/litellm_install.py. The tests
    need the kit's start/stop scripts, so the kit must be present."""
    pre = prefix()
    if os.path.exists(os.path.join(pre, ".complete")):
        make_traversable(pre)
        return pre
    if not os.path.isdir(kit_dir()):
        raise RuntimeError("LiteLLM offline kit not found at %s (set LITELLM_OFFLINE_KIT)" % kit_dir())
    log("installing LiteLLM %s into %s (about 2 minutes, once)" % (VERSION, pre))
    os.environ.setdefault("LITELLM_OFFLINE_KIT", kit_dir())
    return _installer().ensure()


def _installer():
    import importlib.util

    spec = importlib.util.spec_from_file_location("litellm_install", os.path.join(REPO_ROOT, "lab", "litellm_install.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg(cmd):
    """Run a PostgreSQL server command as `postgres` when root (postgres refuses root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True)


def session_prefix(log=print):
    """A private prefix for one test session or benchmark: the cached install's venv,
    engine stand-in and Prisma CLI (symlinked) with its own PostgreSQL cluster on a free
    port, so concurrent sessions never share a proxy or a database."""
    base = install(log)
    for old in os.listdir(cache_dir()):  # leftovers of crashed sessions, after a day
        path = os.path.join(cache_dir(), old)
        if old.startswith("session-") and time.time() - os.path.getmtime(path) > 86400:
            subprocess.run(["bash", os.path.join(kit_dir(), "stop.sh"), path], check=False, capture_output=True)
            shutil.rmtree(path, ignore_errors=True)
    pre = tempfile.mkdtemp(prefix="session-", dir=cache_dir())
    make_traversable(pre)  # o+x so that `postgres` can enter it
    for name in ("venv", "engine-shim", "prisma-home"):
        os.symlink(os.path.join(base, name), os.path.join(pre, name))
    pg_port = free_port()
    with open(os.path.join(base, "env.sh")) as f:
        env_sh = f.read()
    env_sh = env_sh.replace(base, pre)
    env_sh = re.sub(r'LITELLM_OFFLINE_PGPORT="\d+"', 'LITELLM_OFFLINE_PGPORT="%d"' % pg_port, env_sh)
    env_sh = re.sub(r"@127\.0\.0\.1:\d+/litellm", "@127.0.0.1:%d/litellm" % pg_port, env_sh)
    with open(os.path.join(pre, "env.sh"), "w") as f:
        f.write(env_sh)
    pg = os.path.join(pre, "pg")
    os.makedirs(pg)
    if os.geteuid() == 0:
        shutil.chown(pg, "postgres", "postgres")
    _as_pg([os.path.join(PG_BIN, "initdb"), "-D", os.path.join(pg, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    subprocess.run(["bash", os.path.join(kit_dir(), "pg_start.sh"), pre], check=True, capture_output=True)
    psql = ["psql", "-q", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres"]
    subprocess.run([*psql, "-c", "CREATE USER litellm WITH PASSWORD 'litellm'"], check=True, capture_output=True)
    subprocess.run([*psql, "-c", "CREATE DATABASE litellm OWNER litellm"], check=True, capture_output=True)
    db_url = "postgresql://litellm:litellm@127.0.0.1:%d/litellm" % pg_port
    subprocess.run(
        ["bash", os.path.join(kit_dir(), "apply_migrations.sh"), db_url, os.path.join(pre, "venv", "bin", "python")],
        check=True,
        capture_output=True,
    )
    return pre, pg_port


class LiteLLM:
    """A running proxy: url, master_key, db_url; ``psql(sql)`` runs SQL against its database.

    Each instance has its own session prefix (own PostgreSQL, own pid files), removed on ``stop()``.
    """

    def __init__(self, port=None, fake_port=None, master_key=None):
        self.prefix, self.pg_port = session_prefix()
        self.port = port or free_port()
        self.fake_port = fake_port or free_port()
        self.master_key = master_key or "sk-llmp-test-" + secrets.token_hex(12)
        self.url = "http://127.0.0.1:%d" % self.port
        self.db_url = "postgresql://litellm:litellm@127.0.0.1:%d/litellm" % self.pg_port
        self.started = False

    def env(self):
        env = dict(os.environ)
        env.update(
            LITELLM_MASTER_KEY=self.master_key,
            LITELLM_PORT=str(self.port),
            FAKE_OPENAI_PORT=str(self.fake_port),
            FAKE_OPENAI_API_BASE="http://127.0.0.1:%d/v1" % self.fake_port,
            START_FAKE_OPENAI="1",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        return env

    def start(self):
        subprocess.run(["bash", os.path.join(kit_dir(), "start.sh"), self.prefix, CONFIG, str(self.port)], check=True, env=self.env())
        self.started = True
        return self

    def stop(self, remove=True):
        """Stop the proxy, the fake backend and PostgreSQL (the kit's stop.sh); remove the prefix."""
        subprocess.run(["bash", os.path.join(kit_dir(), "stop.sh"), self.prefix], check=False, env=self.env())
        self.started = False
        if remove:
            shutil.rmtree(self.prefix, ignore_errors=True)

    def kill_proxy(self):
        """Stop the proxy process alone (fault tests); start() brings it back."""
        pidfile = os.path.join(self.prefix, "proxy.pid")
        with open(pidfile) as f:
            pid = int(f.read().strip())
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], check=False, capture_output=True, text=True).stdout.split()
        os.kill(pid, 15)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        for c in children:
            with contextlib.suppress(OSError):
                os.kill(int(c), 15)
        os.remove(pidfile)
        fpid = os.path.join(self.prefix, "fake_openai.pid")
        if os.path.exists(fpid):
            with open(fpid) as f, contextlib.suppress(OSError, ValueError):
                os.kill(int(f.read().strip()), 15)
            os.remove(fpid)

    def psql(self, sql):
        """Rows of a query as lists of strings (psql -tA, '|' separated)."""
        out = subprocess.run(
            [shutil.which("psql") or "psql", self.db_url, "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def reset_db(self):
        """Empty LiteLLM's tenant tables (teams, keys, budgets, spend): an empty LiteLLM."""
        tables = [
            "LiteLLM_VerificationToken",
            "LiteLLM_DeletedVerificationToken",
            "LiteLLM_TeamMembership",
            "LiteLLM_TeamTable",
            "LiteLLM_DeletedTeamTable",
            "LiteLLM_EndUserTable",
            "LiteLLM_BudgetTable",
            "LiteLLM_SpendLogs",
            "LiteLLM_AuditLog",
        ]
        present = {r[0] for r in self.psql("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        names = ", ".join('"%s"' % t for t in tables if t in present)
        self.psql("TRUNCATE %s CASCADE" % names)

    def api(self, method, path, body=None, key=None, timeout=30):
        """(status, json) of one call with the master key (or ``key``)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310 - http://127.0.0.1 only
        req.add_header("Authorization", "Bearer " + (key or self.master_key))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")


if __name__ == "__main__":  # manual use: python litellm_offline.py install
    import sys

    if sys.argv[1:] == ["install"]:
        print(install())
